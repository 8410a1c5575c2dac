"""Diffusion sampling over latents: plain denoising from a sketch, and RePaint-style inpainting.

RePaint (Lugmayr et al., 2022) regenerates only a masked region: at every step the known
region is noised afresh to that step's level (``scheduler.add_noise``) and put back, so the
model always sees the known part as it would look at that noise level, and only the masked part
is generated. After the last step the known region is the original, exactly.

:func:`splice` puts a regenerated stretch of audio back into the original with linear
crossfades, leaving every sample outside ``[start - crossfade, stop + crossfade)`` untouched;
:func:`resample` and :func:`fit` bring a model's audio to the song's rate, channels and length.
"""

from __future__ import annotations

import inspect
from fractions import Fraction
from typing import Callable

import numpy as np


def _step(scheduler, eps, t, x, generator):
    kwargs = {"generator": generator} if "generator" in inspect.signature(scheduler.step).parameters else {}
    return scheduler.step(eps, t, x, **kwargs).prev_sample


def denoise(model: Callable, scheduler, sketch, *, steps: int, strength: float, generator):
    """Img2img: noise ``sketch`` (torch, ``(batch, channels, H, W)``) to the level of
    ``strength`` (0..1] of the schedule and denoise it in ``steps`` scheduler steps.

    ``model(x, t)`` returns the predicted noise.
    """
    import torch

    if not 0 < strength <= 1:
        raise ValueError(f"strength {strength} is not valid (valid: above 0, at most 1)")
    scheduler.set_timesteps(steps)
    timesteps = scheduler.timesteps[steps - max(1, round(steps * strength)):]
    noise = torch.randn(sketch.shape, generator=generator, device=sketch.device, dtype=sketch.dtype)
    x = scheduler.add_noise(sketch, noise, timesteps[:1]) if strength < 1 else noise * scheduler.init_noise_sigma
    for t in timesteps:
        x = _step(scheduler, model(x, t), t, x, generator)
    return x


def repaint(model: Callable, scheduler, known, mask, *, steps: int, generator):
    """Inpaint ``known`` (torch, ``(batch, channels, H, W)``) where ``mask`` is true.

    ``mask`` (bool, broadcastable to ``known``) marks the region to generate; the rest of the
    result equals ``known`` exactly.
    """
    import torch

    mask = mask.to(torch.bool)
    scheduler.set_timesteps(steps)
    x = torch.randn(known.shape, generator=generator, device=known.device, dtype=known.dtype)
    x = x * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        noise = torch.randn(known.shape, generator=generator, device=known.device, dtype=known.dtype)
        known_t = scheduler.add_noise(known, noise, t.reshape(1))
        x = torch.where(mask, x, known_t)
        x = _step(scheduler, model(x, t), t, x, generator)
    return torch.where(mask, x, known)


def frame_mask(n_frames: int, start_frame: int, stop_frame: int) -> np.ndarray:
    """Boolean ``(n_frames,)``, true on ``[start_frame, stop_frame)``."""
    if not 0 <= start_frame < stop_frame <= n_frames:
        raise ValueError(f"region frames [{start_frame}, {stop_frame}) are not valid (valid: within 0..{n_frames}, "
                         f"start before stop)")
    m = np.zeros(n_frames, bool)
    m[start_frame:stop_frame] = True
    return m


def splice(original: np.ndarray, new: np.ndarray, *, start: int, stop: int, crossfade: int) -> np.ndarray:
    """``original`` (samples, channels) with ``new`` put in on ``[start, stop)``.

    ``new`` covers ``[start - crossfade, stop + crossfade)`` of the same timeline (clipped at the
    ends); the crossfades are linear and lie outside ``[start, stop)``. Samples outside
    ``[start - crossfade, stop + crossfade)`` are the original's, bit for bit.
    """
    n = len(original)
    lo, hi = max(0, start - crossfade), min(n, stop + crossfade)
    if not 0 <= start < stop <= n or len(new) != hi - lo:
        raise ValueError(f"splice region [{start}, {stop}) with crossfade {crossfade} needs {hi - lo} new samples "
                         f"within {n}, got {len(new)}")
    out = original.copy()
    w = np.ones(hi - lo, np.float32)
    fade_in, fade_out = start - lo, hi - stop
    if fade_in:
        w[:fade_in] = (np.arange(fade_in) + 0.5) / fade_in
    if fade_out:
        w[len(w) - fade_out:] = 1.0 - (np.arange(fade_out) + 0.5) / fade_out
    w = w[:, None]
    out[lo:hi] = (w * new + (1.0 - w) * original[lo:hi]).astype(original.dtype)
    return out


def resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """``x`` (samples first) resampled from ``sr_from`` to ``sr_to`` Hz (polyphase)."""
    if sr_from == sr_to:
        return x
    from representations.dsp import resample_poly

    r = Fraction(sr_to, sr_from)
    return resample_poly(x, r.numerator, r.denominator, axis=0).astype(np.float32)


def fit(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` (samples, channels) cut or zero-padded to ``n`` samples, stereo."""
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    out = np.zeros((n, 2), np.float32)
    out[: min(n, len(x))] = x[:n]
    return out
