"""The MusicGen renderer with tiny random checkpoints (plain and melody-conditioned)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from contract import CheckpointContract, RendererContract, short_arrangement
from representations.tokens import AudioTokens

pytest.importorskip("transformers")
from generators.musicgen import MusicgenRenderer, chromagram, style_text  # noqa: E402


def test_chromagram_follows_the_melody_then_the_bass():
    arr = short_arrangement(4)  # piano C E G C over a bass C, at 120 BPM (0.5 s a beat)
    chroma = chromagram(arr, frame_rate_hz=4.0)
    assert chroma.shape == (8, 12) and np.all(chroma.sum(axis=1) == 1)
    assert list(chroma.argmax(axis=1)) == [0, 0, 4, 4, 7, 7, 0, 0]
    sheet_like = type("S", (), {"melody": [], "chords": [], "style_tags": ["jazz", "sax"]})()
    assert list(chromagram(arr, frame_rate_hz=4.0, lead_sheet=sheet_like).argmax(axis=1)) == [0] * 8
    assert style_text(arr) == "piano, bass, drums, 120 bpm"
    assert style_text(arr, sheet_like) == "jazz, sax, 120 bpm"


class TestMusicgenContract(RendererContract, CheckpointContract):
    single_stem = "accompaniment"
    beats = 2

    @staticmethod
    def make_tiny(folder):
        return MusicgenRenderer.make_tiny(folder)

    @staticmethod
    def load(folder):
        return MusicgenRenderer(checkpoint=folder, tail_s=0.25)

    @staticmethod
    def weights(folder):
        return folder / "model.safetensors"

    @staticmethod
    def break_shapes(folder):
        cfg = json.loads((folder / "config.json").read_text())
        cfg["decoder"]["hidden_size"] = 32
        (folder / "config.json").write_text(json.dumps(cfg))

    def test_missing_tokenizer(self, checkpoint, tmp_path):
        folder = self._copy(checkpoint, tmp_path)
        (folder / "tokenizer.json").unlink()
        self._unavailable(folder, "tokenizer.json or spiece.model")

    def test_tokens_cover_the_song_and_decode_with_the_codec(self, backend, tmp_path):
        arr = short_arrangement()
        tokens = backend.generate_tokens(arr)
        assert isinstance(tokens, AudioTokens) and tokens.codec == "encodec_8khz"
        assert tokens.n_codebooks == 2 and tokens.frame_rate_hz == 125.0 and tokens.codebook_size == 64
        assert tokens.n_frames == int(np.ceil((arr.duration_s + backend.tail_s) * 125))
        tokens.save(tmp_path / "tokens.npz")
        back = AudioTokens.load(tmp_path / "tokens.npz")
        assert np.array_equal(back.codes, tokens.codes)
        assert back.prompt == tokens.prompt == "piano, bass, drums, 120 bpm"
        audio = backend.decode(back)
        assert audio.sample_rate == 8000 and audio.samples.shape[0] == tokens.n_frames * 64  # 64 samples a frame
        other = AudioTokens((back.codes + 1) % 64, back.codec, back.frame_rate_hz, back.sample_rate, 64)
        assert np.abs(backend.decode(other).samples - audio.samples).max() > 1e-3  # the codes are what is heard

    def test_stereo_checkpoint_interleaves_the_channels(self, tmp_path):
        folder = MusicgenRenderer.make_tiny(tmp_path / "stereo", stereo=True)
        r = MusicgenRenderer(checkpoint=folder, tail_s=0.0, guidance_scale=1.0)
        tokens = r.generate_tokens(short_arrangement(2))
        assert tokens.audio_channels == 2 and tokens.codes.shape == (4, 125)
        audio = r.decode(tokens)
        assert audio.samples.shape == (8000, 2)
        assert np.abs(audio.samples[:, 0] - audio.samples[:, 1]).max() > 1e-3  # left and right codes differ

    def test_windows_continue_the_previous_tokens(self, checkpoint):
        arr = short_arrangement()
        whole = MusicgenRenderer(checkpoint=checkpoint, tail_s=0.25, window_s=0.6, context_s=0.2)
        tokens = whole.generate_tokens(arr)
        assert tokens.n_frames == int(np.ceil((arr.duration_s + 0.25) * 125))  # 4 windows of 0.4 s new frames


class TestMusicgenMelody(CheckpointContract):
    @staticmethod
    def make_tiny(folder):
        return MusicgenRenderer.make_tiny(folder, melody=True)

    @staticmethod
    def load(folder):
        return MusicgenRenderer(checkpoint=folder, tail_s=0.0, guidance_scale=1.0)

    @staticmethod
    def run_once(backend):
        return backend.render(short_arrangement(2))

    @staticmethod
    def weights(folder):
        return folder / "model.safetensors"

    @staticmethod
    def break_shapes(folder):
        cfg = json.loads((folder / "config.json").read_text())
        cfg["num_chroma"] = 24
        (folder / "config.json").write_text(json.dumps(cfg))

    def test_melody_checkpoint_gets_the_chroma(self, backend):
        model = backend._model()[0]
        seen = []
        generate = model.generate

        def spy(**kwargs):
            seen.append(kwargs["input_features"].cpu().numpy()[0])
            return generate(**kwargs)

        model.generate = spy
        try:
            arr = short_arrangement(4)
            tokens = backend.generate_tokens(arr)
            moved = type(arr)(arr.tempo_bpm, arr.meter, arr.total_beats, [
                type(t)(t.name, t.program, [type(n)(n.start_beats, n.duration_beats, n.pitch + 5, n.velocity)
                                            for n in t.notes], t.is_drum) for t in arr.tracks])
            backend.generate_tokens(moved)
        finally:
            del model.generate
        assert tokens.n_frames == 250 and len(seen) == 2
        fps = model.config.chroma_length / 30.0  # MusicGen-melody's chroma spans 30 s
        expected = chromagram(arr, frame_rate_hz=fps)
        assert seen[0].shape == expected.shape and np.array_equal(seen[0], expected)
        assert np.array_equal(seen[1].argmax(axis=1), (seen[0].argmax(axis=1) + 5) % 12)
