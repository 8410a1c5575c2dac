"""Timbre changes on WORLD parameters, shared by the singer and voice conversion."""

from __future__ import annotations

import numpy as np


TILT_PIVOT_HZ = 1000.0  # presets tilt the envelope above this; the first formant is left as it is


def warp_envelope(sp: np.ndarray, ratio: float) -> np.ndarray:
    """Move a spectral envelope along the frequency axis.

    Parameters
    ----------
    sp : ndarray, shape (n_frames, n_bins)
        WORLD spectral envelope (power), bins evenly spaced from 0 Hz to Nyquist.
    ratio : float
        Frequency scale: the envelope value at f moves to ``ratio * f``. Above 1 the formants
        rise (a smaller vocal tract); 1 returns ``sp`` unchanged. Valid: 0.5–2.

    Returns
    -------
    ndarray
        The warped envelope, same shape; bins whose source lies above Nyquist take the last bin.
    """
    if not 0.5 <= ratio <= 2.0:
        raise ValueError(f"formant ratio {ratio} is not valid (valid: 0.5-2)")
    if ratio == 1.0:
        return sp
    n_bins = sp.shape[1]
    return _read_bins(sp, np.minimum(np.arange(n_bins) / ratio, n_bins - 1))


def _read_bins(sp: np.ndarray, src: np.ndarray) -> np.ndarray:
    """``sp`` read at fractional bins ``src`` (one per output bin), interpolated in log power."""
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, sp.shape[1] - 1)
    w = src - lo
    log_sp = np.log(np.maximum(sp, 1e-30))
    return np.exp(log_sp[:, lo] * (1 - w) + log_sp[:, hi] * w)


def add_breathiness(ap: np.ndarray, amount: float, *, sample_rate: int) -> np.ndarray:
    """Raise WORLD aperiodicity to make a voice breathier.

    Parameters
    ----------
    ap : ndarray, shape (n_frames, n_bins)
        Aperiodicity in [0, 1], bins from 0 Hz to Nyquist.
    amount : float
        0 leaves ``ap`` as it is; 1 makes everything above about 3 kHz noise. Valid: 0–1.
    sample_rate : int
        Sample rate in Hz the envelope belongs to.

    Returns
    -------
    ndarray
        Aperiodicity, same shape, in [0, 1]. Low frequencies change least, so pitch stays clear.
    """
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"breathiness {amount} is not valid (valid: 0-1)")
    if amount == 0.0:
        return ap
    freqs = np.linspace(0.0, sample_rate / 2, ap.shape[1])
    weight = amount * np.clip(0.15 + freqs / 3000.0, 0.0, 1.0)
    return np.clip(ap + weight * (1.0 - ap), 0.0, 1.0)


def warp_envelope_curve(sp: np.ndarray, ratio_low: float, ratio_high: float, *, sample_rate: int,
                        low_hz: float = 1500.0, high_hz: float = 3500.0) -> np.ndarray:
    """Move a spectral envelope along the frequency axis by a ratio that changes with frequency.

    Parameters
    ----------
    sp : ndarray, shape (n_frames, n_bins)
        WORLD spectral envelope (power), bins evenly spaced from 0 Hz to Nyquist.
    ratio_low, ratio_high : float
        Frequency scale below ``low_hz`` and above ``high_hz`` (log-interpolated between): the
        first two formants (which tell the vowel) and the upper ones (which tell the speaker)
        move by different amounts. Valid: 0.5–2.
    sample_rate : int
        Sample rate in Hz the envelope belongs to.
    low_hz, high_hz : float
        Where the ratio starts and stops changing, in Hz.

    Returns
    -------
    ndarray
        The warped envelope, same shape.
    """
    for r in (ratio_low, ratio_high):
        if not 0.5 <= r <= 2.0:
            raise ValueError(f"formant ratio {r} is not valid (valid: 0.5-2)")
    if ratio_low == ratio_high:
        return warp_envelope(sp, ratio_low)
    n_bins = sp.shape[1]
    freqs = np.linspace(0.0, sample_rate / 2, n_bins)
    pos = np.clip((np.log(np.maximum(freqs, 1.0)) - np.log(low_hz)) / np.log(high_hz / low_hz), 0.0, 1.0)
    ratio = np.exp(np.log(ratio_low) * (1 - pos) + np.log(ratio_high) * pos)
    return _read_bins(sp, np.minimum(np.arange(n_bins) / ratio, n_bins - 1))


