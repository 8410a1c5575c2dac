"""The sung pitch curve: note pitches with short portamento between legato notes, vibrato that
grows on long notes (none on short ones) and, for rough voices, a slow random wobble."""

from __future__ import annotations

import numpy as np

PORTAMENTO_S = 0.05  # length of the glide between two legato notes
VIBRATO_MIN_NOTE_S = 0.45  # shorter notes get no vibrato
VIBRATO_FULL_NOTE_S = 1.5  # notes this long or longer get the full depth
VIBRATO_DELAY_S = 0.2  # vibrato starts this long after the note
VIBRATO_RAMP_S = 0.35  # and grows to its depth over this long
VIBRATO_RATE_HZ = 5.5
VIBRATO_DEPTH_CENTS = 40.0  # peak deviation on long notes
VIBRATO_MIN_DEPTH_CENTS = 20.0  # peak deviation on the shortest notes that have vibrato


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def vibrato_depth_cents(duration_s: float, *, depth_cents: float = VIBRATO_DEPTH_CENTS) -> float:
    """Peak vibrato deviation (cents) of a note ``duration_s`` long: 0 for short notes, growing
    from ``VIBRATO_MIN_DEPTH_CENTS`` to ``depth_cents`` between ``VIBRATO_MIN_NOTE_S`` and
    ``VIBRATO_FULL_NOTE_S``."""
    if duration_s <= VIBRATO_MIN_NOTE_S:
        return 0.0
    u = min(1.0, (duration_s - VIBRATO_MIN_NOTE_S) / (VIBRATO_FULL_NOTE_S - VIBRATO_MIN_NOTE_S))
    low = min(VIBRATO_MIN_DEPTH_CENTS, depth_cents)
    return low + u * (depth_cents - low)


def sung_f0(times_s: np.ndarray, pitch_spans: list[tuple[float, float, float]],
            vibrato_notes: list[tuple[float, float]], *, frame_s: float,
            portamento_s: float = PORTAMENTO_S, vibrato_rate_hz: float = VIBRATO_RATE_HZ,
            vibrato_depth: float = VIBRATO_DEPTH_CENTS, roughness_cents: float = 0.0,
            seed: int = 0) -> np.ndarray:
    """F0 in Hz at ``times_s`` for one stretch of continuous singing.

    Parameters
    ----------
    times_s : ndarray
        Frame times in seconds, evenly spaced by ``frame_s``.
    pitch_spans : list of (start_s, end_s, midi)
        The pitch held over each time span, in time order; times between or outside spans take
        the nearest span's pitch.
    vibrato_notes : list of (start_s, end_s)
        Notes that may carry vibrato (see :func:`vibrato_depth_cents`).
    frame_s : float
        Frame period in seconds.
    portamento_s : float
        Length of the smoothing window that turns pitch steps into glides, centred on each step.
    vibrato_rate_hz, vibrato_depth : float
        Vibrato rate (Hz) and its peak deviation (cents) on long notes.
    roughness_cents : float
        RMS of a slow random F0 wobble (cents, 0 for none).
    seed : int
        Seed of that wobble; the same seed gives the same curve.

    Returns
    -------
    ndarray
        F0 in Hz, same shape as ``times_s``.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    starts = np.array([s for s, _, _ in pitch_spans])
    mids = np.array([(s + e) / 2 for s, e, _ in pitch_spans])
    pitches = np.array([p for _, _, p in pitch_spans], dtype=np.float64)
    idx = np.clip(np.searchsorted(starts, times_s, side="right") - 1, 0, len(starts) - 1)
    # before a span's start, or past the end of the span before a gap: nearest span by midpoint
    ends = np.array([e for _, e, _ in pitch_spans])
    outside = times_s > ends[idx]
    if outside.any():
        nxt = np.minimum(idx + 1, len(starts) - 1)
        closer_next = np.abs(times_s - mids[nxt]) < np.abs(times_s - mids[idx])
        idx = np.where(outside & closer_next, nxt, idx)
    semis = pitches[idx]
    n_win = int(round(portamento_s / frame_s)) | 1
    if n_win > 1 and len(semis) > 1:
        win = np.hanning(n_win + 2)[1:-1]
        win /= win.sum()
        pad = n_win // 2
        semis = np.convolve(np.pad(semis, pad, mode="edge"), win, mode="valid")
    for start, end in vibrato_notes:
        depth = vibrato_depth_cents(end - start, depth_cents=vibrato_depth) / 100.0
        if depth <= 0:
            continue
        t = times_s - (start + VIBRATO_DELAY_S)
        inside = (t > 0) & (times_s < end)
        ramp = np.clip(t / VIBRATO_RAMP_S, 0.0, 1.0)
        semis = semis + np.where(inside, depth * ramp * np.sin(2 * np.pi * vibrato_rate_hz * t), 0.0)
    if roughness_cents > 0 and len(times_s) > 1:
        semis = semis + wobble_cents(len(times_s), roughness_cents, frame_s=frame_s, seed=seed) / 100.0
    return midi_to_hz(semis)


def wobble_cents(n_frames: int, rms_cents: float, *, frame_s: float, seed: int, smooth_s: float = 0.03) -> np.ndarray:
    """Smoothed random deviation (cents) with RMS ``rms_cents``, the same for the same seed."""
    rng = np.random.default_rng(seed)
    n = max(3, int(round(smooth_s / frame_s)))
    noise = rng.standard_normal(n_frames + n)
    smooth = np.convolve(noise, np.hanning(n + 2)[1:-1], mode="valid")[:n_frames]
    rms = np.sqrt(np.mean(smooth ** 2)) or 1.0
    return smooth * (rms_cents / rms)
