"""Vocals out of a full mix, before voice conversion; the ``"repet"`` separator.

:func:`separate_vocals` uses the ``"demucs"`` separator (:mod:`voice.demucs_separation`) when a
local Demucs checkpoint is configured (``--demucs-dir``, the spec's ``models: {demucs: ...}``,
``$SONGWRIGHT_MODELS_DIR/demucs`` or the models config file) and otherwise the offline
``"repet"`` separator registered here: REPET-SIM, as in librosa's vocal separation example —
each spectrogram frame is compared with its most similar frames elsewhere in the song (cosine
nearest neighbours, at least 2 s away), their median is the repeating accompaniment, and a soft
mask keeps what does not repeat, the voice. Nothing is ever downloaded.

:func:`looks_like_mix` tells a full mix from an a cappella recording.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from representations.audio import Audio
from representations.errors import BackendUnavailable

from .separation_base import SEPARATORS, Separator

METHODS = ("auto", "demucs", "repet")
REPET_RATE = 22050
REPET_N_FFT = 2048
REPET_HOP = 512
REPET_SIMILAR_S = 2.0  # neighbours are searched at least this far away
MARGIN_VOCALS = 10.0
MARGIN_BACKGROUND = 2.0
MIX_FLOOR_DB = -35.0  # quietest 10% of frames louder than this (relative to the loudest 10%): a mix


def _to_rate(x: np.ndarray, orig: int, target: int) -> np.ndarray:
    from .conversion import resample

    return resample(x, orig, target)


def mix_floor_db(audio: Audio, *, frame_s: float = 0.05) -> float:
    """Level of the quietest frames relative to the loud ones: the 10th minus the 90th percentile
    of frame RMS levels, in dB. A lone voice pauses (far below -35 dB, or digital silence); a
    band under a voice plays on (about -10 to -25 dB)."""
    x = audio.mono().astype(np.float64)
    n = max(1, int(frame_s * audio.sample_rate))
    frames = x[: len(x) // n * n].reshape(-1, n) if len(x) >= n else x[None, :]
    level = 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-14))
    return float(np.percentile(level, 10) - np.percentile(level, 90))


def looks_like_mix(audio: Audio) -> bool:
    """True when ``audio`` sounds like a full mix: it never falls quiet (see :func:`mix_floor_db`)."""
    return mix_floor_db(audio) > MIX_FLOOR_DB


def repet_vocals(audio: Audio) -> Audio:
    """The voice of a mix by REPET-SIM soft masking, with ``audio``'s rate, channels and length.

    The mask is computed on the channels' mean and applied to every channel.
    """
    import librosa

    def stft(x):
        return librosa.stft(_to_rate(x, audio.sample_rate, REPET_RATE).astype(np.float32), n_fft=REPET_N_FFT,
                            hop_length=REPET_HOP)

    spec = stft(audio.mono())
    mag = np.abs(spec)
    width = int(librosa.time_to_frames(REPET_SIMILAR_S, sr=REPET_RATE, hop_length=REPET_HOP))
    width = max(1, min(width, mag.shape[1] // 3))
    background = np.minimum(mag, librosa.decompose.nn_filter(mag, aggregate=np.median, metric="cosine", width=width))
    mask = librosa.util.softmask(mag - background, MARGIN_VOCALS * background, power=2)
    n, channels = audio.samples.shape
    n_work = int(np.ceil(n * REPET_RATE / audio.sample_rate))
    out = np.zeros((n, channels), dtype=np.float32)
    for ch in range(channels):
        s = spec if channels == 1 else stft(audio.samples[:, ch])
        y = _to_rate(librosa.istft(mask * s, hop_length=REPET_HOP, length=n_work), REPET_RATE, audio.sample_rate)
        out[: min(n, len(y)), ch] = y[:n]
    return Audio(out, audio.sample_rate)


def _mono(audio: Audio) -> Audio:
    return Audio(audio.mono()[:, None], audio.sample_rate)


@SEPARATORS.register("repet")
class RepetSeparator(Separator):
    """REPET-SIM soft-mask separation (librosa; no model weights)."""

    name = "repet"

    def separate(self, audio: Audio) -> dict[str, Audio]:
        """``{"vocals", "accompaniment"}``: the voice, and the input minus it (input's rate, channels, length)."""
        vocals = repet_vocals(audio)
        rest = audio.samples - vocals.samples
        return {"vocals": vocals, "accompaniment": Audio(rest, audio.sample_rate)}


def separate_vocals(audio: Audio, *, method: str = "auto", demucs_folder: str | Path | None = None,
                    models: dict | None = None) -> tuple[Audio, str]:
    """The vocals of a mix and a line saying how they were separated.

    Parameters
    ----------
    audio : Audio
        A full mix (any rate, mono or stereo).
    method : str
        "auto" (Demucs when a checkpoint is configured and loads, else REPET-SIM), "demucs" or
        "repet".
    demucs_folder : path, optional
        Demucs checkpoint folder; default: the ``"demucs"`` entry found by :mod:`pipeline.models`.
    models : dict, optional
        A spec's ``models:`` mapping (for the demucs lookup).

    Returns
    -------
    (Audio, str)
        Mono vocals at ``audio``'s rate and length, and e.g. "repet-sim (no demucs checkpoint: ...)".
    """
    if method not in METHODS:
        raise BackendUnavailable(f"unknown separation method {method!r}; valid: {', '.join(METHODS)}")
    if method == "auto" and demucs_folder is None:
        from pipeline.models import locate

        if locate("demucs", models=models).path is None:
            return _mono(repet_vocals(audio)), "repet-sim (no demucs checkpoint configured)"
    if method in ("auto", "demucs"):
        from .demucs_separation import DemucsSeparator

        sep = DemucsSeparator(checkpoint=demucs_folder, models=models)
        try:
            sep.check()
            vocals = sep.separate(audio)["vocals"]
            return _mono(vocals), f"demucs ({sep.folder()[0]})"
        except BackendUnavailable as e:
            if method == "demucs":
                raise
            why = " ".join(str(e).split())
            return _mono(repet_vocals(audio)), f"repet-sim (demucs not used: {why[:200]})"
    return _mono(repet_vocals(audio)), "repet-sim"
