"""Expression a singer adds on top of the notes: dynamics that follow the phrase and the section,
and an audible breath before a phrase where the rest leaves room for one.

Pitch expression (portamento, vibrato) lives in :mod:`voice.f0`.
"""

from __future__ import annotations

import numpy as np

VELOCITY_DB_PER_STEP = 0.15  # level change per MIDI velocity step (verse 84 -> chorus 96: +1.8 dB)
REFERENCE_VELOCITY = 90
ARC_DB = 3.0  # a phrase swells by this much from its ends to its peak ...
ARC_PEAK = 0.6  # ... which lies at this share of the phrase
BREATH_MIN_REST_S = 0.45  # a breath needs a rest at least this long before the phrase
BREATH_MAX_S = 0.35  # longest breath
BREATH_GAP_S = 0.05  # silence between the end of a breath and the first consonant
BREATH_LEVEL_DB = -22.0  # breath RMS relative to the sung vowels' RMS


def phrase_gain_db(times_s: np.ndarray, start_s: float, end_s: float, *, depth_db: float = ARC_DB) -> np.ndarray:
    """Level (dB) of a gentle arc over one phrase: ``-depth_db/2`` at its ends, ``+depth_db/2``
    at ``ARC_PEAK`` of the way through.

    Parameters
    ----------
    times_s : ndarray
        Times in seconds.
    start_s, end_s : float
        The phrase's first note start and last note end, in seconds.
    depth_db : float
        Rise from the ends to the peak, in dB.

    Returns
    -------
    ndarray
        Gain in dB, same shape as ``times_s``.
    """
    span = max(end_s - start_s, 1e-6)
    u = np.clip((np.asarray(times_s, dtype=np.float64) - start_s) / span, 0.0, 1.0)
    rise = np.sin(0.5 * np.pi * np.minimum(u / ARC_PEAK, 1.0))
    fall = np.cos(0.5 * np.pi * np.clip((u - ARC_PEAK) / (1.0 - ARC_PEAK), 0.0, 1.0))
    shape = np.where(u < ARC_PEAK, rise, fall)
    return depth_db * (shape - 0.5)


def velocity_gain_db(velocity: np.ndarray | float) -> np.ndarray:
    """Level (dB) of a note sung at MIDI ``velocity`` (90 → 0 dB; choruses are planned louder)."""
    return (np.asarray(velocity, dtype=np.float64) - REFERENCE_VELOCITY) * VELOCITY_DB_PER_STEP


def breath_span(rest_start_s: float, onset_s: float) -> tuple[float, float] | None:
    """Where a breath goes before a phrase whose first consonant starts at ``onset_s`` after a
    rest from ``rest_start_s``: (start_s, end_s), or None when the rest is too short."""
    rest = onset_s - rest_start_s
    if rest < BREATH_MIN_REST_S:
        return None
    end = onset_s - BREATH_GAP_S
    start = max(end - BREATH_MAX_S, rest_start_s + 0.1)
    return (start, end) if end - start >= 0.15 else None


def breath_noise(duration_s: float, *, sample_rate: int, seed: int, rms: float, formant_ratio: float = 1.0) -> np.ndarray:
    """An inhaled breath: noise shaped like an open, unvoiced vocal tract, swelling and fading.

    Parameters
    ----------
    duration_s : float
        Length in seconds.
    sample_rate : int
        Sample rate in Hz.
    seed : int
        Noise seed; the same seed gives the same samples.
    rms : float
        RMS of the loudest part (linear, full scale 1).
    formant_ratio : float
        The voice's formant ratio: its breath resonates higher or lower with it.

    Returns
    -------
    ndarray
        Float64 samples, ``round(duration_s * sample_rate)`` long, starting and ending at 0.
    """
    n = int(round(duration_s * sample_rate))
    if n < 16:
        return np.zeros(max(n, 0))
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate)
    shape = np.zeros_like(freqs)
    for centre, width, gain in ((700.0, 0.6, 1.0), (1600.0, 0.5, 0.8), (3000.0, 0.5, 0.35)):
        octaves = np.log2(np.maximum(freqs, 20.0) / (centre * formant_ratio))
        shape += gain * np.exp(-0.5 * (octaves / width) ** 2)
    shape *= np.clip((freqs - 150.0) / 250.0, 0.0, 1.0)  # no rumble
    y = np.fft.irfft(spec * shape, n)
    t = np.linspace(0.0, 1.0, n)
    env = np.where(t < 0.6, np.sin(0.5 * np.pi * t / 0.6), np.cos(0.5 * np.pi * (t - 0.6) / 0.4)) ** 2
    y *= env
    peak_rms = np.sqrt(np.mean(y[int(0.4 * n): int(0.75 * n)] ** 2)) or 1.0
    return y * (rms / peak_rms)
