"""Reading audio that users hand in (voice references, a cappella takes, imported stems).

Anything unusable — empty, not audio, truncated, NaN/inf samples, silent, too short, too long,
clipped — becomes one :class:`AudioInputError` line naming the file and the problem. Length is
checked from the header before the samples are read, so a two-hour file is refused cheaply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .audio import Audio
from .errors import AudioInputError

MAX_INPUT_S = 600.0  # longest audio input accepted anywhere (10 minutes)
MAX_INPUT_BYTES = 200 * 1024 * 1024
FORMATS = "wav, flac, ogg, mp3, aiff"


def read_audio_input(
    path: str | Path,
    *,
    min_s: float = 0.0,
    max_s: float = MAX_INPUT_S,
    sample_rate: int | None = None,
    mono: bool = True,
    trim_silence: bool = False,
    check_clipping: bool = False,
) -> Audio:
    """Read, check and normalise an audio input.

    Parameters
    ----------
    path : path of the file (any sample rate or channel count libsndfile reads).
    min_s, max_s : allowed duration in seconds (after trimming silence when ``trim_silence``).
    sample_rate : resample to this rate (Hz) when given.
    mono : average channels to one.
    trim_silence : cut leading/trailing audio quieter than -45 dB below the peak.
    check_clipping : refuse input whose samples sit at full scale for more than 1% of the time.

    Returns
    -------
    Audio, float32 of shape (n_samples, 1 or channels).
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise AudioInputError(f"{path}: the file is empty (valid: {FORMATS})")
    if size > MAX_INPUT_BYTES:
        raise AudioInputError(f"{path}: {size / 2**20:.0f} MB is too large (valid: at most {MAX_INPUT_BYTES // 2**20} MB)")
    try:
        info = sf.info(str(path))
    except Exception:
        raise AudioInputError(f"{path}: not an audio file this program can read (valid: {FORMATS})") from None
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioInputError(f"{path}: bad header ({info.samplerate} Hz, {info.channels} channels)")
    header_s = info.frames / info.samplerate if info.frames > 0 else 0.0
    if header_s > max_s:
        raise AudioInputError(f"{path}: {header_s:.0f} s is too long (valid: at most {max_s:.0f} s)")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:
        raise AudioInputError(f"{path}: the audio data is damaged or truncated ({str(e).splitlines()[0][:80]})") from None
    if data.size == 0:
        raise AudioInputError(f"{path}: the file holds no samples (valid: {FORMATS} with audio in it)")
    if not np.isfinite(data).all():
        raise AudioInputError(f"{path}: the audio holds NaN or infinite samples")
    if mono:
        data = data.mean(axis=1, keepdims=True)
    peak = float(np.abs(data).max())
    if peak < 1e-4:
        raise AudioInputError(f"{path}: the audio is silent (peak {20 * np.log10(max(peak, 1e-12)):.0f} dBFS)")
    if check_clipping and float(np.mean(np.abs(data) >= 0.999)) > 0.01:
        raise AudioInputError(f"{path}: the audio is clipped ({100 * np.mean(np.abs(data) >= 0.999):.1f}% of samples at full scale)")
    if trim_silence:
        env = np.abs(data).max(axis=1)
        loud = np.nonzero(env > peak * 10 ** (-45 / 20))[0]
        data = data[loud[0]: loud[-1] + 1]
    dur = data.shape[0] / sr
    if dur < min_s:
        raise AudioInputError(f"{path}: {dur:.1f} s of sound is too short (valid: at least {min_s:g} s)")
    if dur > max_s:
        raise AudioInputError(f"{path}: {dur:.0f} s is too long (valid: at most {max_s:.0f} s)")
    if sample_rate and sr != sample_rate:
        from math import gcd

        from representations.dsp import resample_poly

        g = gcd(sr, sample_rate)
        data = resample_poly(data, sample_rate // g, sr // g, axis=0).astype(np.float32)
        sr = sample_rate
    return Audio(data, sr)
