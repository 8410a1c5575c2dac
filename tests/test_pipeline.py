"""The whole default pipeline on a short song, judged by measuring what it wrote."""

import json

import numpy as np
import pytest

from conftest import SHORT_SPEC as SHORT
from folders import digests
from pipeline import SongPipeline
from pipeline.quality import loudness_lufs, pitch_accuracy, tempo_bpm, true_peak_dbtp
from representations.audio import Audio
from representations.leadsheet import LeadSheet
from representations.midi import read_midi_notes


def test_song_folder_contract(rendered_song):
    f = rendered_song.folder
    for name in ("mix.wav", "vocals.wav", "accompaniment.wav", "leadsheet.json", "leadsheet.musicxml",
                 "arrangement.mid", "lyrics.lrc", "manifest.json", "spec.yaml"):
        assert (f / name).stat().st_size > 0, name
    m = json.loads((f / "manifest.json").read_text())
    assert len(m["spec_hash"]) == 64 and m["seed"] == 1
    assert set(m["timings_s"]) == {"plan", "arrange", "render", "sing", "mix", "write"}
    stems = {p.stem for p in (f / "stems").glob("*.wav")}
    assert {"piano", "acoustic_guitar", "violin"} <= stems, stems  # every instrument named in the tags
    for p in (f / "stems").glob("*.wav"):
        a = Audio.load(p)
        assert a.sample_rate == 44100 and a.n_channels == 2
        assert np.abs(a.samples).max() > 1e-3, f"{p.name} is silent"
    assert not list(f.parent.glob(".*staging*"))


def test_vocals_sing_the_notes_in_arrangement_mid(rendered_song):
    f = rendered_song.folder
    vocal_notes = read_midi_notes(f / "arrangement.mid")["vocals"]
    vocals = Audio.load(f / "vocals.wav")
    r = pitch_accuracy(vocals.mono(), vocals.sample_rate, [(s, e, p) for s, e, p, _ in vocal_notes])
    assert r["raw_pitch_accuracy"] >= 0.90, r
    assert r["voicing_recall"] >= 0.5, r


def test_every_syllable_sung_exactly_once(rendered_song):
    sheet = LeadSheet.load(rendered_song.folder / "leadsheet.json")
    n_syllables = sum(len(l.syllables) for l in sheet.lyrics)
    starts = [n for n in sheet.melody if n.syllable is not None and not n.melisma]
    assert sorted(n.syllable for n in starts) == sorted((i, j) for i, l in enumerate(sheet.lyrics) for j in range(len(l.syllables)))
    vocal_notes = read_midi_notes(rendered_song.folder / "arrangement.mid")["vocals"]
    assert len(vocal_notes) == len(sheet.sung_notes()) >= n_syllables


def test_mix_loudness_and_true_peak(rendered_song):
    mix = Audio.load(rendered_song.folder / "mix.wav")
    assert abs(loudness_lufs(mix.samples, mix.sample_rate) + 14.0) <= 0.5
    assert true_peak_dbtp(mix.samples) <= -1.0 + 0.1  # 16-bit quantisation and 4x oversampling estimate


def test_mix_tempo_matches_spec(rendered_song):
    mix = Audio.load(rendered_song.folder / "mix.wav")
    bpm = tempo_bpm(mix.mono(), mix.sample_rate, start_bpm=110)
    assert abs(bpm - 100) / 100 <= 0.04, bpm


def test_lrc_has_one_timestamp_per_line(rendered_song):
    from representations.lrc import read_lrc

    entries = read_lrc(rendered_song.folder / "lyrics.lrc")
    assert [t for _, t in entries] == [l.text for l in rendered_song.lead_sheet.lyrics]
    times = [s for s, _ in entries]
    assert times == sorted(times) and times[0] > 0


def test_same_spec_and_seed_give_identical_wavs(rendered_song, short_spec, tmp_path, monkeypatch):
    # again without the band mixed while the vocals are sung: the same bytes either way
    monkeypatch.setattr(SongPipeline, "_mix_band_ahead", staticmethod(lambda *args: None))
    again = SongPipeline().render(short_spec, tmp_path / "again")
    for name in ["mix.wav", "vocals.wav", "accompaniment.wav"] + [f"stems/{p.name}" for p in (rendered_song.folder / "stems").glob("*.wav")]:
        assert (again.folder / name).read_bytes() == (rendered_song.folder / name).read_bytes(), name


def test_the_band_is_mixed_while_the_vocals_are_sung():
    """Only where the band is known before singing: not for harmonies (a sung stem joins the
    band) nor for an instrumental (nothing is sung)."""
    from pipeline import SongSpec
    from renderers.mixer import MasteringMixer
    from representations.audio import StemSet

    stem = np.random.default_rng(0).standard_normal((44100, 2)).astype(np.float32) * 0.1
    stems = StemSet({"piano": Audio(stem, 44100)})

    def ahead(text: str):
        spec = SongSpec.from_text(text, source="test.yaml")
        return SongPipeline._mix_band_ahead(MasteringMixer(), stems, SongPipeline().plan(spec))

    band = ahead(SHORT)
    assert band is not None and band.result().bus.shape == (2, 44100)
    assert ahead(SHORT.replace("tags: pop,", "tags: pop, harmonies,")) is None
    assert ahead("title: T\ntags: lofi, piano, 80 BPM\ninstrumental: true\nseed: 1\n") is None


def test_failed_render_leaves_previous_folder_untouched(rendered_song, short_spec, tmp_path, monkeypatch):
    import shutil

    target = tmp_path / "keep"
    shutil.copytree(rendered_song.folder, target)
    before = digests(target)
    pipe = SongPipeline()

    def boom(*a, **k):
        raise RuntimeError("singer crashed")

    monkeypatch.setattr(pipe, "sing", boom)
    with pytest.raises(RuntimeError):
        pipe.render(short_spec, target)
    assert digests(target) == before
    assert not list(tmp_path.glob(".*staging*"))
