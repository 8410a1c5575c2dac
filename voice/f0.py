"""The sung pitch curve: note pitches with short portamento between legato notes and delayed
vibrato on long notes."""

from __future__ import annotations

import numpy as np

PORTAMENTO_S = 0.05  # length of the glide between two legato notes
VIBRATO_MIN_NOTE_S = 0.4  # shorter notes get no vibrato
VIBRATO_DELAY_S = 0.2  # vibrato starts this long after the note
VIBRATO_RAMP_S = 0.25  # and grows to full depth over this long
VIBRATO_RATE_HZ = 5.5
VIBRATO_DEPTH_CENTS = 30.0  # peak deviation


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def sung_f0(times_s: np.ndarray, pitch_spans: list[tuple[float, float, float]],
            vibrato_notes: list[tuple[float, float]], *, frame_s: float,
            portamento_s: float = PORTAMENTO_S) -> np.ndarray:
    """F0 in Hz at ``times_s`` for one stretch of continuous singing.

    Parameters
    ----------
    times_s : ndarray
        Frame times in seconds, evenly spaced by ``frame_s``.
    pitch_spans : list of (start_s, end_s, midi)
        The pitch held over each time span, in time order; times between or outside spans take
        the nearest span's pitch.
    vibrato_notes : list of (start_s, end_s)
        Notes that may carry vibrato (those longer than ``VIBRATO_MIN_NOTE_S`` get it).
    frame_s : float
        Frame period in seconds.
    portamento_s : float
        Length of the smoothing window that turns pitch steps into glides, centred on each step.

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
        if end - start <= VIBRATO_MIN_NOTE_S:
            continue
        t = times_s - (start + VIBRATO_DELAY_S)
        inside = (t > 0) & (times_s < end)
        depth = np.clip(t / VIBRATO_RAMP_S, 0.0, 1.0) * VIBRATO_DEPTH_CENTS / 100.0
        semis = semis + np.where(inside, depth * np.sin(2 * np.pi * VIBRATO_RATE_HZ * t), 0.0)
    return midi_to_hz(semis)
