"""Representations: JSON and WAV round trips, validation on construction, musical value types."""

from __future__ import annotations

import json
from fractions import Fraction as F

import numpy as np
import pytest

from representations import (
    Arrangement, Audio, Chord, ChordSymbol, Key, LeadSheet, LyricLine, Meter, Note, Section, SongwrightError,
    StemSet, Syllable, Track, TrackNote, VocalLine, VocalNote, VocalScore,
)

INVALID = (ValueError, SongwrightError)


def lead_sheet() -> LeadSheet:
    lyrics = [
        LyricLine(0, "Hello there", (Syllable("Hel", ("HH", "AH0"), 0, 0, True),
                                     Syllable("lo", ("L", "OW1"), 1, 0, False),
                                     Syllable("there", ("DH", "EH1", "R"), 1, 1, True))),
        LyricLine(1, "你好", (Syllable("你", ("n", "i3"), 1, 0, True), Syllable("好", ("h", "ao3"), 1, 1, True))),
    ]
    melody = [Note(0, 1, 60, 90, (0, 0)), Note(1, F(1, 2), 62, 80, (0, 1)),
              Note(F(3, 2), F(1, 2), 64, 80, (0, 1), True),
              Note(2, F(2, 3), 67, 100, (0, 2)), Note(4, 2, 65, 90, (1, 0)), Note(6, 2, 64, 90, (1, 1)),
              Note(F(17, 2), F(1, 2), 72)]
    chords = [Chord(0, 4, "C"), Chord(4, 2, "Am7"), Chord(6, 1, "F/A"), Chord(7, 1, "G7sus4"), Chord(8, 4, "Bbmaj7")]
    return LeadSheet("Test", Key("C", "major"), Meter(4, 4), 96.0,
                     [Section("verse", "Verse 1", 0, 2), Section("chorus", "Chorus", 2, 1)], chords, melody, lyrics,
                     style_tags=["pop", "piano"], language="en")


def arrangement() -> Arrangement:
    return Arrangement(120.0, Meter(6, 8), 12, [
        Track("piano", 0, [TrackNote(F(1, 3), F(1, 3), 60, 70), TrackNote(0, 1, 64)], gain_db=-2.5, pan=0.25),
        Track("drums", 0, [TrackNote(0, F(1, 8), 36, 110)], is_drum=True),
    ])


def vocal_score() -> VocalScore:
    notes = [VocalNote(0.5, 0.25, 60, 90, "Hel", ("HH", "AH0"), 0, 0, 0, True),
             VocalNote(0.75, 0.5, 62, 90, "lo", ("L", "OW1"), 0, 1, 0, False),
             VocalNote(1.25, 0.125, 64, 90, "lo", ("OW1",), 0, 1, 0, False, True)]
    return VocalScore(notes, [VocalLine(0, "Hello", 0.5, 1.375)], language="en", voice="joe", duration_s=4.0,
                      extras={"f0_hz": [220.0, 221.5]})


# ---- JSON round trips -------------------------------------------------------------------------
@pytest.mark.parametrize("make, cls", [(lead_sheet, LeadSheet), (arrangement, Arrangement), (vocal_score, VocalScore)])
def test_json_round_trip(tmp_path, make, cls):
    obj = make()
    d = obj.to_dict()
    assert cls.from_dict(json.loads(json.dumps(d))) == obj  # through real JSON text
    obj.save(tmp_path / "x.json")
    assert cls.load(tmp_path / "x.json") == obj
    bad = dict(d, format="something/9")
    with pytest.raises(INVALID, match="something/9"):
        cls.from_dict(bad)


def test_lead_sheet_json_keeps_exact_fractions_and_unicode(tmp_path):
    ls = lead_sheet()
    ls.save(tmp_path / "ls.json")
    text = (tmp_path / "ls.json").read_text(encoding="utf-8")
    assert '"2/3"' in text and "你好" in text
    back = LeadSheet.load(tmp_path / "ls.json")
    assert back.melody[3].duration_beats == F(2, 3) and isinstance(back.melody[3].start_beats, F)
    assert back.lyrics[0].syllables[1].phonemes == ("L", "OW1")


