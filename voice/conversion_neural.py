"""A neural voice converter in the Seed-VC / OpenVoice mould, loaded from a local checkpoint.

A content encoder turns the source's WORLD envelope (mel-cepstrum, ``n_features`` per frame)
into speaker-free content (instance-normalised bottleneck); a speaker encoder pools the
reference's frames into one embedding; a decoder turns content plus embedding into the target
envelope. F0 moves by the same whole-song register shift as the ``"world"`` backend, aperiodicity
is the source's, and the waveform comes from :func:`voice.conversion_synth.synthesize`.

Checkpoints are local folders only: ``config.json`` (the :class:`NeuralVCConfig` fields) and
``model.safetensors``. ``NeuralConverter.tiny()`` builds a random-weight model for tests. torch
is imported only inside this module's functions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from representations.audio import Audio
from representations.errors import BackendUnavailable

from .base import VOICE_CONVERTERS, VoiceConverter
from .conversion_synth import N_FFT, WORK_RATE

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
MODEL_NAME = "voice-conversion"  # the checkpoint's name for pipeline.models lookups


@dataclass(frozen=True)
class NeuralVCConfig:
    """Architecture of the neural converter (saved as ``config.json`` beside the weights)."""

    n_features: int = 40  # mel-cepstral coefficients per frame (pyworld.code_spectral_envelope)
    hidden: int = 192
    content_dim: int = 64
    speaker_dim: int = 128
    n_layers: int = 4
    kernel_size: int = 5
    sample_rate: int = WORK_RATE

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{f.name} = {v!r} is not valid (valid: a positive whole number)")
        if self.sample_rate != WORK_RATE:
            raise ValueError(f"sample_rate = {self.sample_rate} is not valid (valid: {WORK_RATE})")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size = {self.kernel_size} is not valid (valid: an odd number)")

    @classmethod
    def tiny(cls) -> "NeuralVCConfig":
        """Two layers of width 16: the download-free size for tests."""
        return cls(n_features=16, hidden=16, content_dim=8, speaker_dim=8, n_layers=2, kernel_size=3)

    @classmethod
    def from_dict(cls, d: dict, *, where: str = "config") -> "NeuralVCConfig":
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(valid))
        if unknown:
            raise BackendUnavailable(f"{where}: unknown key {unknown[0]!r} (valid: {', '.join(valid)})")
        try:
            return cls(**d)
        except (TypeError, ValueError) as e:
            raise BackendUnavailable(f"{where}: {e}") from None

    def to_dict(self) -> dict:
        return asdict(self)


def _build_model(config: NeuralVCConfig, *, seed: int | None = None):
    """The torch module for ``config``; random weights drawn from ``seed`` when given."""
    import torch
    from torch import nn

    def stack(n_in: int, n_out: int) -> nn.Sequential:
        layers: list[nn.Module] = [nn.Conv1d(n_in, config.hidden, config.kernel_size, padding=config.kernel_size // 2)]
        for _ in range(config.n_layers):
            layers += [nn.GELU(), nn.Conv1d(config.hidden, config.hidden, config.kernel_size,
                                            padding=config.kernel_size // 2)]
        layers += [nn.GELU(), nn.Conv1d(config.hidden, n_out, 1)]
        return nn.Sequential(*layers)

    class ContentSpeakerDecoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.content = stack(config.n_features, config.content_dim)
            self.norm = nn.InstanceNorm1d(config.content_dim, affine=False)
            self.speaker = stack(config.n_features, config.speaker_dim)
            self.decoder = stack(config.content_dim + config.speaker_dim, config.n_features)

        def forward(self, source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
            """source (1, F, T), reference (1, F, Tr) → target features (1, F, T)."""
            content = self.norm(self.content(source))
            speaker = self.speaker(reference).mean(dim=2, keepdim=True).expand(-1, -1, content.shape[2])
            return source + self.decoder(torch.cat([content, speaker], dim=1))

    model = ContentSpeakerDecoder()
    if seed is not None:
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * (0.5 / np.sqrt(max(1, p[0].numel()))))
    return model.eval()


class NeuralConverter(VoiceConverter):
    """Content-encoder + speaker-embedding + decoder voice conversion (torch, CPU).

    Build with :meth:`from_pretrained` (a local checkpoint folder) or :meth:`tiny`.

    Parameters
    ----------
    config : NeuralVCConfig
    model : torch.nn.Module
        The module :func:`_build_model` makes for ``config``, with its weights.
    register : str
        "octave" or "semitone": how the melody may move (see :class:`voice.conversion.WorldConverter`).
    """

    name = "neural"

    def __init__(self, config: NeuralVCConfig, model, *, register: str = "octave", seed: int = 0):
        self.config, self.model, self.register, self.seed = config, model, register, seed
        self.last_plan = None

    @classmethod
    def tiny(cls, *, seed: int = 0, **kwargs) -> "NeuralConverter":
        config = NeuralVCConfig.tiny()
        return cls(config, _build_model(config, seed=seed), **kwargs)

    @classmethod
    def from_pretrained(cls, folder: str | Path, **kwargs) -> "NeuralConverter":
        """Load ``folder/config.json`` and ``folder/model.safetensors``; anything missing or broken
        raises :class:`BackendUnavailable` naming the path and the expected files."""
        folder = Path(folder)
        cfg_path, w_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
        expected = f"expected {CONFIG_FILE} and {WEIGHTS_FILE} in {folder}"
        if not cfg_path.is_file() or not w_path.is_file():
            raise BackendUnavailable(f"voice converter 'neural': no checkpoint at {folder} ({expected})")
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (ValueError, OSError, UnicodeDecodeError) as e:
            raise BackendUnavailable(f"{cfg_path}: unreadable config ({type(e).__name__}; {expected})") from None
        if not isinstance(cfg, dict):
            raise BackendUnavailable(f"{cfg_path}: the config must be a JSON object ({expected})")
        config = NeuralVCConfig.from_dict(cfg, where=str(cfg_path))
        try:
            from safetensors.torch import load_file
        except ImportError as e:
            raise BackendUnavailable(f"voice converter 'neural' needs torch and safetensors ({e})") from None
        model = _build_model(config)
        try:
            state = load_file(str(w_path))
            model.load_state_dict(state, strict=True)
        except Exception as e:  # safetensors and torch raise several types for a bad file
            msg = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise BackendUnavailable(f"{w_path}: not a checkpoint of this model ({msg}; {expected})") from None
        return cls(config, model.eval(), **kwargs)

    def save_pretrained(self, folder: str | Path) -> None:
        """Write ``config.json`` and ``model.safetensors`` into ``folder`` (created if needed)."""
        from safetensors.torch import save_file

        from representations.atomic import atomic_path, atomic_write_text

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / CONFIG_FILE, json.dumps(self.config.to_dict(), indent=1))
        with atomic_path(folder / WEIGHTS_FILE) as tmp:
            save_file({k: v.contiguous() for k, v in self.model.state_dict().items()}, str(tmp))

    # ---- conversion -----------------------------------------------------------------------------
    def _features(self, sp: np.ndarray) -> np.ndarray:
        import pyworld

        return pyworld.code_spectral_envelope(np.ascontiguousarray(np.maximum(sp, 1e-20), dtype=np.float64), WORK_RATE,
                                              self.config.n_features)

    def convert(self, audio: Audio, reference: Audio, *, source_midi: float | None = None) -> Audio:
        """``audio`` re-voiced towards ``reference``: mono, at ``audio``'s rate and length."""
        import pyworld
        import torch

        from representations.errors import AudioInputError

        from .conversion import _match_level, analyse_audio, resample
        from .conversion_profile import register_shift, voice_profile
        from .conversion_synth import WorldParams, analyse, synthesize

        ref_params = analyse_audio(reference)
        profile = voice_profile(ref_params)
        if profile is None:
            raise AudioInputError("reference: no voice found (less than 1 s of voiced sound; valid: 3-30 s of speech "
                                  "or singing by one person)")
        x = resample(audio.mono(), audio.sample_rate, WORK_RATE)
        params = analyse(x)
        source = voice_profile(params)
        shift = 0
        if source is not None:
            centre = source.f0_median_midi if source_midi is None else source_midi
            shift = register_shift(centre, profile.comfortable_midi, mode=self.register)
        sp = params.sp.copy()
        act = params.active
        if act.any():
            src = torch.from_numpy(self._features(params.sp[act]).T[None].astype(np.float32))
            ref = torch.from_numpy(self._features(ref_params.sp[ref_params.voiced]).T[None].astype(np.float32))
            with torch.no_grad():
                out = self.model(src, ref)[0].T.numpy().astype(np.float64)
            sp[act] = pyworld.decode_spectral_envelope(np.ascontiguousarray(out), WORK_RATE, N_FFT)
        converted = WorldParams(params.f0 * 2.0 ** (shift / 12.0), sp, params.ap, act, params.n_samples)
        y = _match_level(synthesize(converted, seed=self.seed), x, params)
        y = resample(y, WORK_RATE, audio.sample_rate)
        n = audio.samples.shape[0]
        y = np.pad(y[:n], (0, max(0, n - len(y))))
        self.last_plan = {"shift_semitones": int(shift), "reference": profile.to_dict()}
        return Audio(np.clip(y, -1.0, 1.0).astype(np.float32)[:, None], audio.sample_rate)


EXPECTS = f"{CONFIG_FILE} and {WEIGHTS_FILE} (as NeuralConverter.save_pretrained writes them)"


@VOICE_CONVERTERS.register("neural")
def neural_converter(*, checkpoint_dir: str | Path | None = None, models: dict | None = None, base_dir=None,
                     **kwargs) -> NeuralConverter:
    """The ``"neural"`` backend from ``checkpoint_dir``, else the ``"voice-conversion"`` checkpoint
    found by :mod:`pipeline.models` (spec ``models:``, ``$SONGWRIGHT_MODELS_DIR/voice-conversion``,
    the models config file)."""
    from pipeline.models import require_checkpoint

    folder = require_checkpoint(MODEL_NAME, backend="voice converter 'neural'", expects=EXPECTS, models=models,
                                base_dir=base_dir, checkpoint=checkpoint_dir)
    return NeuralConverter.from_pretrained(folder, **kwargs)
