"""Neural intermediate representations: discrete audio tokens and continuous latents.

:class:`AudioTokens` are codec codes (e.g. EnCodec's), ``codes[k, t]`` the index chosen by
codebook ``k`` at frame ``t``; :class:`Latents` are continuous frames (a normalised log-mel
spectrogram, or a VAE's latents) that a diffusion renderer or vocoder turns into audio. Both are
plain data: ``to_dict``/``from_dict`` (JSON-able) and ``save``/``load`` (``.npz``, written atomically).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_path

TOKENS_FORMAT = "songwright.audio_tokens/1"
LATENTS_FORMAT = "songwright.latents/1"


def _save_npz(path: str | Path, meta: dict, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)


def _load_npz(path: str | Path, fmt: str) -> tuple[dict, dict]:
    try:
        with np.load(str(path), allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{path}: not a saved {fmt} file ({' '.join(str(e).split())[:200]})") from None
    if meta.get("format") != fmt:
        raise ValueError(f"{path}: format {meta.get('format')!r} is not valid (valid: {fmt})")
    return meta, arrays


@dataclass
class AudioTokens:
    """Codec tokens of a piece of audio.

    Parameters
    ----------
    codes : ndarray of int, shape (n_codebooks, n_frames)
        Code indices, each in ``[0, codebook_size)``. Stereo codecs interleave the channels'
        codebooks (left 0, right 0, left 1, ...), as MusicGen's stereo checkpoints do.
    codec : str
        Name of the codec that decodes them (e.g. ``"encodec_32khz"``).
    frame_rate_hz : float
        Frames per second.
    sample_rate : int
        Sample rate (Hz) of the decoded audio.
    codebook_size : int
        Number of entries of every codebook.
    audio_channels : int
        Channels of the decoded audio (1 or 2).
    prompt : str
        The text the tokens were generated from, if any.
    """

    codes: np.ndarray
    codec: str
    frame_rate_hz: float
    sample_rate: int
    codebook_size: int
    audio_channels: int = 1
    prompt: str = ""

    def __post_init__(self):
        codes = np.asarray(self.codes)
        if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
            raise ValueError(f"audio token codes must be integers of shape (n_codebooks, n_frames), got "
                             f"{codes.dtype} {codes.shape}")
        self.codes = codes.astype(np.int64)
        if self.codebook_size < 1 or (codes.size and not (0 <= codes.min() and codes.max() < self.codebook_size)):
            raise ValueError(f"audio token codes must lie in [0, {self.codebook_size}), got "
                             f"[{codes.min() if codes.size else 0}, {codes.max() if codes.size else 0}]")
        if not self.frame_rate_hz > 0 or not self.sample_rate > 0:
            raise ValueError(f"frame rate {self.frame_rate_hz} Hz / sample rate {self.sample_rate} Hz must be > 0")
        if self.audio_channels not in (1, 2) or codes.shape[0] % self.audio_channels:
            raise ValueError(f"audio_channels {self.audio_channels} does not fit {codes.shape[0]} codebooks "
                             f"(valid: 1, or 2 with an even number of codebooks)")

    @property
    def n_codebooks(self) -> int:
        return self.codes.shape[0]

    @property
    def n_frames(self) -> int:
        return self.codes.shape[1]

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.frame_rate_hz

    def _meta(self) -> dict:
        return {"format": TOKENS_FORMAT, "codec": self.codec, "frame_rate_hz": self.frame_rate_hz,
                "sample_rate": self.sample_rate, "codebook_size": self.codebook_size,
                "audio_channels": self.audio_channels, "prompt": self.prompt}

    def to_dict(self) -> dict:
        return self._meta() | {"codes": self.codes.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "AudioTokens":
        if d.get("format") != TOKENS_FORMAT:
            raise ValueError(f"audio tokens format {d.get('format')!r} is not valid (valid: {TOKENS_FORMAT})")
        codes = np.asarray(d["codes"], dtype=np.int64).reshape(len(d["codes"]), -1)
        return cls(codes, d["codec"], float(d["frame_rate_hz"]), int(d["sample_rate"]), int(d["codebook_size"]),
                   int(d.get("audio_channels", 1)), d.get("prompt", ""))

    def save(self, path: str | Path) -> None:
        """Write ``path`` (``.npz``): the codes and a JSON header."""
        _save_npz(path, self._meta(), codes=self.codes)

    @classmethod
    def load(cls, path: str | Path) -> "AudioTokens":
        meta, arrays = _load_npz(path, TOKENS_FORMAT)
        return cls.from_dict(meta | {"codes": arrays["codes"]})


@dataclass
class Latents:
    """Continuous frames of a piece of audio.

    Parameters
    ----------
    values : ndarray of float32, shape (n_channels, n_bins, n_frames)
        The latents, time last. For ``kind="log-mel"``: ``n_bins`` mel bands scaled to [-1, 1]
        (``-1`` is ``params["db_range"]`` dB below the reference, ``+1`` the reference).
    kind : str
        ``"log-mel"`` or ``"vae"``.
    frame_rate_hz : float
        Frames per second.
    sample_rate : int
        Sample rate (Hz) of the audio they describe.
    params : dict
        Analysis parameters needed to decode them (n_fft, hop_length, fmin, fmax, db_range...).
    """

    values: np.ndarray
    kind: str
    frame_rate_hz: float
    sample_rate: int
    params: dict = field(default_factory=dict)

    KINDS = ("log-mel", "vae")

    def __post_init__(self):
        v = np.asarray(self.values, dtype=np.float32)
        if v.ndim != 3:
            raise ValueError(f"latents must have shape (n_channels, n_bins, n_frames), got {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("latents contain NaN or infinite values")
        self.values = v
        if self.kind not in self.KINDS:
            raise ValueError(f"latents kind {self.kind!r} is not valid (valid: {', '.join(self.KINDS)})")
        if not self.frame_rate_hz > 0 or not self.sample_rate > 0:
            raise ValueError(f"frame rate {self.frame_rate_hz} Hz / sample rate {self.sample_rate} Hz must be > 0")
        json.dumps(self.params)  # must stay JSON-able

    @property
    def n_frames(self) -> int:
        return self.values.shape[2]

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.frame_rate_hz

    def frame_of(self, t_s: float) -> int:
        """The frame index at ``t_s`` seconds (clipped to ``[0, n_frames]``)."""
        return int(min(self.n_frames, max(0, round(t_s * self.frame_rate_hz))))

    def _meta(self) -> dict:
        return {"format": LATENTS_FORMAT, "kind": self.kind, "frame_rate_hz": self.frame_rate_hz,
                "sample_rate": self.sample_rate, "params": self.params}

    def to_dict(self) -> dict:
        return self._meta() | {"shape": list(self.values.shape), "values": self.values.ravel().tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Latents":
        if d.get("format") != LATENTS_FORMAT:
            raise ValueError(f"latents format {d.get('format')!r} is not valid (valid: {LATENTS_FORMAT})")
        values = np.asarray(d["values"], dtype=np.float32).reshape(d["shape"])
        return cls(values, d["kind"], float(d["frame_rate_hz"]), int(d["sample_rate"]), dict(d.get("params", {})))

    def save(self, path: str | Path) -> None:
        """Write ``path`` (``.npz``): the values and a JSON header."""
        _save_npz(path, self._meta(), values=self.values)

    @classmethod
    def load(cls, path: str | Path) -> "Latents":
        meta, arrays = _load_npz(path, LATENTS_FORMAT)
        v = arrays["values"]
        return cls.from_dict(meta | {"shape": list(v.shape), "values": v.ravel()})
