"""Where neural backends find their checkpoints, and loading them offline.

Checkpoints come from local folders only, looked up by name (``"llm"``, ``"musicgen"``,
``"diffusion"``, ``"demucs"``) in this order:

1. the spec's ``models:`` section (``models: {llm: /data/leadsheet-llm}``; a relative path is
   taken from the spec file's folder);
2. ``$SONGWRIGHT_MODELS_DIR/<name>``;
3. the config file ``~/.config/songwright/models.yaml`` (``$XDG_CONFIG_HOME`` is honoured): a
   mapping ``name: folder``, and optionally ``models_dir: folder`` holding ``<name>`` folders.

Nothing here downloads: :func:`set_offline` sets ``HF_HUB_OFFLINE=1`` and
``TRANSFORMERS_OFFLINE=1`` before transformers or diffusers is imported, and every load passes
``local_files_only=True``. A missing or broken checkpoint becomes one
:class:`~representations.errors.BackendUnavailable` line naming the folder and what belongs there.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from representations.errors import BackendUnavailable

MODELS_ENV = "SONGWRIGHT_MODELS_DIR"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1"}


def config_path() -> Path:
    """The models config file: ``$XDG_CONFIG_HOME/songwright/models.yaml`` (default ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "songwright" / "models.yaml"


def set_offline() -> None:
    """Forbid hub downloads: the offline variables, also in an already imported huggingface_hub."""
    os.environ.update(OFFLINE_ENV)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # imported before: its flag was read from the environment then
        constants.HF_HUB_OFFLINE = True


def import_offline(module: str, *, backend: str):
    """Import a heavy package (``"transformers"``, ``"diffusers"``...) with the offline variables set.

    Raises
    ------
    BackendUnavailable
        When the package is not installed or fails to import.
    """
    set_offline()
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise BackendUnavailable(f"{backend}: needs the Python package {module.split('.')[0]!r}, which cannot be "
                                 f"imported here ({_first_line(e)}); install it into the environment") from None


def package_missing(*modules: str) -> str | None:
    """The first of ``modules`` that is not installed (found without importing it), else None."""
    for m in modules:
        if importlib.util.find_spec(m) is None:
            return m
    return None


def torch_device(device: str | None = None) -> str:
    """``device`` if given, else ``"cuda"`` when a GPU is usable, else ``"cpu"``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Lookup:
    """Result of looking a checkpoint up: the folder found (or None), where it came from, and
    every place that was tried (for the error message)."""

    name: str
    path: Path | None
    source: str
    tried: tuple[str, ...]

    @property
    def suggestion(self) -> str:
        """Where a user should put the checkpoint when nothing was found."""
        env = os.environ.get(MODELS_ENV)
        return str(Path(env) / self.name) if env else f"a folder FOLDER/{self.name} and set {MODELS_ENV}=FOLDER"


def read_config() -> dict:
    path = config_path()
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as e:
        raise BackendUnavailable(f"{path}: cannot read the models config ({_first_line(e)}; valid: a YAML mapping "
                                 f"'name: folder', optionally 'models_dir: folder')") from None
    if not isinstance(data, dict):
        raise BackendUnavailable(f"{path}: the models config must be a YAML mapping 'name: folder' "
                                 f"(got {type(data).__name__})")
    return data


def locate(name: str, *, models: dict | None = None, base_dir: str | Path | None = None) -> Lookup:
    """Look up the checkpoint folder ``name`` (see the module docstring for the order).

    An entry that names a folder explicitly (spec or config file) is final even when the folder
    is missing, so the error points at it; ``$SONGWRIGHT_MODELS_DIR/<name>`` is only used if it exists.
    """
    tried = []
    if models and name in models:
        p = Path(os.path.expanduser(str(models[name])))
        if not p.is_absolute() and base_dir is not None:
            p = Path(base_dir) / p
        return Lookup(name, p, f"the spec's models: {name}", (f"spec models: {name} -> {p}",))
    tried.append("spec models: (no entry)")
    env = os.environ.get(MODELS_ENV)
    if env:
        p = Path(os.path.expanduser(env)) / name
        if p.exists():
            return Lookup(name, p, f"${MODELS_ENV}", (f"${MODELS_ENV}/{name} -> {p}",))
        tried.append(f"{p} (${MODELS_ENV}/{name}: absent)")
    else:
        tried.append(f"${MODELS_ENV} (unset)")
    cfg = config_path()
    data = read_config()
    if name in data:
        p = Path(os.path.expanduser(str(data[name])))
        if not p.is_absolute():
            p = cfg.parent / p
        return Lookup(name, p, f"{cfg}: {name}", tuple(tried) + (f"{cfg}: {name} -> {p}",))
    if data.get("models_dir"):
        p = Path(os.path.expanduser(str(data["models_dir"]))) / name
        if p.exists():
            return Lookup(name, p, f"{cfg}: models_dir", tuple(tried) + (f"{cfg}: models_dir -> {p}",))
        tried.append(f"{p} ({cfg}: models_dir/{name}: absent)")
    else:
        tried.append(f"{cfg} ({'no entry ' + repr(name) if cfg.is_file() else 'absent'})")
    return Lookup(name, None, "", tuple(tried))


def require_checkpoint(name: str, *, backend: str, expects: str, models: dict | None = None,
                       base_dir: str | Path | None = None, checkpoint: str | Path | None = None) -> Path:
    """The checkpoint folder for ``backend``: ``checkpoint`` if given, else :func:`locate` ``name``.

    Raises
    ------
    BackendUnavailable
        One line: what was looked for, where, and ``expects`` (what to put there).
    """
    if checkpoint is not None:
        p = Path(os.path.expanduser(str(checkpoint)))
        where = f"checkpoint {p}"
    else:
        found = locate(name, models=models, base_dir=base_dir)
        if found.path is None:
            raise BackendUnavailable(
                f"{backend}: no checkpoint {name!r} (looked in: {'; '.join(found.tried)}); put {expects} in "
                f"{found.suggestion}, or name a folder in the spec (models: {{{name}: FOLDER}}) or in {config_path()}")
        p, where = found.path, found.source
    if not p.is_dir():
        raise BackendUnavailable(f"{backend}: checkpoint folder {p} (from {where}) does not exist; put {expects} there")
    return p


def require_files(folder: Path, names: list[str | tuple[str, ...]], *, backend: str, expects: str) -> None:
    """Every entry of ``names`` (a tuple: any one of its alternatives) must exist in ``folder``."""
    missing = []
    for entry in names:
        options = entry if isinstance(entry, tuple) else (entry,)
        if not any((folder / o).exists() for o in options):
            missing.append(" or ".join(options))
    if missing:
        raise BackendUnavailable(f"{backend}: checkpoint {folder} lacks {', '.join(missing)}; put {expects} there")


def check_safetensors(path: Path, *, backend: str, expects: str) -> dict:
    """Read and check a safetensors file's header (without loading tensors); returns it.

    Raises
    ------
    BackendUnavailable
        When the header is unreadable or a tensor's data lies beyond the end of the file.
    """
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if not 2 <= n <= min(size - 8, 100_000_000):
                raise ValueError(f"header length {n} for a file of {size} bytes")
            header = json.loads(f.read(n).decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
        end = 0
        for key, info in header.items():
            if key == "__metadata__":
                continue
            begin, stop = info["data_offsets"]
            end = max(end, stop)
        if 8 + n + end > size:
            raise ValueError(f"tensor data runs to byte {8 + n + end}, the file has {size}")
    except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError) as e:
        raise BackendUnavailable(f"{backend}: {path} is not a valid safetensors file ({_first_line(e)}); "
                                 f"put {expects} in {path.parent}") from None
    return header


def check_weights(folder: Path, *, backend: str, expects: str) -> list[Path]:
    """The safetensors files directly in ``folder`` (at least one), each header checked."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise BackendUnavailable(f"{backend}: checkpoint {folder} has no *.safetensors weights; put {expects} there")
    for f in files:
        check_safetensors(f, backend=backend, expects=expects)
    return files


def load_failure(exc: BaseException, *, backend: str, folder: Path, expects: str) -> BackendUnavailable:
    """One BackendUnavailable line for a checkpoint that failed to load (wrong shapes, bad config...)."""
    return BackendUnavailable(f"{backend}: cannot load the checkpoint in {folder} ({type(exc).__name__}: "
                              f"{_first_line(exc)}); put {expects} there")


def _first_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def spec_base_dir(spec) -> Path | None:
    """The folder of the spec file (for relative ``models:`` paths), if it came from a file."""
    src = getattr(spec, "source", None)
    if src and Path(src).is_file():
        return Path(src).resolve().parent
    return None


def backend_kwargs(registry, name: str, *, models: dict | None, base_dir=None) -> dict:
    """``models`` (and ``base_dir``) for backend ``name`` of ``registry`` if its constructor takes them."""
    import inspect

    if models is None or name not in registry.names():
        return {}
    params = inspect.signature(registry.factory(name)).parameters
    return {k: v for k, v in (("models", models), ("base_dir", base_dir)) if k in params and v is not None}
