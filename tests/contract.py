"""Shared contract tests per role, for backends with a tiny random-weight checkpoint.

A test class mixes in one role contract and :class:`CheckpointContract` and supplies, as static
methods:

- ``make_tiny(folder)``: write a tiny checkpoint into ``folder``;
- ``load(folder)``: build the backend on that checkpoint;
- ``weights(folder)``: the safetensors file to corrupt; ``break_shapes(folder)``: edit the
  checkpoint so its weights no longer fit its config;

and as a class attribute ``drop``, a file whose absence must be reported. The role contract
supplies ``run_once(backend)``, one call of the role's verb on a small input.

The contracts check type, shapes, sample rate, determinism under a seed, save/load, that no
socket is opened while loading and running, and that a missing or broken checkpoint is one
BackendUnavailable line naming the folder and what to put there.
"""

from __future__ import annotations

import shutil
import socket
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from representations.arrangement import Arrangement, Track, TrackNote
from representations.audio import Audio, StemSet
from representations.errors import BackendUnavailable
from representations.leadsheet import LeadSheet
from representations.music import Meter

SHORT_LYRICS = """\
title: Contract Song
tags: pop, piano, 100 BPM
lyrics: |
  [Verse]
  Morning light across the river
  [Chorus]
  Sing it out loud
"""


def short_arrangement(beats: int = 4) -> Arrangement:
    """A ``beats``-beat arrangement at 120 BPM: a piano line, a bass note per beat, a kick per beat."""
    piano = Track("piano", 0, [TrackNote(i, 1, 60 + (0, 4, 7, 12)[i % 4], 90) for i in range(beats)])
    bass = Track("bass", 33, [TrackNote(i, 1, 36, 90) for i in range(beats)])
    drums = Track("drums", 0, [TrackNote(i, Fraction(1, 2), 36, 100) for i in range(beats)], is_drum=True)
    return Arrangement(120.0, Meter(4, 4), beats, [piano, bass, drums])


def tone_audio(seconds: float = 1.0, sample_rate: int = 44100, channels: int = 2) -> Audio:
    """A sung-like tone (220 Hz with vibrato) over a low drone, ``channels`` channels."""
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t + 0.5 * np.sin(2 * np.pi * 5 * t)) + 0.2 * np.sin(2 * np.pi * 55 * t)
    return Audio(np.repeat(x[:, None].astype(np.float32), channels, axis=1), sample_rate)


class CheckpointContract:
    drop: str = "config.json"

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _one_torch_thread(cls):
        """Tiny models run fastest on one thread of a shared CPU; the setting is restored after."""
        torch = pytest.importorskip("torch")
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        yield
        torch.set_num_threads(before)

    @pytest.fixture(scope="class")
    @classmethod
    def checkpoint(cls, tmp_path_factory) -> Path:
        return cls.make_tiny(tmp_path_factory.mktemp(cls.__name__))

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, checkpoint):
        return cls.load(checkpoint)

    def _copy(self, checkpoint: Path, tmp_path: Path) -> Path:
        return Path(shutil.copytree(checkpoint, tmp_path / "ckpt"))

    def _unavailable(self, folder: Path, *words: str) -> str:
        with pytest.raises(BackendUnavailable) as e:
            self.run_once(self.load(folder))
        msg = str(e.value)
        assert "\n" not in msg and str(folder) in msg and "put " in msg, msg
        for w in words:
            assert w in msg, msg
        return msg

    def test_missing_folder(self, tmp_path):
        self._unavailable(tmp_path / "absent", "does not exist")

    def test_missing_file(self, checkpoint, tmp_path):
        folder = self._copy(checkpoint, tmp_path)
        (folder / self.drop).unlink()
        self._unavailable(folder, Path(self.drop).name)

    def test_corrupt_safetensors(self, checkpoint, tmp_path):
        folder = self._copy(checkpoint, tmp_path)
        f = self.weights(folder)
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
        self._unavailable(folder, "not a valid safetensors file")

    def test_wrong_shapes(self, checkpoint, tmp_path):
        folder = self._copy(checkpoint, tmp_path)
        self.break_shapes(folder)
        self._unavailable(folder, "cannot load")

    def test_no_network(self, checkpoint, monkeypatch):
        def refuse(*args, **kwargs):
            raise AssertionError(f"network access attempted: {args}")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket.socket, "connect_ex", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        self.run_once(self.load(checkpoint))


