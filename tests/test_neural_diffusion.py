"""The diffusion renderer with a tiny random UNet: rendering, latents, RePaint region edits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from contract import CheckpointContract, RendererContract, tone_audio
from renderers.repaint import splice
from representations.tokens import Latents

pytest.importorskip("diffusers")
from renderers.diffusion import DiffusionRenderer  # noqa: E402


def test_splice_keeps_everything_outside_the_crossfades():
    rng = np.random.default_rng(0)
    original = rng.normal(size=(1000, 2)).astype(np.float32)
    new = np.ones((300, 2), np.float32)
    out = splice(original, new, start=400, stop=600, crossfade=50)
    assert np.array_equal(out[:350], original[:350]) and np.array_equal(out[650:], original[650:])
    assert np.array_equal(out[400:600], new[50:250])
    w = (out[350:400, 0] - original[350:400, 0]) / (1.0 - original[350:400, 0])  # fade-in weights
    assert np.all(np.diff(w) > 0) and 0 < w[0] < 0.05 and 0.95 < w[-1] < 1  # linear, 1/100 per sample
    with pytest.raises(ValueError, match="needs 300 new samples"):
        splice(original, new[:10], start=400, stop=600, crossfade=50)


def test_mel_codec_round_trip_keeps_pitch_and_level():
    from renderers.diffusion import MelCodec

    codec = MelCodec({"sample_rate": 16000, "n_fft": 1024, "hop_length": 256, "n_mels": 128, "fmin": 30.0,
                      "fmax": 8000.0, "ref_db": 40.0, "db_range": 100.0})
    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    lat = codec.encode(x)
    assert lat.values.shape == (1, 128, 63) and lat.frame_rate_hz == 62.5
    y = codec.decode(lat.values[0], seed=0, n_iter=16)
    assert len(y) == 62 * 256 + 1
    mid = slice(2000, 14000)
    spectrum = np.abs(np.fft.rfft(y[mid] * np.hanning(12000)))
    peak_hz = np.fft.rfftfreq(12000, 1 / 16000)[spectrum.argmax()]
    assert abs(12 * np.log2(peak_hz / 440)) < 0.5  # within half a semitone (128 mel bands)
    assert np.sqrt(np.mean(y[mid] ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)
    assert np.array_equal(y, codec.decode(lat.values[0], seed=0, n_iter=16))


class TestDiffusionContract(RendererContract, CheckpointContract):
    drop = "songwright_mel.json"

    @staticmethod
    def make_tiny(folder):
        return DiffusionRenderer.make_tiny(folder)

    @staticmethod
    def load(folder):
        return DiffusionRenderer(checkpoint=folder, tail_s=0.25)

    @staticmethod
    def weights(folder):
        return folder / "unet" / "diffusion_pytorch_model.safetensors"

    @staticmethod
    def break_shapes(folder):
        cfg = json.loads((folder / "unet" / "config.json").read_text())
        cfg["block_out_channels"] = [32, 32]
        (folder / "unet" / "config.json").write_text(json.dumps(cfg))

    def test_stems_follow_the_sketch(self, backend, arrangement):
        latents = backend.latents(arrangement)
        assert sorted(latents) == ["bass", "drums", "piano"]
        for lat in latents.values():
            assert isinstance(lat, Latents) and lat.kind == "log-mel" and lat.values.shape[:2] == (1, 16)
            assert lat.frame_rate_hz == 62.5 and lat.n_frames == int(np.ceil((2.0 + 0.25) * 62.5)) + 1

    def test_repaint_latents_keeps_the_known_frames_exactly(self, backend):
        codec = backend._model()[2]
        audio = tone_audio(2.0, 16000, 1)
        lat = codec.encode(audio.mono())
        new = backend.repaint_latents(lat, start_s=0.8, end_s=1.2)
        a, b = lat.frame_of(0.8), lat.frame_of(1.2)
        outside = np.ones(lat.n_frames, bool)
        outside[a:b] = False
        assert np.array_equal(new.values[..., outside], lat.values[..., outside])
        assert np.abs(new.values[..., a:b] - lat.values[..., a:b]).mean() > 0.1  # regenerated (latents in [-1, 1])
        again = backend.repaint_latents(lat, start_s=0.8, end_s=1.2)
        assert np.array_equal(again.values, new.values)

    def test_repaint_audio_outside_the_crossfades_is_untouched(self, backend):
        audio = tone_audio(2.0, 44100, 2)
        out = backend.repaint(audio, start_s=0.8, end_s=1.2, crossfade_s=0.05)
        sr = audio.sample_rate
        lo, hi = round(0.75 * sr), round(1.25 * sr)
        assert out.samples.shape == audio.samples.shape and out.sample_rate == sr
        assert np.array_equal(out.samples[:lo], audio.samples[:lo])
        assert np.array_equal(out.samples[hi:], audio.samples[hi:])
        inside = slice(round(0.8 * sr), round(1.2 * sr))
        diff = np.sqrt(np.mean((out.samples[inside] - audio.samples[inside]) ** 2))
        assert diff > 0.1 * np.sqrt(np.mean(audio.samples[inside] ** 2))
        with pytest.raises(ValueError, match="region"):
            backend.repaint(audio, start_s=1.5, end_s=3.0)