# ---- audio ------------------------------------------------------------------------------------
def test_audio_wav_round_trip_within_16_bit(tmp_path, rng):
    samples = rng.uniform(-0.99, 0.99, size=(4410, 2)).astype(np.float32)
    samples[0] = [1.5, -1.5]  # clipped on save
    Audio(samples, 44100).save(tmp_path / "a.wav")
    back = Audio.load(tmp_path / "a.wav")
    assert back.sample_rate == 44100 and back.samples.shape == (4410, 2) and back.samples.dtype == np.float32
    err = np.abs(back.samples[1:] - samples[1:]).max()
    assert err <= 1.0 / 32768 + 1e-7  # 16-bit quantisation
    assert back.samples[0, 0] == pytest.approx(1.0, abs=1e-4) and back.samples[0, 1] == pytest.approx(-1.0, abs=1e-4)
    mono = Audio(np.zeros(100), 16000)
    assert mono.samples.shape == (100, 1) and mono.duration_s == pytest.approx(100 / 16000)


def test_stem_set_round_trip(tmp_path, rng):
    stems = StemSet({"bass": Audio(rng.uniform(-0.5, 0.5, (2205, 2)), 22050),
                     "piano": Audio(rng.uniform(-0.5, 0.5, (2205, 1)), 22050)})
    stems.save(tmp_path / "stems")
    back = StemSet.load(tmp_path / "stems")
    assert sorted(back.stems) == ["bass", "piano"] and back.sample_rate == 22050
    for name, audio in stems.stems.items():
        assert np.abs(back.stems[name].samples - audio.samples).max() <= 1.0 / 32768 + 1e-7
    total = back.sum()
    assert total.n_channels == 2
    want = back.stems["bass"].samples[:, 1] + back.stems["piano"].samples[:, 0]
    np.testing.assert_allclose(total.samples[:, 1], want, atol=1e-6)
    with pytest.raises(INVALID, match="22050"):
        StemSet({"a": Audio(np.zeros(10), 22050), "b": Audio(np.zeros(10), 44100)})


# ---- validation on construction ---------------------------------------------------------------
def test_invalid_values_raise_naming_the_value():
    with pytest.raises(INVALID, match="pitch 200"):
        Note(0, 1, 200)
    with pytest.raises(INVALID, match="duration -1"):
        Note(0, -1, 60)
    with pytest.raises(INVALID, match="beat -1: start"):
        Note(-1, 1, 60)
    with pytest.raises(INVALID, match="velocity 0"):
        TrackNote(0, 1, 60, 0)
    with pytest.raises(INVALID, match="duration 0"):
        TrackNote(0, 0, 60)
    with pytest.raises(INVALID, match="program 200"):
        Track("piano", 200)
    with pytest.raises(INVALID, match="duplicate track names"):
        Arrangement(100, Meter(), 4, [Track("a", 0), Track("a", 1)])
    with pytest.raises(INVALID, match="'Cxyz'"):
        Chord(0, 1, "Cxyz")
    with pytest.raises(INVALID, match="'H'"):
        Key("H")
    with pytest.raises(INVALID, match="'dorian'"):
        Key("C", "dorian")
    with pytest.raises(INVALID, match="5/3"):
        Meter(5, 3)
    with pytest.raises(INVALID, match="'four'"):
        Meter.parse("four")
    with pytest.raises(INVALID, match="'solo'"):
        Section("solo", "Solo", 0, 4)
    with pytest.raises(INVALID, match="vocal notes overlap at 0.600 s"):
        VocalScore([VocalNote(0.5, 0.2, 60, 90, "a", (), 0, 0), VocalNote(0.6, 0.2, 62, 90, "b", (), 0, 1)], [])
    with pytest.raises(INVALID, match="duration -0.1"):
        VocalNote(0.5, -0.1, 60, 90, "a", (), 0, 0)
    with pytest.raises(INVALID, match="shape"):
        Audio(np.zeros((2, 2, 2)), 8000)


def test_lead_sheet_rejects_missing_syllable_and_bad_tempo():
    ls = lead_sheet()
    with pytest.raises(INVALID, match=r"syllable \(2, 0\), which does not exist"):
        LeadSheet("x", Key(), Meter(), 100, ls.sections, [], [Note(0, 1, 60, 90, (2, 0))], ls.lyrics)
    with pytest.raises(INVALID, match=r"syllable \(0, 3\)"):
        LeadSheet("x", Key(), Meter(), 100, ls.sections, [], [Note(0, 1, 60, 90, (0, 3))], ls.lyrics)
    with pytest.raises(INVALID, match="tempo 1000"):
        LeadSheet("x", Key(), Meter(), 1000, ls.sections, [], [], [])