class PlannerContract:
    """Planner: ``plan(spec, seed=) -> LeadSheet`` that sings every syllable once, deterministic."""

    @pytest.fixture(scope="class")
    @classmethod
    def spec(cls):
        from pipeline import SongSpec

        return SongSpec.from_text(SHORT_LYRICS, source="contract.yaml")

    def run_once(self, backend):
        from pipeline import SongSpec

        return backend.plan(SongSpec.from_text(SHORT_LYRICS, source="contract.yaml"), seed=0)

    def test_plan_type_and_lyrics(self, backend, spec):
        sheet = backend.plan(spec, seed=0)
        assert isinstance(sheet, LeadSheet)
        assert [l.text for l in sheet.lyrics] == ["Morning light across the river", "Sing it out loud"]
        for li, line in enumerate(sheet.lyrics):
            starts = [n.syllable[1] for n in sheet.sung_notes(li) if not n.melisma]
            assert starts == list(range(len(line.syllables)))
        assert sheet.n_bars >= 2 and sheet.total_beats == sheet.n_bars * sheet.meter.bar_beats

    def test_deterministic(self, backend, spec):
        assert backend.plan(spec, seed=3).to_dict() == backend.plan(spec, seed=3).to_dict()

    def test_save_load(self, backend, spec, tmp_path):
        sheet = backend.plan(spec, seed=1)
        sheet.save(tmp_path / "sheet.json")
        assert LeadSheet.load(tmp_path / "sheet.json").to_dict() == sheet.to_dict()


class RendererContract:
    """Renderer: ``render(arrangement) -> StemSet``, stereo at 44.1 kHz, the arrangement's length
    plus the backend's tail, one stem per track (or ``single_stem``), deterministic."""

    single_stem: str | None = None
    beats: int = 4

    @pytest.fixture(scope="class")
    @classmethod
    def arrangement(cls):
        return short_arrangement(cls.beats)

    @pytest.fixture(scope="class")
    @classmethod
    def stems(cls, backend, arrangement):
        return backend.render(arrangement)

    def run_once(self, backend):
        return backend.render(short_arrangement(self.beats))

    def test_stems(self, backend, arrangement, stems):
        assert isinstance(stems, StemSet)
        names = [self.single_stem] if self.single_stem else [t.name for t in arrangement.tracks]
        assert sorted(stems.stems) == sorted(names)
        n = round(arrangement.duration_s * 44100) + round(backend.tail_s * 44100)
        for audio in stems.stems.values():
            assert audio.sample_rate == 44100 == backend.sample_rate
            assert audio.samples.shape == (n, 2) and audio.samples.dtype == np.float32
            assert np.all(np.isfinite(audio.samples)) and np.abs(audio.samples).max() <= 1.0

    def test_deterministic(self, backend, arrangement, stems):
        again = backend.render(arrangement)
        for name, audio in stems.stems.items():
            assert np.array_equal(audio.samples, again.stems[name].samples)

    def test_save_load(self, stems, tmp_path):
        stems.save(tmp_path / "stems")
        back = StemSet.load(tmp_path / "stems")
        for name, audio in stems.stems.items():
            assert back.stems[name].sample_rate == audio.sample_rate
            np.testing.assert_allclose(back.stems[name].samples, audio.samples, atol=1.0 / 32767)  # 16-bit WAV


class SeparatorContract:
    """Separator: ``separate(audio)`` -> vocals and accompaniment, each like the input, deterministic."""

    def run_once(self, backend):
        return backend.separate(tone_audio(0.5))

    @pytest.mark.parametrize("channels,rate", [(1, 44100), (2, 22050)])
    def test_separate(self, backend, channels, rate):
        audio = tone_audio(1.0, rate, channels)
        out = backend.separate(audio)
        assert sorted(out) == ["accompaniment", "vocals"]
        for part in out.values():
            assert isinstance(part, Audio) and part.sample_rate == rate
            assert part.samples.shape == audio.samples.shape and np.all(np.isfinite(part.samples))

    def test_deterministic_and_save_load(self, backend, tmp_path):
        audio = tone_audio(1.0)
        a, b = backend.separate(audio), backend.separate(audio)
        for name in a:
            assert np.array_equal(a[name].samples, b[name].samples)
            y = a[name]
            y.samples = np.clip(y.samples, -1, 1)
            y.save(tmp_path / f"{name}.wav")
            np.testing.assert_allclose(Audio.load(tmp_path / f"{name}.wav").samples, y.samples, atol=1.0 / 32767)
