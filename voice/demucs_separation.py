"""The ``"demucs"`` separator: vocals and accompaniment with a local Demucs checkpoint.

The checkpoint folder holds demucs' own Hugging Face layout (as published for ``htdemucs``):
``<name>.yaml`` listing the models of the bag (``models: [sig, ...]``, optional ``weights``
and ``segment``) and one ``<sig>.safetensors`` per model, whose metadata names the model class
(``demucs.htdemucs.HTDemucs``...) and its arguments. A folder of ``*.safetensors`` without a
yaml is taken as a bag of all of them. Only demucs' own model classes are loaded, and never a
pickle (``.th``) file. ``vocals`` is the model's vocals source, ``accompaniment`` the sum of the others.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np

from pipeline.models import (check_safetensors, import_offline, load_failure, package_missing, require_checkpoint,
                             set_offline, torch_device)
from representations.audio import Audio
from representations.errors import BackendUnavailable

from .separation_base import SEPARATORS, Separator

EXPECTS = ("demucs' Hugging Face layout (<name>.yaml with 'models: [SIG, ...]' and one SIG.safetensors per model, "
           "e.g. the files of the adefossez/HTDemucs repository; DemucsSeparator.make_tiny(folder) writes a tiny one)")
BACKEND = "demucs separator"


def _bag_files(folder: Path) -> tuple[list[Path], list | None, float | None]:
    import yaml

    yamls = sorted(folder.glob("*.yaml"))
    if not yamls:
        return sorted(folder.glob("*.safetensors")), None, None
    try:
        bag = yaml.safe_load(yamls[0].read_text(encoding="utf-8"))
        sigs, weights, segment = bag["models"], bag.get("weights"), bag.get("segment")
        if not isinstance(sigs, list) or not sigs:
            raise ValueError("'models' must be a non-empty list")
    except (yaml.YAMLError, OSError, KeyError, TypeError, ValueError) as e:
        raise BackendUnavailable(f"{BACKEND}: {yamls[0]} is not a demucs bag file ({' '.join(str(e).split())}); "
                                 f"put {EXPECTS} there") from None
    return [folder / f"{s}.safetensors" for s in sigs], weights, segment


@SEPARATORS.register("demucs")
class DemucsSeparator(Separator):
    """Vocal / accompaniment separation with Demucs (see the module docstring).

    Parameters
    ----------
    checkpoint : str or Path, optional
        The checkpoint folder; default: the ``"demucs"`` entry found by :mod:`pipeline.models`.
    overlap : float
        Overlap of the segments the song is cut into (0..1).
    """

    name = "demucs"

    def __init__(self, *, checkpoint: str | Path | None = None, models: dict | None = None, base_dir=None,
                 device: str | None = None, overlap: float = 0.25):
        if not 0 <= overlap < 1:
            raise ValueError(f"overlap {overlap} is not valid (valid: 0 to below 1)")
        self.checkpoint, self.models, self.base_dir = checkpoint, models, base_dir
        self.device, self.overlap = device, overlap
        self._loaded = None

    def folder(self) -> tuple[Path, list[Path], list | None, float | None]:
        folder = require_checkpoint("demucs", backend=BACKEND, expects=EXPECTS, models=self.models,
                                    base_dir=self.base_dir, checkpoint=self.checkpoint)
        files, weights, segment = _bag_files(folder)
        missing = [f.name for f in files if not f.is_file()]
        if not files or missing:
            raise BackendUnavailable(f"{BACKEND}: checkpoint {folder} lacks {', '.join(missing) or '*.safetensors'}; "
                                     f"put {EXPECTS} there")
        for f in files:
            meta = check_safetensors(f, backend=BACKEND, expects=EXPECTS).get("__metadata__", {})
            if not str(meta.get("klass", "")).startswith("demucs."):
                raise BackendUnavailable(f"{BACKEND}: {f} does not name a demucs model class in its metadata "
                                         f"(klass {meta.get('klass')!r}); put {EXPECTS} there")
        return folder, files, weights, segment

    def check(self) -> str:
        if (missing := package_missing("torch", "demucs")):
            raise BackendUnavailable(f"{BACKEND}: needs the Python package {missing!r} (pip install demucs)")
        return f"checkpoint {self.folder()[0]}"

    def _model(self):
        if self._loaded is None:
            folder, files, weights, segment = self.folder()
            set_offline()
            import_offline("demucs.hf", backend=BACKEND)
            from demucs.apply import BagOfModels
            from demucs.hf import load_safetensors_model

            try:
                models = [load_safetensors_model(f) for f in files]
                bag = BagOfModels(models, weights, segment)
                if "vocals" not in bag.sources:
                    raise ValueError(f"sources {bag.sources} have no 'vocals'")
            except Exception as e:  # demucs and torch raise many types for a bad checkpoint
                raise load_failure(e, backend=BACKEND, folder=folder, expects=EXPECTS) from None
            device = torch_device(self.device)
            self._loaded = (bag.to(device).eval(), device)
        return self._loaded

    def separate(self, audio: Audio) -> dict[str, Audio]:
        """``{"vocals", "accompaniment"}``, each with ``audio``'s sample rate, channels and length."""
        import torch
        from demucs.apply import apply_model

        from renderers.repaint import resample

        bag, device = self._model()
        n, ch = audio.samples.shape
        x = resample(audio.samples, audio.sample_rate, bag.samplerate)
        x = np.repeat(x.mean(axis=1, keepdims=True), bag.audio_channels, axis=1) if ch != bag.audio_channels else x
        wav = torch.from_numpy(np.ascontiguousarray(x.T))[None]
        ref = wav.mean(dim=1)
        mean, std = ref.mean(), ref.std().clamp_min(1e-8)
        with torch.no_grad():
            out = apply_model(bag, (wav - mean) / std, shifts=0, split=True, overlap=self.overlap, progress=False,
                              device=device)[0]
        out = (out * std + mean).cpu().numpy()
        v = bag.sources.index("vocals")
        parts = {"vocals": out[v], "accompaniment": out.sum(axis=0) - out[v]}
        result = {}
        for name, y in parts.items():
            y = resample(y.T.astype(np.float32), bag.samplerate, audio.sample_rate)
            y = y if ch == y.shape[1] else np.repeat(y.mean(axis=1, keepdims=True), ch, axis=1)
            fitted = np.zeros((n, ch), np.float32)
            fitted[: min(n, len(y))] = y[:n]
            result[name] = Audio(fitted, audio.sample_rate)
        return result

    @staticmethod
    def make_tiny(folder: str | Path, *, seed: int = 0) -> Path:
        """Write a tiny random HTDemucs (depth 2, 16 channels, 2 transformer layers, 16 kHz) as a bag."""
        import torch

        import_offline("demucs", backend=BACKEND)
        from demucs.htdemucs import HTDemucs
        from safetensors.torch import save_file

        kwargs = dict(sources=["drums", "bass", "other", "vocals"], audio_channels=2, channels=16, depth=2, nfft=512,
                      t_layers=2, t_heads=2, t_hidden_scale=1.0, dconv_depth=1, dconv_comp=4, segment=Fraction(2),
                      samplerate=16000, norm_starts=1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = HTDemucs(**kwargs)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        enc = {k: ({"_type": "fraction", "numerator": v.numerator, "denominator": v.denominator}
                   if isinstance(v, Fraction) else v) for k, v in kwargs.items()}
        meta = {"klass": "demucs.htdemucs.HTDemucs", "args": "[]", "kwargs": json.dumps(enc)}
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "tiny0.safetensors"),
                  metadata=meta)
        (folder / "tiny.yaml").write_text("models: [tiny0]\n")
        return folder
