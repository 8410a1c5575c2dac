"""Timbre changes on WORLD parameters, shared by the singer and voice conversion."""

from __future__ import annotations

import numpy as np


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
    src = np.minimum(np.arange(n_bins) / ratio, n_bins - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_bins - 1)
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
