"""What a voice sounds like on average, and how to move one voice towards another.

A :class:`VoiceProfile` holds the statistics voice conversion needs from a recording: its F0
register (median and spread, and whether it is sung or spoken) and its average voiced log
spectral envelope and aperiodicity. From two profiles come the conversion's parts: a whole-song
register shift in semitones (:func:`register_shift`), a frequency warp of the envelope
(:func:`estimate_warp`) and a smooth spectral correction (:func:`envelope_correction`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .conversion_synth import HOP, N_FFT, WORK_RATE, WorldParams

OCTAVE_MOVE_ST = 9.0  # a melody this far from the reference's comfortable centre moves an octave
SPEECH_TO_SINGING_ST = 6.0  # a comfortable singing centre lies this far above the speaking median
STABLE_WINDOW_S = 0.15  # F0 held within STABLE_CENTS over this long counts as a held (sung) note
STABLE_CENTS = 60.0
SINGING_STABLE_SHARE = 0.6  # more held frames than this: the recording is singing
WARP_RANGE = (0.85, 1.25)
WARP_BAND_HZ = (250.0, 5000.0)  # where the warp is judged (formant region)
WARP_SAME_ST = 2.0  # voices whose speaking pitches lie this close count as alike ...
WARP_NEAR = (0.93, 1.07)  # ... and their formants move by this much at most
MIN_VOICED_S = 1.0  # a reference needs this much voiced sound
MAX_FRAMES = 3000
MATCH_BAND_HZ = (1000.0, 3000.0)  # frame matching ramps up from its low share to full across this band


def hz_to_midi(hz):
    return 69.0 + 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / 440.0)


@dataclass(frozen=True)
class VoiceProfile:
    """Average properties of a voice in one recording.

    Attributes
    ----------
    f0_median_midi, f0_low_midi, f0_high_midi : float
        Median, 10th and 90th percentile of voiced F0 as MIDI pitch (fractional).
    singing : bool
        True when most voiced frames hold a steady pitch (sung), False for speech.
    log_env : ndarray, shape (N_FFT // 2 + 1,)
        Mean natural-log power envelope of voiced frames, bins from 0 Hz to Nyquist.
    ap_mean : ndarray, shape (N_FFT // 2 + 1,)
        Mean aperiodicity of voiced frames.
    voiced_s : float
        Voiced duration in seconds.
    frames : ndarray, shape (n, N_FFT // 2 + 1)
        Log power envelopes of up to ``MAX_FRAMES`` loud voiced frames (for frame matching).
    """

    f0_median_midi: float
    f0_low_midi: float
    f0_high_midi: float
    singing: bool
    log_env: np.ndarray
    ap_mean: np.ndarray
    voiced_s: float
    frames: np.ndarray | None = None

    @property
    def comfortable_midi(self) -> float:
        """Centre of the register this voice sings in comfortably (MIDI pitch)."""
        return self.f0_median_midi + (0.0 if self.singing else SPEECH_TO_SINGING_ST)

    def to_dict(self) -> dict:
        return {"f0_median_hz": round(float(440 * 2 ** ((self.f0_median_midi - 69) / 12)), 1),
                "singing": self.singing, "comfortable_midi": round(self.comfortable_midi, 1),
                "voiced_s": round(self.voiced_s, 2)}


def stable_share(f0: np.ndarray) -> float:
    """Share of voiced frames whose F0 stays within ``STABLE_CENTS`` of its local median over
    ``STABLE_WINDOW_S`` (held notes); 0 when nothing is voiced."""
    from scipy.ndimage import maximum_filter1d, median_filter

    voiced = f0 > 0
    if voiced.sum() < 3:
        return 0.0
    filled = np.where(voiced, 1200 * np.log2(np.maximum(f0, 1e-3) / 440.0), 0.0)  # cents
    w = max(3, int(round(STABLE_WINDOW_S * WORK_RATE / HOP)))
    med = median_filter(filled, size=w, mode="nearest")
    dev = np.abs(filled - med)
    dev = np.where(voiced, dev, 1e9)  # a window that holds an unvoiced frame is not held
    held = maximum_filter1d(dev, size=w, mode="nearest") <= STABLE_CENTS
    return float(held[voiced].mean())


def loudness_weights(log_sp: np.ndarray) -> np.ndarray:
    """Weights (summing to 1) of log power envelope frames ``(n, bins)`` when averaging them: loud
    frames weigh most, as quiet onsets and tails carry little of a voice's colour."""
    level = log_sp.mean(axis=1)
    weight = np.exp(np.clip(level - level.max(), -20, 0))
    return weight / weight.sum()


def voice_profile(params: WorldParams, *, keep_frames: bool = False) -> VoiceProfile | None:
    """The profile of analysed audio; None when it holds less than ``MIN_VOICED_S`` of voice."""
    v = params.voiced
    voiced_s = float(v.sum()) * params.frame_s
    if voiced_s < MIN_VOICED_S:
        return None
    midi = hz_to_midi(params.f0[v])
    log_sp = np.log(np.maximum(params.sp[v], 1e-20))
    weight = loudness_weights(log_sp)
    return VoiceProfile(
        f0_median_midi=float(np.median(midi)), f0_low_midi=float(np.percentile(midi, 10)),
        f0_high_midi=float(np.percentile(midi, 90)), singing=stable_share(params.f0) > SINGING_STABLE_SHARE,
        log_env=(weight[:, None] * log_sp).sum(axis=0), ap_mean=params.ap[v].mean(axis=0), voiced_s=voiced_s,
        frames=log_sp[:: max(1, len(log_sp) // MAX_FRAMES + 1)] if keep_frames else None,
    )


def register_shift(source_midi: float, target_midi: float, *, mode: str = "octave") -> int:
    """Whole-song shift in semitones that brings a melody centred on ``source_midi`` towards
    ``target_midi``: any whole number for "semitone"; for ``mode="octave"`` a multiple of 12,
    one octave for each ``OCTAVE_MOVE_ST`` + 12k semitones between them (not the nearest
    octave: a melody that stays is filtered, not re-synthesised, and keeps more of its words
    and gains more likeness)."""
    d = target_midi - source_midi
    if mode == "octave":
        return int(12 * np.sign(d) * max(0.0, np.floor((abs(d) + 12.0 - OCTAVE_MOVE_ST) / 12.0)))
    if mode == "semitone":
        return int(np.round(d))
    raise ValueError(f"register mode {mode!r} is not valid (valid: octave, semitone)")


def _freqs() -> np.ndarray:
    return np.linspace(0.0, WORK_RATE / 2, N_FFT // 2 + 1)


def warp_log_env(log_env: np.ndarray, ratio: float) -> np.ndarray:
    """``log_env`` (last axis: bins) moved along frequency: the value at f moves to ``ratio * f``."""
    n_bins = log_env.shape[-1]
    src = np.minimum(np.arange(n_bins) / ratio, n_bins - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_bins - 1)
    w = src - lo
    return log_env[..., lo] * (1 - w) + log_env[..., hi] * w


def _detrend(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    a, b = np.polyfit(x, curve, 1)
    return curve - (a * x + b)


def warp_range(source: VoiceProfile, reference: VoiceProfile) -> tuple[float, float]:
    """The warp ratios allowed between two voices: formants move the way the speaking pitch does.

    A reference that speaks more than ``WARP_SAME_ST`` semitones higher than the source (a
    shorter vocal tract, as a rule) may only raise the formants, one that speaks lower only lower
    them, and voices of about the same pitch only move them a little. A sung profile's speaking
    pitch is taken as ``SPEECH_TO_SINGING_ST`` below its median.
    """
    def speaking(p: VoiceProfile) -> float:
        return p.f0_median_midi - (SPEECH_TO_SINGING_ST if p.singing else 0.0)

    d = speaking(reference) - speaking(source)
    if d > WARP_SAME_ST:
        return 1.0, WARP_RANGE[1]
    if d < -WARP_SAME_ST:
        return WARP_RANGE[0], 1.0
    return WARP_NEAR


def estimate_warp(source: np.ndarray, target: np.ndarray, *, ratio_range: tuple[float, float] = WARP_RANGE,
                  step: float = 0.01) -> float:
    """Frequency-warp ratio within ``ratio_range`` that best lines up the formant structure of
    the mean log envelope ``source`` with ``target`` (both detrended on a log-frequency axis in
    ``WARP_BAND_HZ``, so level and tilt do not count)."""
    f = _freqs()
    band = (f >= WARP_BAND_HZ[0]) & (f <= WARP_BAND_HZ[1])
    x = np.log(f[band])
    tgt = _detrend(target[band], x)
    best, best_err = 1.0, np.inf
    lo, hi = ratio_range
    for r in np.linspace(lo, hi, int(round((hi - lo) / step)) + 1):
        err = float(np.mean((_detrend(warp_log_env(source, r)[band], x) - tgt) ** 2))
        if err < best_err - 1e-12:
            best, best_err = float(r), err
    return best


def smooth_over_frequency(curve: np.ndarray, *, octaves: float) -> np.ndarray:
    """``curve`` (per bin) smoothed with a Gaussian of ``octaves`` width on a log-frequency axis."""
    f = _freqs()
    logf = np.log2(np.maximum(f, 50.0))
    grid = np.linspace(logf[0], logf[-1], 256)
    on_grid = np.interp(grid, logf, curve)
    sigma = octaves / (grid[1] - grid[0])
    from scipy.ndimage import gaussian_filter1d

    return np.interp(logf, grid, gaussian_filter1d(on_grid, sigma, mode="nearest"))


def envelope_correction(source: np.ndarray, target: np.ndarray, *, octaves: float = 0.25,
                        limit: float = np.log(10 ** (12 / 10))) -> np.ndarray:
    """Smooth log-power gain per bin that turns the mean envelope ``source`` into ``target``,
    level-neutral over the voice band (its mean over 100–8000 Hz is 0) and clipped to ±12 dB."""
    f = _freqs()
    diff = smooth_over_frequency(target - source, octaves=octaves)
    band = (f >= 100.0) & (f <= 8000.0)
    diff -= diff[band].mean()
    return np.clip(diff, -limit, limit)


def matched_difference(source_log_sp: np.ndarray, source_mean: np.ndarray, reference: VoiceProfile, *,
                       k: int = 4) -> np.ndarray:
    """The mean log-envelope difference between the reference and the source over matched frames.

    Each source frame (``source_log_sp``: voiced frames, log power) is paired with the mean of
    its ``k`` nearest reference frames (:func:`matched_envelopes`), and the differences are
    averaged with loud frames weighing most. Unlike the difference of the two average envelopes,
    this compares like sounds with like: a song's long held vowels against speech's mix of
    sounds no longer reads as a difference of voice.
    """
    knn = matched_envelopes(source_log_sp, source_mean, reference, k=k, smooth_frames=1)
    # each match keeps its source frame's level: the difference is one of shape (the level is
    # set apart, as envelope_correction makes its gain level-neutral)
    return (loudness_weights(source_log_sp)[:, None] * (knn - source_log_sp)).sum(axis=0)


def _mel_matrix(n_mels: int = 40) -> np.ndarray:
    f = _freqs()
    mel = 2595 * np.log10(1 + f / 700)
    edges = np.linspace(mel[1], mel[-1] * 0.95, n_mels + 2)
    m = np.zeros((n_mels, len(f)))
    for i in range(n_mels):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        m[i] = np.clip(np.minimum((mel - lo) / (c - lo), (hi - mel) / (hi - c)), 0, None)
    return m / np.maximum(m.sum(axis=1, keepdims=True), 1e-9)


def frame_features(log_sp: np.ndarray, *, n_ceps: int = 20) -> np.ndarray:
    """Mel-cepstral features (c1..c_n, no level) of log power envelopes ``(n, bins)``."""
    from scipy.fft import dct

    mel = np.log(np.maximum(np.exp(log_sp) @ _mel_matrix().T, 1e-20))
    return dct(mel, type=2, norm="ortho", axis=1)[:, 1:n_ceps + 1]


def feature_offset(source_features: np.ndarray, source_mean: np.ndarray) -> np.ndarray:
    """What :func:`matched_envelopes` subtracts from the features of source frames: those of the
    voice's mean envelope, plus the mean of what remains when there are more than 50 frames."""
    offset = frame_features(source_mean[None, :])[0]
    return offset + ((source_features - offset).mean(axis=0) if len(source_features) > 50 else 0.0)


def matching_weights(*, low_share: float) -> np.ndarray:
    """Per-bin share of frame matching: ``low_share`` below ``MATCH_BAND_HZ``, 1 above it, and
    linear in log frequency between (the low formants carry the words, the higher ones the voice)."""
    f = np.maximum(_freqs(), 1.0)
    lo, hi = np.log(MATCH_BAND_HZ[0]), np.log(MATCH_BAND_HZ[1])
    ramp = np.clip((np.log(f) - lo) / (hi - lo), 0.0, 1.0)
    return low_share + (1.0 - low_share) * ramp


def _smooth_in_time(frames: np.ndarray, positions: np.ndarray, reach: int) -> np.ndarray:
    """Each row of ``frames`` replaced by the mean of the rows whose position lies within
    ``reach`` of its own (so the result near a frame depends on nearby frames only)."""
    total = np.concatenate([np.zeros((1, frames.shape[1])), np.cumsum(frames, axis=0, dtype=np.float64)])
    lo = np.searchsorted(positions, positions - reach, side="left")
    hi = np.searchsorted(positions, positions + reach, side="right")
    return ((total[hi] - total[lo]) / (hi - lo)[:, None]).astype(frames.dtype)


def matched_envelopes(source_log_sp: np.ndarray, source_mean: np.ndarray, reference: VoiceProfile, *,
                      offset: np.ndarray | None = None, source_features: np.ndarray | None = None,
                      positions: np.ndarray | None = None, k: int = 8, smooth_frames: int = 5,
                      chunk: int = 2048) -> np.ndarray:
    """For each source frame, the mean log envelope of its ``k`` nearest reference frames.

    Frames are compared by mel cepstra with each voice's own mean removed (so the phonetic
    content, not the voice, decides), and the result keeps the source frame's level. ``offset``
    is the source's mean as :func:`feature_offset` gives it for all of the source's frames (pass
    it to match part of a recording the way the whole was matched); ``source_features`` are
    the :func:`frame_features` of ``source_log_sp`` when already computed. The matches are
    averaged over the frames within ``smooth_frames // 2`` frames in time (``positions``: the
    frames' indices on the frame grid, increasing; default consecutive).
    """
    ref = reference.frames
    f_ref = frame_features(ref)
    f_ref -= f_ref.mean(axis=0)
    f_src = frame_features(source_log_sp) if source_features is None else source_features
    f_src = f_src - (feature_offset(f_src, source_mean) if offset is None else offset)
    out = np.empty_like(source_log_sp)
    k = min(k, len(ref))
    ref_sq = (f_ref ** 2).sum(axis=1)
    for a in range(0, len(f_src), chunk):
        q = f_src[a:a + chunk]
        d = (q ** 2).sum(axis=1)[:, None] + ref_sq[None, :] - 2 * q @ f_ref.T
        nn = np.argpartition(d, k - 1, axis=1)[:, :k]
        out[a:a + chunk] = ref[nn].mean(axis=1)
    if smooth_frames > 1 and len(out) > 1:
        out = _smooth_in_time(out, np.arange(len(out)) if positions is None else np.asarray(positions),
                              smooth_frames // 2)
    level = lambda x: x.mean(axis=-1, keepdims=True)  # noqa: E731
    return out - level(out) + level(source_log_sp)
