"""Signal helpers shared by the roles, in NumPy alone.

``import scipy.signal`` costs about 0.8 s on this kind of machine, a large share of a lyric
edit's 2 s; short signals (an edited line, a region of the mix, a line of Kokoro's speech) are
resampled here without it.
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

KAISER_BETA = 5.0  # the anti-aliasing filter of scipy.signal.resample_poly's default
FAST_SAMPLES = 1 << 21  # signals of at most this many samples (47 s at 44.1 kHz) use the NumPy
# paths here; resampling also needs at most FAST_WORK multiply-adds (outputs x taps a phase: such
# a signal oversampled 4 times, as a true-peak meter does) in at most FAST_LOOPS strided steps
# (phases x taps a phase). A resampled second of audio takes about 0.03 s, a 6.5 s line of
# Kokoro's speech 24 -> 22.05 kHz (147/160) 0.01 s, 15 s of a mix oversampled 4 times 0.06 s
# (SciPy: 0.03 s, after 0.8-1.1 s to import); a whole song uses SciPy's, which its render has
# imported anyway
FAST_WORK = 84 * FAST_SAMPLES
FAST_LOOPS = 5000


@lru_cache(maxsize=16)
def _lowpass(up: int, down: int) -> np.ndarray:
    """The resampling filter: a Kaiser-windowed sinc at the lower Nyquist, gain ``up`` at DC."""
    max_rate = max(up, down)
    half_len = 10 * max_rate
    m = np.arange(2 * half_len + 1) - half_len
    h = np.sinc(m / max_rate) / max_rate * np.kaiser(2 * half_len + 1, KAISER_BETA)
    return h / h.sum() * up


def resample_poly(x: np.ndarray, up: int, down: int, axis: int = 0) -> np.ndarray:
    """``x`` resampled by ``up / down`` along ``axis``, as ``scipy.signal.resample_poly`` with its
    default window: output length ``ceil(n * up / down)``, the filter's delay removed.

    Parameters
    ----------
    x : ndarray
        Samples (float).
    up, down : int
        Resampling factors.
    axis : int
        Time axis.

    Returns
    -------
    ndarray
        Samples of ``x``'s float type (float64 for other types).
    """
    g = gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if up == down == 1:
        return x.copy()
    taps_per_phase = -(-len(_lowpass(up, down)) // up)
    n_out = -(-x.shape[axis] * up // down)
    if x.shape[axis] > FAST_SAMPLES or n_out * taps_per_phase > FAST_WORK or up * taps_per_phase > FAST_LOOPS:
        from scipy.signal import resample_poly as scipy_resample

        return scipy_resample(x, up, down, axis=axis)
    x = np.moveaxis(x, axis, 0)
    shape = x.shape
    flat = x.reshape(shape[0], -1)
    out = np.stack([_resample_1d(flat[:, c], up, down) for c in range(flat.shape[1])], axis=1)
    return np.moveaxis(out.reshape((out.shape[0],) + shape[1:]), 0, axis)


def _resample_1d(x: np.ndarray, up: int, down: int) -> np.ndarray:
    h = _lowpass(up, down).astype(x.dtype)
    half_len = (len(h) - 1) // 2
    n_out = -(-len(x) * up // down)
    y = np.zeros(n_out, dtype=x.dtype)
    taps_per_phase = -(-len(h) // up)
    # output k sits at upsampled position k * down + half_len (the filter's delay removed), where
    # h[phase + j * up] meets x[(position - phase) // up - j]; the outputs of one phase are every
    # up-th, and their x positions advance by ``down``: strided slices of a zero-padded x
    pad = taps_per_phase
    xp = np.concatenate([np.zeros(pad, x.dtype), x, np.zeros(pad + n_out * down // up + 2, x.dtype)])
    for k0 in range(min(up, n_out)):
        phase = (k0 * down + half_len) % up
        base0 = (k0 * down + half_len - phase) // up
        m = len(range(k0, n_out, up))
        acc = y[k0::up]
        for j, tap in enumerate(h[phase::up]):
            start = base0 - j + pad
            acc += tap * xp[start: start + (m - 1) * down + 1: down]
    return y


def gaussian_filter1d(x: np.ndarray, sigma: float, axis: int = -1, *, truncate: float = 4.0) -> np.ndarray:
    """``x`` smoothed by a Gaussian of ``sigma`` samples along ``axis``, edges extended with their
    nearest value: ``scipy.ndimage.gaussian_filter1d(x, sigma, axis, mode="nearest")``."""
    x = np.asarray(x, dtype=np.float64)
    radius = int(truncate * float(sigma) + 0.5)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / float(sigma)) ** 2)
    k /= k.sum()
    moved = np.moveaxis(x, axis, -1)
    padded = np.concatenate([np.repeat(moved[..., :1], radius, -1), moved, np.repeat(moved[..., -1:], radius, -1)], -1)
    n = moved.shape[-1]
    out = np.zeros_like(moved)
    for j, w in enumerate(k):
        out += w * padded[..., j: j + n]
    return np.moveaxis(out, -1, axis)


def _edge_padded(x: np.ndarray, before: int, after: int) -> np.ndarray:
    return np.concatenate([np.full(before, x[0]), x, np.full(after, x[-1])])


def minimum_filter1d(x: np.ndarray, size: int) -> np.ndarray:
    """Running minimum over ``size`` samples centred on each one (``size`` odd), edges extended:
    ``scipy.ndimage.minimum_filter1d(x, size, mode="nearest")`` (van Herk / Gil-Werman)."""
    x = np.asarray(x, dtype=np.float64)
    if size % 2 == 0 or size < 1:
        raise ValueError(f"window size {size} is not valid (valid: odd, at least 1)")
    if len(x) > FAST_SAMPLES:  # SciPy's is three times faster once imported
        from scipy.ndimage import minimum_filter1d as scipy_minimum

        return scipy_minimum(x, size, mode="nearest")
    n, w = len(x), size // 2
    padded = _edge_padded(x, w, w + (-(n + 2 * w)) % size)
    blocks = padded.reshape(-1, size)
    ahead = np.minimum.accumulate(blocks, axis=1).ravel()  # minimum from each block's start
    behind = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()  # ... up to each block's end
    return np.minimum(behind[:n], ahead[size - 1: size - 1 + n])


def uniform_filter1d(x: np.ndarray, size: int) -> np.ndarray:
    """Moving average over ``size`` samples centred on each one (``size`` odd), edges extended:
    ``scipy.ndimage.uniform_filter1d(x, size, mode="nearest")``."""
    x = np.asarray(x, dtype=np.float64)
    if size % 2 == 0 or size < 1:
        raise ValueError(f"window size {size} is not valid (valid: odd, at least 1)")
    if len(x) > FAST_SAMPLES:
        from scipy.ndimage import uniform_filter1d as scipy_uniform

        return scipy_uniform(x, size, mode="nearest")
    w = size // 2
    c = np.concatenate([[0.0], np.cumsum(_edge_padded(x, w, w))])
    return (c[size:] - c[:-size]) / size


def limiter_gain(envelope: np.ndarray, sample_rate: int, *, ceiling_db: float, window_s: float = 0.01) -> np.ndarray:
    """Gain curve of a look-ahead limiter that keeps ``envelope * gain`` at or below
    ``ceiling_db``: the needed gain, held by a minimum filter over ±``window_s`` and smoothed by
    a moving average over ``window_s`` (so it has reached its value at each peak and recovers
    smoothly). Shape ``(n_samples,)``, values in (0, 1].

    The gain differs from 1 only within 2 windows of a sample over the ceiling, so only the span
    from the first such sample to the last is filtered (a sung song with no peak over the
    ceiling costs one comparison, not 0.1–0.3 s of filtering)."""
    ceiling = 10 ** (ceiling_db / 20)
    gain = np.ones(len(envelope))
    over = np.flatnonzero(envelope > ceiling)
    if not len(over):
        return gain
    w = max(3, int(window_s * sample_rate) | 1)
    lo, hi = max(0, int(over[0]) - 2 * w), min(len(envelope), int(over[-1]) + 2 * w + 1)
    need = np.minimum(1.0, ceiling / np.maximum(envelope[lo:hi].astype(np.float64), 1e-12))
    held = minimum_filter1d(need, 2 * w + 1)
    gain[lo:hi] = np.minimum(uniform_filter1d(held, w), 1.0)
    return gain