def spectral_tilt(sp: np.ndarray, db_per_octave: float, *, sample_rate: int, pivot_hz: float = 1000.0) -> np.ndarray:
    """Tilt the top of a spectral envelope: brighter (> 0) or darker (< 0) above ``pivot_hz``.

    Parameters
    ----------
    sp : ndarray, shape (n_frames, n_bins)
        WORLD spectral envelope (power).
    db_per_octave : float
        Gain change per octave above ``pivot_hz``; below it nothing changes. Valid: -12 to 12.
    sample_rate : int
        Sample rate in Hz the envelope belongs to.
    pivot_hz : float
        Frequency in Hz left unchanged.

    Returns
    -------
    ndarray
        The tilted envelope, same shape.
    """
    if not -12.0 <= db_per_octave <= 12.0:
        raise ValueError(f"spectral tilt {db_per_octave} dB/octave is not valid (valid: -12 to 12)")
    if db_per_octave == 0.0:
        return sp
    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    gain_db = db_per_octave * np.log2(np.maximum(freqs, pivot_hz) / pivot_hz)
    return sp * (10.0 ** (gain_db / 10.0))[None, :]


def resonance(sp: np.ndarray, centre_hz: float, gain_db: float, *, sample_rate: int,
              width_octaves: float = 0.6) -> np.ndarray:
    """Raise (or cut) a band of a spectral envelope: a bell in log frequency.

    Parameters
    ----------
    sp : ndarray, shape (n_frames, n_bins)
        WORLD spectral envelope (power).
    centre_hz : float
        Centre of the band in Hz, e.g. about 3 kHz for a singer's "ring", 250 Hz for chest warmth.
    gain_db : float
        Gain at the centre in dB. Valid: -18 to 18.
    sample_rate : int
        Sample rate in Hz the envelope belongs to.
    width_octaves : float
        Standard deviation of the bell in octaves.

    Returns
    -------
    ndarray
        The envelope, same shape.
    """
    if not -18.0 <= gain_db <= 18.0:
        raise ValueError(f"resonance gain {gain_db} dB is not valid (valid: -18 to 18)")
    if gain_db == 0.0:
        return sp
    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    octaves = np.log2(np.maximum(freqs, 20.0) / centre_hz)
    gain = gain_db * np.exp(-0.5 * (octaves / width_octaves) ** 2)
    return sp * (10.0 ** (gain / 10.0))[None, :]


def formant_contrast(sp: np.ndarray, factor: float, *, sample_rate: int, smooth_hz: float = 600.0) -> np.ndarray:
    """Sharpen (``factor`` > 1) or flatten (< 1) the formant peaks of a spectral envelope.

    Parameters
    ----------
    sp : ndarray, shape (n_frames, n_bins)
        WORLD spectral envelope (power).
    factor : float
        Scale of the log envelope's deviation from its smoothed self (smoothed over
        ``smooth_hz``). 1 leaves ``sp`` unchanged. Valid: 0.3–2.
    sample_rate : int
        Sample rate in Hz the envelope belongs to.

    Returns
    -------
    ndarray
        The envelope, same shape.
    """
    from representations.dsp import gaussian_filter1d

    if not 0.3 <= factor <= 2.0:
        raise ValueError(f"formant contrast {factor} is not valid (valid: 0.3-2)")
    if factor == 1.0:
        return sp
    log_sp = np.log(np.maximum(sp, 1e-30))
    sigma_bins = smooth_hz / (sample_rate / 2) * (sp.shape[1] - 1)
    smooth = gaussian_filter1d(log_sp, sigma_bins, axis=1)
    return np.exp(smooth + factor * (log_sp - smooth))


