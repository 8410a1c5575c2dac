"""WORLD analysis on the frames that sound, a fast vectorised WORLD-parameter synthesiser, and
timbre change by filtering.

Voice conversion processes whole songs, so everything here is built for speed:
:func:`analyse` runs dio + stonemask on the whole signal but cheaptrick and d4c only on frames
that carry sound; :func:`synthesize` turns F0, spectral envelope and aperiodicity back into a
waveform in the STFT domain — a band-limited pulse train (closed-form Dirichlet kernel) and white
noise, each shaped frame by frame by a minimum-phase filter from the envelope, then overlap-added
(several times faster than ``pyworld.synthesize`` at singing pitches; the same Whisper word error
rate on re-synthesised vocals); :func:`filter_by_envelope` changes timbre without re-synthesis.

Nothing here depends on the whole signal except through arguments: the silence floor can be
given, the frames d4c analyses and each frame's noise follow its index on the whole recording's
frame grid (``frame_offset``), and the pulse train's phase starts afresh with each voiced run. So
a stretch of a recording processed alone gives the samples it gets inside the whole recording
(:meth:`voice.conversion.WorldConverter.convert_with_plan`; dio, which counts its decimation
from the end of the signal, is given a stretch that ends on the same step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import pyworld_module as base_pyworld_module

WORK_RATE = 22050  # Hz: analysis and synthesis rate
HOP = 220  # samples between frames at WORK_RATE (9.977 ms)
N_FFT = 1024  # WORLD's FFT size at 22.05 kHz (f0 floor 71 Hz), also the STFT size
F0_FLOOR_HZ = 60.0
F0_CEIL_HZ = 1000.0
DIO_SPEED = 4  # dio decimation: F0 and voicing as at speed 1 on sung vocals (>99% frames agree)
BLOCK = 1024  # frames processed at once (memory)
SILENCE_DB = -55.0  # frames this far below the loudest one are not analysed (silence)
NOISE_FRAMES = 64  # noise is drawn per run of this many frames, seeded by (seed, run index)
# power scale between WORLD envelopes and this synthesiser, measured against pyworld.synthesize
_LEVEL = 1.0


def pyworld_module():
    """pyworld, or :class:`BackendUnavailable` naming what to install."""
    return base_pyworld_module("voice conversion")


@dataclass
class WorldParams:
    """WORLD parameters at ``WORK_RATE`` on a ``HOP``-sample frame grid.

    ``f0`` is Hz per frame (0 unvoiced), ``sp`` the power envelope and ``ap`` the aperiodicity,
    both ``(n_frames, N_FFT // 2 + 1)`` (float32 from :func:`analyse`); ``active`` marks frames
    that carry sound (others hold a floor envelope and aperiodicity 1).
    """

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    active: np.ndarray
    n_samples: int

    @property
    def frame_s(self) -> float:
        return HOP / WORK_RATE

    @property
    def voiced(self) -> np.ndarray:
        return (self.f0 > 0) & self.active


def frame_levels_db(x: np.ndarray, n_frames: int) -> np.ndarray:
    """RMS level in dB of the ``2 * HOP`` samples around each frame time."""
    sq = np.concatenate([[0.0], np.cumsum(np.asarray(x, dtype=np.float64) ** 2)])
    centre = np.arange(n_frames) * HOP
    lo = np.clip(centre - HOP, 0, len(x))
    hi = np.clip(centre + HOP, 0, len(x))
    rms = np.sqrt((sq[hi] - sq[lo]) / (2 * HOP))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def silence_floor_db(x: np.ndarray) -> float:
    """The frame level (dB) below which :func:`analyse` treats frames of ``x`` as silence:
    ``SILENCE_DB`` below the loudest frame."""
    return float(frame_levels_db(x, len(x) // HOP + 1).max() + SILENCE_DB)


def _ap_frames(idx: np.ndarray, stride: int, frame_offset: int) -> np.ndarray:
    """The sounding frames ``idx`` d4c analyses: every ``stride``-th frame of the absolute grid,
    and the first and last frame of each run of sounding frames."""
    if stride <= 1:
        return idx
    edge = np.ones(len(idx), bool)
    edge[1:-1] = (np.diff(idx)[1:] > 1) | (np.diff(idx)[:-1] > 1)
    return idx[edge | ((idx + frame_offset) % stride == 0)]


def analyse(x: np.ndarray, *, ap_stride: int = 2, floor_db: float | None = None, frame_offset: int = 0) -> WorldParams:
    """WORLD analysis of mono float audio at ``WORK_RATE``.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        Samples at ``WORK_RATE`` Hz.
    ap_stride : int
        d4c runs on every ``ap_stride``-th frame (and the edges of sounding runs); the frames
        between are interpolated (aperiodicity changes slowly; this halves its cost).
    floor_db : float, optional
        Frames at or below this level (dB) are silence; default :func:`silence_floor_db` of ``x``.
    frame_offset : int
        Index of ``x``'s first frame in a longer recording (which frames d4c analyses).

    Returns
    -------
    WorldParams
    """
    pw = pyworld_module()
    x = np.ascontiguousarray(x, dtype=np.float64)
    fp_ms = 1000.0 * HOP / WORK_RATE
    f0, t = pw.dio(x, WORK_RATE, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=fp_ms, speed=DIO_SPEED)
    f0 = pw.stonemask(x, f0, t, WORK_RATE)
    n = len(f0)
    level = frame_levels_db(x, n)
    active = level > (level.max() + SILENCE_DB if floor_db is None else floor_db)
    f0 = np.where(active, f0, 0.0)
    n_bins = N_FFT // 2 + 1
    floor = 1e-12
    sp = np.full((n, n_bins), floor, dtype=np.float32)  # float32 halves the memory of long songs
    ap = np.ones((n, n_bins), dtype=np.float32)
    idx = np.flatnonzero(active)
    if len(idx):
        sp[idx] = pw.cheaptrick(x, f0[idx], t[idx], WORK_RATE, fft_size=N_FFT)
        sub = _ap_frames(idx, ap_stride, frame_offset)
        ap_sub = pw.d4c(x, f0[sub], t[sub], WORK_RATE, fft_size=N_FFT)
        if len(sub) == len(idx):
            ap[idx] = ap_sub
        else:
            pos = np.searchsorted(sub, idx).clip(1, len(sub) - 1)
            lo, hi = sub[pos - 1], sub[pos]
            w = np.where(hi > lo, (idx - lo) / np.maximum(hi - lo, 1), 0.0)[:, None]
            ap[idx] = ap_sub[pos - 1] * (1 - w) + ap_sub[pos] * w
            exact = np.isin(idx, sub)
            ap[idx[exact]] = ap_sub[np.searchsorted(sub, idx[exact])]
    return WorldParams(f0, sp, ap, active, len(x))


def _min_phase(log_amp: np.ndarray) -> np.ndarray:
    """Minimum-phase spectra ``(n, N_FFT//2+1)`` (complex64) with the given natural-log amplitudes."""
    import scipy.fft

    c = scipy.fft.irfft(log_amp.astype(np.float32), n=N_FFT, axis=1)
    c[:, 1:N_FFT // 2] *= 2.0
    c[:, N_FFT // 2 + 1:] = 0.0
    return np.exp(scipy.fft.rfft(c, axis=1))


def _pulse_train(f0_frames: np.ndarray, n_samples: int) -> np.ndarray:
    """Band-limited pulse train following ``f0_frames`` (Hz per frame, 0 = silent), with a flat
    power density equal to that of unit-variance white noise; float32.

    F0 is linear between two voiced frames and held next to an unvoiced one, and the phase starts
    afresh at each voiced run, so a run's samples depend on that run's frames alone.
    """
    out = np.zeros(n_samples, dtype=np.float32)
    voiced = f0_frames > 0
    if not voiced.any():
        return out
    n_frames = len(f0_frames)
    vf = np.flatnonzero(voiced)
    a, b = max(0, vf[0] - 1), min(n_frames - 1, vf[-1] + 1)
    if b <= a:
        b = min(n_frames - 1, a + 1)
        if b <= a:
            return out
    frac = np.arange(HOP) / HOP
    seg, on = f0_frames[a:b + 1], voiced[a:b + 1]
    left = np.where(on[:-1], seg[:-1], seg[1:])
    right = np.where(on[1:], seg[1:], seg[:-1])
    f0_s = (left[:, None] * (1.0 - frac) + right[:, None] * frac).ravel()
    on_s = np.where(frac < 0.5, on[:-1, None], on[1:, None]).ravel()
    step = np.where(on_s, f0_s * (2 * np.pi / WORK_RATE), 0.0)
    total = np.cumsum(step)
    starts = on_s & ~np.concatenate([[False], on_s[:-1]])
    base = np.maximum.accumulate(np.where(starts, total - step, 0.0))  # the phase where each run starts
    phase = np.mod(total - base, 2 * np.pi)
    f0_s = np.where(on_s, f0_s, 1.0)
    k_max = np.floor(0.95 * (WORK_RATE / 2) / f0_s)  # harmonics below 95% of Nyquist
    s = np.sin(0.5 * phase)
    small = np.abs(s) < 1e-6
    dirichlet = np.where(small, k_max + 0.5, np.sin((k_max + 0.5) * phase) / np.where(small, 1.0, 2 * s)) - 0.5
    y = np.where(on_s, 2.0 * np.sqrt(f0_s / WORK_RATE) * dirichlet, 0.0)  # flat density at any F0
    start = a * HOP
    n = min(len(y), n_samples - start)
    out[start:start + n] = y[:n]
    return out


def _noise(frames: np.ndarray, n_bins: int, seed: int) -> np.ndarray:
    """Complex white noise spectra ``(len(frames), n_bins)`` (complex64, unit variance per part)
    for absolute frame indices ``frames``: the same frame always gets the same noise."""
    out = np.empty((len(frames), n_bins), dtype=np.complex64)
    runs = frames // NOISE_FRAMES
    for run in np.unique(runs):
        sel = np.flatnonzero(runs == run)
        z = np.random.default_rng((seed, int(run))).standard_normal((NOISE_FRAMES, 2, n_bins), dtype=np.float32)
        k = frames[sel] - run * NOISE_FRAMES
        out[sel] = z[k, 0] + 1j * z[k, 1]
    return out


def _windowed(padded: np.ndarray, starts: np.ndarray, n_fft: int, window: np.ndarray) -> np.ndarray:
    """Frames of ``padded`` beginning at ``starts``, windowed, shape ``(len(starts), n_fft)``."""
    return padded[starts[:, None] + np.arange(n_fft)[None, :]] * window


def _add_frames(out: np.ndarray, frames: np.ndarray, starts: np.ndarray, hop: int) -> None:
    """Overlap-add ``frames`` at ``starts`` into ``out`` (frames ``n_fft / hop`` apart never overlap)."""
    n_fft = frames.shape[1]
    step = int(np.ceil(n_fft / hop))
    order = starts // hop
    for g in range(step):
        sel = np.flatnonzero(order % step == g)
        if len(sel):
            out[(starts[sel, None] + np.arange(n_fft)[None, :]).ravel()] += frames[sel].ravel()


def _window_sum(n_frames: int, hop: int, window: np.ndarray, total: int) -> np.ndarray:
    """Sum of the squared window over all ``n_frames`` frame positions (``k * hop``)."""
    norm = np.zeros(total, dtype=np.float32)
    w2 = (window ** 2).astype(np.float32)
    starts = np.arange(n_frames) * hop
    for a in range(0, n_frames, BLOCK):
        _add_frames(norm, np.broadcast_to(w2, (len(starts[a:a + BLOCK]), len(w2))), starts[a:a + BLOCK], hop)
    return norm


def synthesize(params: WorldParams, *, seed: int = 0, frame_offset: int = 0) -> np.ndarray:
    """Waveform at ``WORK_RATE`` from WORLD parameters (float32, ``params.n_samples`` long).

    Parameters
    ----------
    params : WorldParams
        F0, envelope and aperiodicity on the ``HOP`` frame grid; frames outside ``active`` are
        silent.
    seed : int
        Seed of the noise excitation: the same parameters and seed give the same samples.
    frame_offset : int
        Index of the first frame in a longer recording: each frame's noise depends on its
        absolute index, so a stretch synthesised alone matches the same frames of the whole.
    """
    import scipy.fft

    n_frames, n_samples = len(params.f0), params.n_samples
    window = np.hanning(N_FFT + 1)[:N_FFT].astype(np.float32)
    rows = np.flatnonzero(params.active)
    total = n_frames * HOP + N_FFT
    if not len(rows):
        return np.zeros(n_samples, dtype=np.float32)
    f0 = np.where(params.active, params.f0, 0.0)
    pulses = np.pad(_pulse_train(f0, n_samples), (N_FFT // 2, N_FFT // 2 + HOP))
    scale = np.float32(np.sqrt(0.5 * np.sum(window ** 2)))  # |noise STFT|^2 of unit white noise
    n_bins = N_FFT // 2 + 1
    out = np.zeros(total, dtype=np.float32)
    for a in range(0, len(rows), BLOCK):  # frame blocks keep memory small on long songs
        r = rows[a:a + BLOCK]
        voiced = f0[r] > 0
        ap = np.where(voiced[:, None], np.clip(params.ap[r], 0.0, 1.0), 1.0).astype(np.float32)
        spec = _noise(r + frame_offset, n_bins, seed) * (scale * ap)
        if voiced.any():
            periodic = scipy.fft.rfft(_windowed(pulses, r[voiced] * HOP, N_FFT, window), axis=1)
            spec[voiced] += periodic * np.sqrt(1.0 - ap[voiced] ** 2)
        spec *= _min_phase(0.5 * np.log(np.maximum(params.sp[r] * _LEVEL, 1e-20)))
        _add_frames(out, scipy.fft.irfft(spec, n=N_FFT, axis=1) * window, r * HOP, HOP)
    norm = _window_sum(n_frames, HOP, window, total)
    sl = slice(N_FFT // 2, N_FFT // 2 + n_samples)
    return out[sl] / np.maximum(norm[sl], 1e-3)


def filter_size(sample_rate: int) -> int:
    """FFT size of :func:`filter_by_envelope` at ``sample_rate`` (its hop is a quarter of it)."""
    return int(2 ** np.ceil(np.log2(N_FFT * sample_rate / WORK_RATE)))


def filter_by_envelope(x: np.ndarray, sample_rate: int, log_gain: np.ndarray) -> np.ndarray:
    """``x`` filtered frame by frame by a smooth gain: a change of timbre without re-synthesis.

    Parameters
    ----------
    x : ndarray, shape (n_samples,)
        Mono audio at ``sample_rate`` Hz (any rate; content above ``WORK_RATE / 2`` takes the
        gain of the top bin).
    sample_rate : int
        Rate of ``x`` in Hz.
    log_gain : ndarray, shape (n_frames, N_FFT // 2 + 1)
        Natural-log power gain per WORLD frame (``HOP`` samples at ``WORK_RATE``) and bin.

    Returns
    -------
    ndarray
        Float32 audio, same length as ``x``: each STFT frame multiplied by the amplitude gain
        ``exp(log_gain / 2)`` of the WORLD frame nearest in time (zero phase).
    """
    import scipy.fft

    x = np.asarray(x, dtype=np.float32)
    n_fft = filter_size(sample_rate)
    hop = n_fft // 4
    window = np.hanning(n_fft + 1)[:n_fft].astype(np.float32)
    n_frames = int(np.ceil(len(x) / hop)) + 1
    padded = np.pad(x, (n_fft // 2, n_fft // 2 + hop))
    # this STFT's bins on the WORLD bins: linear interpolation weights
    f_world = np.linspace(0.0, WORK_RATE / 2, log_gain.shape[1])
    f_here = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    hi = np.minimum(np.searchsorted(f_world, f_here), len(f_world) - 1)
    lo = np.maximum(hi - 1, 0)
    w = np.clip(np.where(hi > lo, (f_here - f_world[lo]) / np.maximum(f_world[hi] - f_world[lo], 1e-9), 0.0),
                0.0, 1.0).astype(np.float32)
    total = n_frames * hop + n_fft
    out = np.zeros(total, dtype=np.float32)
    for a in range(0, n_frames, BLOCK):
        starts = np.arange(a, min(a + BLOCK, n_frames)) * hop
        # the WORLD frame nearest in time to each STFT frame
        world = np.clip(np.rint(starts / sample_rate * WORK_RATE / HOP).astype(int), 0, len(log_gain) - 1)
        g = log_gain[world].astype(np.float32)
        spec = scipy.fft.rfft(_windowed(padded, starts, n_fft, window), axis=1)
        spec *= np.exp(0.5 * (g[:, lo] * (1 - w) + g[:, hi] * w))
        _add_frames(out, scipy.fft.irfft(spec, n=n_fft, axis=1) * window, starts, hop)
    norm = _window_sum(n_frames, hop, window, total)
    sl = slice(n_fft // 2, n_fft // 2 + len(x))
    return out[sl] / np.maximum(norm[sl], 1e-3)
