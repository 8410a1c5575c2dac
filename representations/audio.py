"""Audio buffers and sets of stems, with WAV I/O.

Samples are float32 arrays of shape ``(n_samples, n_channels)`` in [-1, 1]; files are 16-bit PCM
WAV written atomically, so the same samples always give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .errors import AudioInputError


@dataclass
class Audio:
    samples: np.ndarray
    sample_rate: int

    def __post_init__(self):
        s = np.asarray(self.samples, dtype=np.float32)
        if s.ndim == 1:
            s = s[:, None]
        if s.ndim != 2:
            raise ValueError(f"audio samples must be (n_samples, n_channels), got shape {s.shape}")
        self.samples = s

    @property
    def n_channels(self) -> int:
        return self.samples.shape[1]

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1)

    def save(self, path: str | Path, subtype: str = "PCM_16") -> None:
        import soundfile as sf

        with atomic_path(path) as tmp:
            sf.write(str(tmp), np.clip(self.samples, -1.0, 1.0), self.sample_rate, subtype=subtype, format="WAV")

    @classmethod
    def load(cls, path: str | Path) -> "Audio":
        import soundfile as sf

        try:
            data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        except Exception as e:  # soundfile raises several types for unreadable input
            raise AudioInputError(f"{path}: cannot read audio ({str(e).splitlines()[0]})") from None
        return cls(data, sr)


@dataclass
class StemSet:
    """Per-instrument audio, all at one sample rate and one length."""

    stems: dict[str, Audio] = field(default_factory=dict)

    def __post_init__(self):
        rates = {a.sample_rate for a in self.stems.values()}
        if len(rates) > 1:
            raise ValueError(f"stems have different sample rates: {sorted(rates)}")

    @property
    def sample_rate(self) -> int:
        return next(iter(self.stems.values())).sample_rate

    def sum(self) -> Audio:
        """The plain sum of all stems (no processing)."""
        n = max(a.samples.shape[0] for a in self.stems.values())
        out = np.zeros((n, 2), dtype=np.float32)
        for a in self.stems.values():
            out[: a.samples.shape[0]] += a.samples if a.n_channels == 2 else np.repeat(a.samples, 2, axis=1)
        return Audio(out, self.sample_rate)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, audio in self.stems.items():
            audio.save(folder / f"{name}.wav")

    @classmethod
    def load(cls, folder: str | Path) -> "StemSet":
        return cls({p.stem: Audio.load(p) for p in sorted(Path(folder).glob("*.wav"))})