def harmonic_band_envelope(sp: np.ndarray, f0: np.ndarray, *, sample_rate: int,
                           source_f0: np.ndarray) -> np.ndarray:
    """The spectral envelope a voice sung at ``f0`` should be heard through: each bin's mean power
    over a band about one harmonic spacing wide around it.

    A periodic voice is heard only at its harmonics, so WORLD samples the envelope at multiples of
    F0. The envelope, analysed from speech at ``source_f0``, carries detail as fine as that
    speech's harmonic spacing; sampled at the wider spacing of a higher note, a formant peak
    between two harmonics is lost and the ones beside it read weak (and a strong second harmonic
    is taken for the fundamental). Averaging power over ``sqrt(f0**2 - source_f0**2)`` Hz (the
    width that, added to the analysis's own smoothing over ``source_f0``, makes one harmonic
    spacing) gives each harmonic the power of its own band, so the formants keep their energy.
    Frames sung at or below their source pitch, and unvoiced frames, are returned unchanged.

    Parameters
    ----------
    sp : ndarray, shape (n_frames, n_bins)
        WORLD spectral envelope (power), bins evenly spaced from 0 Hz to Nyquist.
    f0 : ndarray, shape (n_frames,)
        The sung F0 in Hz per frame, 0 where unvoiced.
    sample_rate : int
        Sample rate in Hz the envelope belongs to.
    source_f0 : ndarray, shape (n_frames,)
        F0 in Hz of the speech each frame's envelope was analysed from (0 where unvoiced).

    Returns
    -------
    ndarray
        The envelope, same shape.
    """
    n_bins = sp.shape[1]
    bin_hz = sample_rate / (2 * (n_bins - 1))
    width = np.sqrt(np.maximum(0.0, np.square(f0) - np.square(source_f0)))
    half = np.where((f0 > 0) & (source_f0 > 0), np.rint(width / bin_hz / 2), 0).astype(int)
    rows = np.flatnonzero(half > 0)
    if not len(rows):
        return sp
    part = sp[rows]
    cum = np.concatenate([np.zeros((len(rows), 1)), np.cumsum(part, axis=1)], axis=1)
    k = np.arange(n_bins)[None, :]
    lo = np.clip(k - half[rows, None], 0, n_bins)
    hi = np.clip(k + half[rows, None] + 1, 0, n_bins)
    out = sp.copy()
    out[rows] = (np.take_along_axis(cum, hi, axis=1) - np.take_along_axis(cum, lo, axis=1)) / (hi - lo)
    return out


def apply_timbre(sp: np.ndarray, ap: np.ndarray, preset, *, sample_rate: int,
                 voiced: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A voice preset's envelope and aperiodicity changes, in one call.

    Parameters
    ----------
    sp, ap : ndarray, shape (n_frames, n_bins)
        WORLD spectral envelope (power) and aperiodicity of the bundled voice.
    preset : VoicePreset
        Its ``formant_ratio`` (and ``formant_ratio_high``), ``tilt_db_per_octave``,
        ``formant_contrast``, ``resonances`` ((centre Hz, gain dB) pairs) and ``breathiness``
        are applied.
    sample_rate : int
        Sample rate in Hz of the envelopes.
    voiced : ndarray of bool, shape (n_frames,), optional
        Which frames are voiced. Given, the tilt, contrast and resonances (the voice quality)
        apply to voiced frames only, faded over 20 ms at the edges; unvoiced consonants keep
        their spectrum (only the formant warp, the length of the vocal tract, applies to them),
        so fricatives and bursts stay as clear as spoken. The voice quality keeps the total
        power of the voiced frames (of all frames when ``voiced`` is not given): it changes the
        colour, not the level.

    Returns
    -------
    (ndarray, ndarray)
        New ``sp`` and ``ap``.
    """
    high = getattr(preset, "formant_ratio_high", None) or preset.formant_ratio
    sp = warp_envelope_curve(sp, preset.formant_ratio, high, sample_rate=sample_rate)
    shaped = spectral_tilt(sp, getattr(preset, "tilt_db_per_octave", 0.0), sample_rate=sample_rate, pivot_hz=TILT_PIVOT_HZ)
    shaped = formant_contrast(shaped, getattr(preset, "formant_contrast", 1.0), sample_rate=sample_rate)
    for centre_hz, gain_db in getattr(preset, "resonances", ()):
        shaped = resonance(shaped, centre_hz, gain_db, sample_rate=sample_rate)
    if shaped is not sp:  # the voice quality changes the colour, not the level (a bright tilt clipped)
        rows = np.asarray(voiced, dtype=bool) if voiced is not None and np.any(voiced) else slice(None)
        shaped = shaped * (sp[rows].sum() / max(float(shaped[rows].sum()), 1e-30))
    if voiced is None or shaped is sp:
        sp = shaped
    else:
        w = np.convolve(np.asarray(voiced, dtype=np.float64), np.ones(5) / 5, mode="same")[:, None]
        sp = np.exp(w * np.log(np.maximum(shaped, 1e-30)) + (1 - w) * np.log(np.maximum(sp, 1e-30)))
    ap = add_breathiness(ap, preset.breathiness, sample_rate=sample_rate)
    return sp, ap
