"""Spoken lines kept on disk, so that a song sung again (another seed, style, key or voice;
a batch of variants of one lyric) does not speak its lines again.

Kokoro speaks a Mandarin line in about 1.5 CPU-seconds, three quarters of the singer's time
for a Mandarin song; read back from here, a line takes about a millisecond, and a song whose
lines are all here does not load the model at all (benchmarks/FINDINGS.md, "Spoken lines kept
on disk"). The model gives the same samples on any number of threads, so a line read back is
the line it would speak: the song's bytes are the same either way.

- **Where:** ``$SONGWRIGHT_SPEECH_CACHE``, else ``$XDG_CACHE_HOME/songwright/speech`` (default
  ``~/.cache/songwright/speech``); ``off`` keeps nothing.
- **What:** one ``.npz`` file a line, named by a hash of everything the samples depend on (the
  model's inputs and SHA-256, onnxruntime's version, the CPU's kind, whose instruction set
  chooses onnxruntime's kernels), written atomically, so processes of a batch share the folder
  safely.
- **How much:** at most ``MAX_BYTES`` (about 450 Mandarin lines); past that the lines least
  recently used are removed.
- **Never in the way:** an unreadable entry is removed and the line spoken again; a folder that
  cannot be written (read-only, full) keeps nothing, with one warning.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform
import threading
from pathlib import Path

import numpy as np

from representations.atomic import atomic_path

STORE_ENV = "SONGWRIGHT_SPEECH_CACHE"
OFF = ("off", "none", "0", "false", "no")
MAX_BYTES = 256 * 1024 * 1024
FORMAT = 1  # bumped when what an entry holds changes

log = logging.getLogger(__name__)


def store_dir() -> Path | None:
    """The folder spoken lines are kept in, or None when ``$SONGWRIGHT_SPEECH_CACHE`` is off."""
    value = os.environ.get(STORE_ENV, "").strip()
    if value.lower() in OFF:
        return None
    if value:
        return Path(value).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "songwright" / "speech"


def entry_name(*parts: bytes | str) -> str:
    """A file name for a line: the hash of every part its samples depend on, and of the CPU's
    kind."""
    h = hashlib.sha256(f"{FORMAT}\0{machine_kind()}".encode())
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else bytes(part)
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()[:40] + ".npz"


@functools.lru_cache(maxsize=1)
def machine_kind() -> str:
    """The CPU's architecture and (on Linux) its instruction-set flags."""
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            flags = next((line for line in f if line.startswith(("flags", "Features"))), "")
    except OSError:
        pass
    return f"{platform.machine()} {' '.join(sorted(flags.partition(':')[2].split()))}"


class SpeechStore:
    """Arrays kept by name in ``folder`` (at most ``max_bytes``; the least recently used go)."""

    def __init__(self, folder: Path, *, max_bytes: int = MAX_BYTES):
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._size: int | None = None  # bytes in the folder, counted on the first save
        self._broken = False

    def load(self, name: str) -> dict[str, np.ndarray] | None:
        """The arrays saved as ``name``, or None (not there, or unreadable: then removed)."""
        path = self.folder / name
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError:
            return None
        except Exception:  # truncated, not an npz, unreadable: speak the line again
            self._remove(path)
            return None
        try:
            os.utime(path)  # recently used
        except OSError:
            pass
        return arrays

    def save(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Keep ``arrays`` as ``name`` (atomically), then trim the folder to ``max_bytes``."""
        if self._broken:
            return
        path = self.folder / name
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **arrays)
            size = path.stat().st_size
        except OSError as e:
            self._broken = True
            log.warning("spoken lines are not kept in %s: %s", self.folder, e)
            return
        with self._lock:
            self._size = self._folder_size() if self._size is None else self._size + size
            if self._size > self.max_bytes:
                self._size = self._trim()

    def _folder_size(self) -> int:
        return sum(e.stat().st_size for e in self._entries())

    def _entries(self) -> list[os.DirEntry]:
        try:
            return [e for e in os.scandir(self.folder) if e.name.endswith(".npz") and not e.name.startswith(".") and e.is_file()]
        except OSError:
            return []

    def _trim(self) -> int:
        """Remove the least recently used entries until the folder holds at most 3/4 of
        ``max_bytes`` (so that it is not trimmed at every save); its size after."""
        entries = []
        for e in self._entries():
            try:
                st = e.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, e.path))
        entries.sort()
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if total <= self.max_bytes * 3 // 4:
                break
            self._remove(Path(path))
            total -= size
        return total

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass


_STORES: dict[Path, SpeechStore] = {}


def speech_store() -> SpeechStore | None:
    """The store for ``store_dir()`` (one per folder in a process), or None when it is off."""
    folder = store_dir()
    if folder is None:
        return None
    store = _STORES.get(folder)
    if store is None:
        store = _STORES.setdefault(folder, SpeechStore(folder))
    return store
