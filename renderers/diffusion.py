"""The ``"diffusion"`` renderer: a diffusers model turns mel latents into audio, and repaints regions.

Checkpoint folder (diffusers layout, like AudioLDM's subfolders)::

    unet/config.json, unet/diffusion_pytorch_model.safetensors   a UNet2DModel over (1, n_mels, frames)
    scheduler/scheduler_config.json                              DDIM, DDPM or another diffusers scheduler
    songwright_mel.json                                          the mel analysis the model was trained on

Latents are :class:`~representations.tokens.Latents` of kind ``"log-mel"``: ``n_mels`` bands,
``-1`` .. ``+1`` for ``ref_db - db_range`` .. ``ref_db`` dB. Rendering draws each track's notes
as a mel sketch (partials of every note, noise bursts for drums), noises it to ``strength`` and
lets the model denoise it (one stem per track); the audio comes back through Griffin-Lim.
:meth:`DiffusionRenderer.repaint` regenerates a time region of existing audio (RePaint,
:mod:`renderers.repaint`) and splices it in with crossfades, so audio outside the region and its
crossfades is unchanged, sample for sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.models import (check_weights, import_offline, load_failure, package_missing, require_checkpoint,
                             require_files, torch_device)
from representations.arrangement import Arrangement, Track
from representations.audio import Audio, StemSet
from representations.errors import BackendUnavailable
from representations.tokens import Latents

from .base import RENDERERS, Renderer
from .repaint import denoise, fit, frame_mask, repaint, resample, splice

MEL_FILE = "songwright_mel.json"
EXPECTS = (f"a diffusers folder with unet/ (UNet2DModel, 1 channel in and out), scheduler/ and {MEL_FILE} "
           f"(sample_rate, n_fft, hop_length, n_mels, fmin, fmax, ref_db, db_range); "
           f"DiffusionRenderer.make_tiny(folder) writes a tiny one")
MEL_KEYS = {"sample_rate": int, "n_fft": int, "hop_length": int, "n_mels": int, "fmin": float, "fmax": float,
            "ref_db": float, "db_range": float}
OPTIONAL_KEYS = {"steps": int, "strength": float, "griffin_lim_iters": int, "chunk_frames": int}


def read_mel_config(folder: Path) -> dict:
    path = folder / MEL_FILE
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
        unknown = set(cfg) - set(MEL_KEYS) - set(OPTIONAL_KEYS)
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        out = {k: t(cfg[k]) for k, t in MEL_KEYS.items()}
        out |= {k: t(cfg[k]) for k, t in OPTIONAL_KEYS.items() if k in cfg}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BackendUnavailable(f"diffusion renderer: {path} is not a usable mel config ({' '.join(str(e).split())}); "
                                 f"put {EXPECTS} there") from None
    return out


class MelCodec:
    """Audio <-> normalised log-mel latents with one mel analysis (``cfg`` of :data:`MEL_KEYS`)."""

    def __init__(self, cfg: dict):
        import librosa

        self.cfg = cfg
        self.fb = librosa.filters.mel(sr=cfg["sample_rate"], n_fft=cfg["n_fft"], n_mels=cfg["n_mels"],
                                      fmin=cfg["fmin"], fmax=cfg["fmax"])
        self.fps = cfg["sample_rate"] / cfg["hop_length"]
        # mel -> linear power: each band's power spread evenly over its bins, bins interpolated
        # between the bands that cover them (a fast stand-in for librosa's NNLS inverse)
        cover = self.fb.sum(axis=0, keepdims=True)
        weights = np.divide(self.fb, cover, out=np.zeros_like(self.fb), where=cover > 0)
        self.inverse = (weights / np.maximum(self.fb.sum(axis=1, keepdims=True), 1e-12)).T.astype(np.float32)

    def latents(self, values: np.ndarray) -> Latents:
        return Latents(values, "log-mel", self.fps, self.cfg["sample_rate"],
                       {k: self.cfg[k] for k in MEL_KEYS})

    def normalise(self, power: np.ndarray) -> np.ndarray:
        db = 10.0 * np.log10(np.maximum(power, 1e-12))
        c = self.cfg
        return np.clip((db - c["ref_db"]) / (c["db_range"] / 2) + 1.0, -1.0, 1.0).astype(np.float32)

    def _stft(self, y):
        import torch

        c = self.cfg
        return torch.stft(y, c["n_fft"], c["hop_length"], window=torch.hann_window(c["n_fft"], dtype=y.dtype),
                          center=True, pad_mode="reflect", return_complex=True)

    def _istft(self, spec, length: int):
        import torch

        c = self.cfg
        return torch.istft(spec, c["n_fft"], c["hop_length"], window=torch.hann_window(c["n_fft"]), center=True,
                           length=length)

    def encode(self, mono: np.ndarray) -> Latents:
        """Latents ``(1, n_mels, frames)`` of ``mono`` audio at the codec's sample rate."""
        import torch

        S = self._stft(torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32))).abs().numpy() ** 2
        return self.latents(self.normalise(self.fb @ S)[None])

    def decode(self, values: np.ndarray, *, seed: int, n_iter: int, momentum: float = 0.99) -> np.ndarray:
        """Mono audio of latents ``(n_mels, frames)`` by fast Griffin-Lim (Perraudin et al., 2013);
        frame ``f`` is centred on sample ``f * hop``; the random initial phases come from ``seed``."""
        import torch

        c = self.cfg
        db = (np.clip(values, -1, 1) - 1.0) * (c["db_range"] / 2) + c["ref_db"]
        mag = torch.from_numpy(np.sqrt(self.inverse @ (10.0 ** (db / 10.0))).astype(np.float32))
        length = (values.shape[-1] - 1) * c["hop_length"] + 1
        gen = torch.Generator().manual_seed(seed)
        angles = torch.exp(2j * np.pi * torch.rand(mag.shape, generator=gen))
        previous = torch.zeros_like(angles)
        for _ in range(n_iter):
            rebuilt = self._stft(self._istft(mag * angles, length))
            angles = rebuilt - (momentum / (1 + momentum)) * previous
            angles = angles / angles.abs().clamp_min(1e-16)
            previous = rebuilt
        return self._istft(mag * angles, length).numpy().astype(np.float32)

    def sketch(self, track: Track, *, tempo_bpm: float, n_frames: int) -> np.ndarray:
        """A mel sketch ``(n_mels, n_frames)`` of ``track``: six decaying partials per note, or a
        noise burst per drum hit, at the power a sine of the note's velocity would have."""
        c = self.cfg
        n_bins = c["n_fft"] // 2 + 1
        S = np.zeros((n_bins, n_frames), np.float32)
        t_frames = np.arange(n_frames) / self.fps
        for note in track.notes:
            t0 = float(note.start_beats) * 60.0 / tempo_bpm
            t1 = float(note.end_beats) * 60.0 / tempo_bpm
            f0, f1 = int(t0 * self.fps), min(n_frames, int(np.ceil((t1 + 0.05) * self.fps)))
            if f0 >= n_frames or f1 <= f0:
                continue
            amp = (note.velocity / 127.0) * c["n_fft"] / 4
            env = np.exp(-(t_frames[f0:f1] - t0) / (0.12 if track.is_drum else 0.6)) ** 2
            if track.is_drum:
                S[:, f0:f1] += (0.3 * amp) ** 2 * env
                continue
            hz = 440.0 * 2.0 ** ((note.pitch - 69) / 12.0)
            for k in range(1, 7):
                b = int(round(k * hz * c["n_fft"] / c["sample_rate"]))
                if b < n_bins:
                    S[b, f0:f1] += (amp / k) ** 2 * env
        return self.normalise(self.fb @ S + 1e-12)