# ---- value types ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, tonic, mode", [
    ("G major", "G", "major"), ("E minor", "E", "minor"), ("Em", "E", "minor"), ("F#m", "F#", "minor"),
    ("Bb", "Bb", "major"), ("  a  minor ", "A", "minor"), ("ebmin", "Eb", "minor"), ("Db", "C#", "major"),
    ("B♭ maj", "Bb", "major"),
])
def test_key_parse(text, tonic, mode):
    assert Key.parse(text) == Key(tonic, mode)


@pytest.mark.parametrize("text", ["H", "", "C lydian", "Cmajor7", None])
def test_key_parse_rejects(text):
    with pytest.raises(INVALID):
        Key.parse(text)


def test_key_scale_and_transpose():
    assert Key("A", "minor").scale_pcs() == (9, 11, 0, 2, 4, 5, 7)
    assert Key("D").scale_pcs() == (2, 4, 6, 7, 9, 11, 1)
    assert Key("Bb").transposed(3) == Key("C#") and Key("E", "minor").transposed(-5) == Key("B", "minor")
    assert str(Key.parse("F#m")) == "F# minor"


def test_meter():
    assert Meter.parse("6/8").bar_beats == 3 and Meter(6, 8).compound
    assert Meter(6, 8).strong_beats() == (0, F(3, 2)) and Meter(12, 8).strong_beats() == (0, F(3, 2), 3, F(9, 2))
    assert Meter(4, 4).strong_beats() == (0, 2) and Meter(3, 4).strong_beats() == (0,)
    assert Meter(2, 2).bar_beats == 4 and not Meter(3, 4).compound and Meter(3, 8).bar_beats == F(3, 2)
    assert str(Meter.parse(" 7 / 8 ")) == "7/8"


@pytest.mark.parametrize("symbol, root, pcs, bass, minor", [
    ("Am7", 9, {9, 0, 4, 7}, 9, True), ("F/C", 5, {5, 9, 0}, 0, False), ("Bbmaj7", 10, {10, 2, 5, 9}, 10, False),
    ("F#m7b5", 6, {6, 9, 0, 4}, 6, True), ("Csus4", 0, {0, 5, 7}, 0, False), ("C/E", 0, {0, 4, 7}, 4, False),
    ("Ebdim7", 3, {3, 6, 9, 0}, 3, True), ("G9", 7, {7, 11, 2, 5, 9}, 7, False), ("D5", 2, {2, 9}, 2, False),
])
def test_chord_symbol_parse(symbol, root, pcs, bass, minor):
    c = ChordSymbol.parse(symbol)
    assert (c.root_pc, set(c.pitch_classes()), c.bass_pc, c.is_minor) == (root, pcs, bass, minor)


@pytest.mark.parametrize("symbol", ["H7", "Cxyz", "C/H", "cm", ""])
def test_chord_symbol_parse_rejects(symbol):
    with pytest.raises(INVALID, match=repr(symbol).replace("(", r"\(")):
        ChordSymbol.parse(symbol)


@pytest.mark.parametrize("semitones", [3, -5, 12])
def test_transposed_keeps_intervals(semitones):
    ls = lead_sheet()
    moved = ls.transposed(semitones)
    assert [b.pitch - a.pitch for a, b in zip(ls.melody, moved.melody)] == [semitones] * len(ls.melody)
    assert [(n.start_beats, n.duration_beats, n.syllable, n.melisma) for n in moved.melody] == \
        [(n.start_beats, n.duration_beats, n.syllable, n.melisma) for n in ls.melody]
    assert moved.key.tonic_pc == (ls.key.tonic_pc + semitones) % 12 and moved.key.mode == ls.key.mode
    for a, b in zip(ls.chords, moved.chords):
        pa, pb = a.parsed, b.parsed
        assert pb.root_pc == (pa.root_pc + semitones) % 12 and pb.bass_pc == (pa.bass_pc + semitones) % 12
        assert pb.intervals == pa.intervals and (b.start_beats, b.duration_beats) == (a.start_beats, a.duration_beats)
    assert moved.lyrics == ls.lyrics and ls.melody[0].pitch == 60  # the original is unchanged


def test_lead_sheet_time_helpers():
    ls = lead_sheet()
    assert ls.n_bars == 3 and ls.total_beats == 12 and ls.duration_s == pytest.approx(7.5)
    assert ls.beats_to_seconds(F(3, 2)) == pytest.approx(0.9375)
    assert ls.chord_at(F(9, 2)).symbol == "Am7" and ls.chord_at(12) is None
    assert [n.pitch for n in ls.sung_notes(0)] == [60, 62, 64, 67]
    assert ls.line_span_beats(1) == (4, 8)