@RENDERERS.register("diffusion")
class DiffusionRenderer(Renderer):
    """Stems from mel sketches refined by a local diffusers model (see the module docstring).

    Parameters
    ----------
    checkpoint : str or Path, optional
        The checkpoint folder; default: the ``"diffusion"`` entry found by :mod:`pipeline.models`.
    seed : int
        Same arrangement and seed, same stems.
    steps, strength, griffin_lim_iters : optional
        Scheduler steps, how far the sketch is noised (0..1], Griffin-Lim iterations; default
        from the checkpoint's mel config (else 25, 0.6, 32).
    tail_s : float
        Seconds added after the arrangement's end.
    """

    name = "diffusion"

    def __init__(self, *, checkpoint: str | Path | None = None, models: dict | None = None, base_dir=None,
                 device: str | None = None, seed: int = 0, steps: int | None = None, strength: float | None = None,
                 griffin_lim_iters: int | None = None, sample_rate: int = 44100, tail_s: float = 2.0):
        self.checkpoint, self.models, self.base_dir, self.device = checkpoint, models, base_dir, device
        self.seed, self.sample_rate, self.tail_s = seed, sample_rate, tail_s
        self._overrides = {"steps": steps, "strength": strength, "griffin_lim_iters": griffin_lim_iters}
        self._loaded = None

    def folder(self) -> Path:
        folder = require_checkpoint("diffusion", backend="diffusion renderer", expects=EXPECTS, models=self.models,
                                    base_dir=self.base_dir, checkpoint=self.checkpoint)
        require_files(folder, ["unet/config.json", ("scheduler/scheduler_config.json",), MEL_FILE],
                      backend="diffusion renderer", expects=EXPECTS)
        check_weights(folder / "unet", backend="diffusion renderer", expects=EXPECTS)
        return folder

    def check(self) -> str:
        if (missing := package_missing("torch", "diffusers", "librosa")):
            raise BackendUnavailable(f"diffusion renderer: needs the Python package {missing!r}")
        folder = self.folder()
        read_mel_config(folder)
        return f"checkpoint {folder}"

    def _model(self):
        if self._loaded is None:
            folder = self.folder()
            cfg = read_mel_config(folder)
            diffusers = import_offline("diffusers", backend="diffusion renderer")
            try:
                unet = diffusers.UNet2DModel.from_pretrained(str(folder / "unet"), local_files_only=True)
                sched_cfg = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
                scheduler = getattr(diffusers, sched_cfg["_class_name"]).from_pretrained(
                    str(folder / "scheduler"), local_files_only=True)
                if unet.config.in_channels != 1 or unet.config.out_channels != 1:
                    raise ValueError(f"the UNet has {unet.config.in_channels} input and {unet.config.out_channels} "
                                     f"output channels (valid: 1 and 1)")
            except Exception as e:  # diffusers raises many types for a bad checkpoint
                raise load_failure(e, backend="diffusion renderer", folder=folder, expects=EXPECTS) from None
            device = torch_device(self.device)
            for k, default in (("steps", 25), ("strength", 0.6), ("griffin_lim_iters", 32), ("chunk_frames", 1024)):
                cfg[k] = self._overrides.get(k) or cfg.get(k, default)
            self._loaded = (unet.to(device).eval(), scheduler, MelCodec(cfg), device)
        return self._loaded

    def _run(self, fn, x: np.ndarray, **kwargs) -> np.ndarray:
        """Apply a sampler (:func:`denoise` / :func:`repaint`) to ``x`` ``(batch, 1, n_mels, frames)``."""
        import torch

        unet, scheduler, codec, device = self._model()
        n = x.shape[-1]
        pad = (-n) % (2 ** (len(unet.config.block_out_channels) - 1))
        xt = torch.from_numpy(np.pad(x, [(0, 0)] * 3 + [(0, pad)], mode="edge")).to(device)
        extra = {k: torch.from_numpy(np.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, pad)], mode="edge")).to(device)
                 for k, v in kwargs.pop("arrays", {}).items()}
        gen = torch.Generator(device=device).manual_seed(self.seed)
        with torch.no_grad():
            out = fn(lambda s, t: unet(s, t).sample, scheduler, xt, generator=gen, **extra, **kwargs)
        return out[..., :n].cpu().numpy().astype(np.float32)

    # ---- the role -------------------------------------------------------------------------------
    def latents(self, arrangement: Arrangement) -> dict[str, Latents]:
        """Denoised mel latents per track."""
        unet, scheduler, codec, _ = self._model()
        n = int(np.ceil((arrangement.duration_s + self.tail_s) * codec.fps)) + 1
        sketch = np.stack([codec.sketch(t, tempo_bpm=arrangement.tempo_bpm, n_frames=n) for t in arrangement.tracks])
        out = np.zeros_like(sketch)
        chunk = codec.cfg["chunk_frames"]
        for a in range(0, n, chunk):  # long songs in chunks the model can take
            out[..., a:a + chunk] = self._run(denoise, sketch[:, None, :, a:a + chunk], steps=codec.cfg["steps"],
                                              strength=codec.cfg["strength"])[:, 0]
        return {t.name: codec.latents(out[i:i + 1]) for i, t in enumerate(arrangement.tracks)}

    def decode(self, latents: Latents) -> Audio:
        """Mono audio of ``latents`` at the model's sample rate (Griffin-Lim)."""
        codec = self._model()[2]
        return Audio(codec.decode(latents.values[0], seed=self.seed, n_iter=codec.cfg["griffin_lim_iters"]),
                     codec.cfg["sample_rate"])

    def render(self, arrangement: Arrangement) -> StemSet:
        """One stereo stem per track at ``sample_rate``, the arrangement's length plus ``tail_s``."""
        n = round(arrangement.duration_s * self.sample_rate) + round(self.tail_s * self.sample_rate)
        stems = {}
        latents = self.latents(arrangement)
        for t in arrangement.tracks:
            audio = self.decode(latents[t.name])
            x = resample(audio.samples, audio.sample_rate, self.sample_rate) * 10 ** (t.gain_db / 20)
            stems[t.name] = Audio(np.clip(fit(x, n), -1, 1), self.sample_rate)
        return StemSet(stems)

    # ---- region edits ---------------------------------------------------------------------------
    def repaint_latents(self, latents: Latents, *, start_s: float, end_s: float) -> Latents:
        """``latents`` with the frames of ``[start_s, end_s)`` regenerated; all others unchanged."""
        a, b = latents.frame_of(start_s), max(latents.frame_of(start_s) + 1, latents.frame_of(end_s))
        mask = np.broadcast_to(frame_mask(latents.n_frames, a, b), latents.values.shape)[None].copy()
        out = self._run(repaint, latents.values[None], steps=self._model()[2].cfg["steps"], arrays={"mask": mask})
        return Latents(out[0], latents.kind, latents.frame_rate_hz, latents.sample_rate, dict(latents.params))

    def repaint(self, audio: Audio, *, start_s: float, end_s: float, crossfade_s: float = 0.05) -> Audio:
        """``audio`` with ``[start_s, end_s)`` regenerated; samples outside
        ``[start_s - crossfade_s, end_s + crossfade_s)`` are the input's, unchanged."""
        codec = self._model()[2]
        sr_m = codec.cfg["sample_rate"]
        hop = codec.cfg["hop_length"]
        start, stop = round(start_s * audio.sample_rate), round(end_s * audio.sample_rate)
        xf = round(crossfade_s * audio.sample_rate)
        if not 0 <= start < stop <= len(audio.samples):
            raise ValueError(f"region {start_s}-{end_s} s is not valid (valid: within 0-{audio.duration_s:.3f} s)")
        lat = codec.encode(resample(audio.mono(), audio.sample_rate, sr_m))
        new = self.repaint_latents(lat, start_s=start_s, end_s=end_s)
        lo, hi = max(0, start - xf), min(len(audio.samples), stop + xf)
        margin = 8  # frames decoded beyond the spliced stretch, away from Griffin-Lim's edges
        f0 = max(0, int(lo / audio.sample_rate * codec.fps) - margin)
        f1 = min(new.n_frames, int(np.ceil(hi / audio.sample_rate * codec.fps)) + margin + 1)
        y = codec.decode(new.values[0][:, f0:f1], seed=self.seed, n_iter=codec.cfg["griffin_lim_iters"])
        y = resample(y[:, None], sr_m, audio.sample_rate)[:, 0]
        offset = round(f0 * hop * audio.sample_rate / sr_m)
        seg = np.zeros(hi - lo, np.float32)
        part = y[max(0, lo - offset): hi - offset]
        seg[: len(part)] = part
        peak = float(np.max(np.abs(seg))) if seg.size else 0.0
        if peak > 0.99:
            seg *= 0.99 / peak
        seg = np.repeat(seg[:, None], audio.n_channels, axis=1)
        return Audio(splice(audio.samples, seg, start=start, stop=stop, crossfade=xf), audio.sample_rate)

    @staticmethod
    def make_tiny(folder: str | Path, *, seed: int = 0) -> Path:
        """Write a tiny random checkpoint (UNet2DModel of 2 blocks of width 16, DDIM, 16 mels at 16 kHz)."""
        import torch

        diffusers = import_offline("diffusers", backend="diffusion renderer")
        folder = Path(folder)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            unet = diffusers.UNet2DModel(in_channels=1, out_channels=1, block_out_channels=(16, 16),
                                         layers_per_block=1, down_block_types=("DownBlock2D", "DownBlock2D"),
                                         up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=8,
                                         add_attention=False)
        unet.save_pretrained(str(folder / "unet"))
        diffusers.DDIMScheduler(num_train_timesteps=1000).save_pretrained(str(folder / "scheduler"))
        (folder / MEL_FILE).write_text(json.dumps({
            "sample_rate": 16000, "n_fft": 512, "hop_length": 256, "n_mels": 16, "fmin": 30.0, "fmax": 8000.0,
            "ref_db": 40.0, "db_range": 80.0, "steps": 4, "strength": 0.6, "griffin_lim_iters": 8,
            "chunk_frames": 512}, indent=1))
        return folder
