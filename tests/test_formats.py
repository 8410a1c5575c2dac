"""File formats of the representations: MusicXML both ways, MIDI, LRC."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction as F

import mido
import pytest

from representations import (
    Arrangement, Chord, Key, LeadSheet, LyricLine, Meter, Note, Section, SpecError, Syllable, Track, TrackNote,
    VocalLine, VocalNote, VocalScore,
)
from representations.lrc import read_lrc, write_lrc
from representations.midi import read_midi_notes, write_midi
from representations.music import _QUALITIES
from representations.musicxml import chord_symbol_from_m21, chord_symbol_to_m21, read_musicxml, write_musicxml


# ---- MusicXML ---------------------------------------------------------------------------------
def _syl(text: str, word: int, start: bool = True) -> Syllable:
    return Syllable(text, word=word, word_start=start)


def english_sheet() -> LeadSheet:
    """3/4 in Bb: notes tied over bar lines, a triplet, melismas, rests, two sections."""
    lyrics = [
        LyricLine(0, "Morning light, across the \"river\"!", (
            _syl("Mor", 0), _syl("ning", 0, False), _syl("light", 1), _syl("a", 2), _syl("cross", 2, False),
            _syl("the", 3), _syl("ri", 4), _syl("ver", 4, False))),
        LyricLine(0, "I can hear you", (_syl("I", 0), _syl("can", 1), _syl("hear", 2), _syl("you", 3))),
        LyricLine(1, "Sing it out.", (_syl("Sing", 0), _syl("it", 1), _syl("out", 2))),
    ]
    melody, t = [], F(1)
    plan = [(1, 62, (0, 0)), (F(1, 2), 64, (0, 1)), (F(5, 2), 65, (0, 2)), (1, 67, (0, 3)), (F(1, 3), 69, (0, 4)),
            (F(1, 3), 67, (0, 5)), (F(1, 3), 65, (0, 6)), (2, 64, (0, 7)), (1, 62, (0, 7), True),
            (1, 60, (1, 0)), (1, 62, (1, 1)), (F(3, 2), 64, (1, 2)), (F(5, 2), 65, (1, 3)),
            (None, 24), (2, 70, (2, 0)), (1, 69, (2, 1)), (5, 67, (2, 2)), (F(3, 4), 65, (2, 2), True)]
    for step in plan:
        if step[0] is None:
            t = F(step[1])
            continue
        dur, pitch, syl, *mel = step
        melody.append(Note(t, dur, pitch, 90, syl, bool(mel)))
        t += dur
    chords = [Chord(0, 3, "Bb"), Chord(3, 3, "Gm7"), Chord(6, 3, "Ebmaj7"), Chord(9, 3, "F7sus4"),
              Chord(12, F(3, 2), "Cm7b5"), Chord(F(27, 2), F(3, 2), "F/A"), Chord(15, 3, "Dm"), Chord(18, 2, "Eb6"),
              Chord(24, 6, "Bbadd9"), Chord(30, 3, "F#dim7"), Chord(33, 3, "Gsus2"), Chord(36, 2, "Caug")]
    sections = [Section("verse", "Verse 1", 0, 8), Section("chorus", "Chorus", 8, 5)]
    return LeadSheet("Round Trip", Key("Bb", "major"), Meter(3, 4), 92.0, sections, chords, melody, lyrics)


def chinese_sheet() -> LeadSheet:
    """6/8 in F# minor, one Chinese line per section, a melisma across the bar line."""
    line1, line2 = "月亮代表我的心", "你问我，爱你有多深？"
    lyrics = [LyricLine(0, line1, tuple(_syl(c, i) for i, c in enumerate(line1))),
              LyricLine(1, line2, tuple(_syl(c, i) for i, c in enumerate(line2.replace("，", "")[:-1])))]
    melody, t = [], F(3, 2)
    for i in range(len(line1)):
        melody.append(Note(t, F(1, 2), 66 + (i % 5), 90, (0, i)))
        t += F(1, 2)
    melody.append(Note(t, F(3, 2), 73, 90, (0, len(line1) - 1), True))
    t = F(15, 2)  # a quarter rest after the melisma, which ties over the bar line into the chorus
    for i in range(len(lyrics[1].syllables)):
        melody.append(Note(t, F(3, 4), 61 + (i % 7), 90, (1, i)))
        t += F(3, 4)
    chords = [Chord(0, 6, "F#m"), Chord(6, 3, "C#7"), Chord(9, F(9, 2), "Bm"), Chord(F(27, 2), F(3, 2), "E")]
    sections = [Section("verse", "Verse", 0, 2), Section("chorus", "Chorus", 2, 3)]
    return LeadSheet("月亮", Key("F#", "minor"), Meter(6, 8), 70.0, sections, chords, melody, lyrics, language="zh")


def _melody(ls: LeadSheet):
    return [(n.start_beats, n.duration_beats, n.pitch, n.syllable, n.melisma) for n in ls.melody]


def _chords(ls: LeadSheet):
    return [(c.start_beats, c.duration_beats, c.symbol) for c in ls.chords]


@pytest.mark.parametrize("make", [english_sheet, chinese_sheet])
@pytest.mark.parametrize("suffix", [".musicxml", ".mxl"])
def test_musicxml_round_trip_is_exact(tmp_path, make, suffix):
    ls = make()
    path = tmp_path / f"song{suffix}"
    write_musicxml(ls, path)
    back = read_musicxml(path)
    assert _melody(back) == _melody(ls)  # pitches, start/duration beats, syllable links, melismas
    assert _chords(back) == _chords(ls)
    assert back.lyrics == ls.lyrics  # syllable texts, words, line texts with punctuation; phonemes stay ()
    assert (back.key, back.meter, back.tempo_bpm, back.title) == (ls.key, ls.meter, ls.tempo_bpm, ls.title)
    assert back.sections == ls.sections
    assert back.language == ls.language


def test_written_musicxml_is_well_formed_and_deterministic(tmp_path):
    ls = english_sheet()
    write_musicxml(ls, tmp_path / "a.musicxml")
    write_musicxml(ls, tmp_path / "b.musicxml")
    data = (tmp_path / "a.musicxml").read_bytes()
    assert data == (tmp_path / "b.musicxml").read_bytes()
    root = ET.fromstring(data)
    assert root.tag == "score-partwise" and root.get("version") == "4.0"
    assert root.findtext("part-list/score-part/part-name") == "Voice"
    measures = root.findall("part/measure")
    assert len(measures) == ls.n_bars == 13
    assert [r.text for r in root.iter("rehearsal")] == ["Verse 1", "Chorus"]
    assert len(list(root.iter("breath-mark"))) == len(ls.lyrics) - 1  # one after each line but the last
    assert len(list(root.iter("lyric"))) == sum(len(l.syllables) for l in ls.lyrics)
    assert root.findtext("part/measure/attributes/key/fifths") == "-2"
    assert root.findtext("part/measure/direction/direction-type/metronome/per-minute") == "92"
    divisions = int(root.findtext("part/measure/attributes/divisions"))
    for m in measures:  # every bar is exactly full (3/4)
        total = sum(int(n.findtext("duration")) for n in m.findall("note") if n.find("chord") is None)
        total -= sum(int(b.findtext("duration")) for b in m.findall("backup"))
        assert total == 3 * divisions, m.get("number")


@pytest.mark.skipif(shutil.which("mscore3") is None, reason="MuseScore 3 (Debian musescore3) not installed")
def test_musescore_opens_and_resaves_without_loss(tmp_path):
    ls = english_sheet()
    write_musicxml(ls, tmp_path / "ours.musicxml")
    run = subprocess.run([shutil.which("mscore3"), "-o", str(tmp_path / "resaved.musicxml"),
                          str(tmp_path / "ours.musicxml")], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert run.returncode == 0, run.stderr
    assert "not a valid MusicXML" not in run.stdout + run.stderr  # MuseScore validates against its schema
    back = read_musicxml(tmp_path / "resaved.musicxml")
    assert _melody(back) == _melody(ls) and _chords(back) == _chords(ls) and back.lyrics == ls.lyrics


def test_foster_lead_sheet_from_music21_corpus():
    from music21 import corpus

    ls = read_musicxml(corpus.getWork("leadSheet/fosterBrownHair.mxl"))
    assert ls.title == "Jeanie With The Light Brown Hair"
    # the file's key signature is empty (C) but the song is in F: chords F/Bb/C7, ends on F
    assert ls.key == Key("F", "major") and ls.meter == Meter(4, 4)
    assert ls.tempo_bpm == 100.0  # no metronome mark
    # measured: 95 notes, 91 with a first-verse syllable, 4 melisma notes; 40 chord symbols
    assert len(ls.melody) == 95 and sum(n.melisma for n in ls.melody) == 4
    assert len([n for n in ls.sung_notes() if not n.melisma]) == sum(len(l.syllables) for l in ls.lyrics) == 91
    assert len(ls.chords) == 40
    assert [c.symbol for c in ls.chords[:8]] == ["F", "Bb", "F", "C", "F", "Bb", "F", "G7"]
    assert ls.chords[0].start_beats == 4 and ls.chords[-1].end_beats == ls.total_beats == 35 * 4
    first = ls.lyrics[0]
    assert first.text == "I dream of Jeannie with the light brown hair"
    assert [s.text for s in first.syllables[3:5]] == ["Jean", "nie"] and not first.syllables[4].word_start
    # lines break at long notes and the one rest: 9 lines of 5-12 syllables
    assert [len(l.syllables) for l in ls.lyrics] == [10, 10, 10, 11, 12, 11, 10, 9, 8]
    assert ls.lyrics[4].text.endswith("pour,") and ls.lyrics[4].syllables[-1].text == "pour"
    assert [(s.start_bar, s.n_bars) for s in ls.sections] == [(0, 8), (8, 8), (16, 8), (24, 8), (32, 3)]
    assert ls.melody[0].start_beats == 2 and ls.melody[0].pitch == 74  # "I" on D5 after a half rest


def test_chord_symbols_convert_both_ways():
    from music21 import harmony

    for quality in _QUALITIES:
        for root, bass in (("C", None), ("Bb", None), ("F#", "A#")):
            symbol = root + quality + (f"/{bass}" if bass else "")
            assert chord_symbol_from_m21(chord_symbol_to_m21(symbol)) == symbol
    # unsupported qualities become the nearest supported one
    assert chord_symbol_from_m21(harmony.ChordSymbol("Cm7b5")) == "Cm7b5"  # music21 reads it as m7 with b5
    assert chord_symbol_from_m21(harmony.ChordSymbol(root="C", kind="major-minor")) == "Cm"
    assert chord_symbol_from_m21(harmony.ChordSymbol(root="E-", kind="dominant-13th")) == "Eb9"
    assert chord_symbol_from_m21(harmony.ChordSymbol(root="A", kind="augmented-seventh")) == "Aaug"
    assert chord_symbol_from_m21(harmony.NoChord()) is None


def test_unreadable_musicxml_raises_spec_error(tmp_path):
    bad = tmp_path / "bad.musicxml"
    bad.write_text("<score-partwise><part id='P1'><measure", encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.musicxml: cannot read MusicXML \(.+\) \(valid: a \.musicxml"):
        read_musicxml(bad)
    with pytest.raises(SpecError, match="no such file"):
        read_musicxml(tmp_path / "missing.mxl")
    empty = tmp_path / "empty.musicxml"
    empty.write_text(
        '<?xml version="1.0"?><score-partwise version="4.0"><part-list><score-part id="P1"><part-name>x'
        '</part-name></score-part></part-list><part id="P1"><measure number="1"><attributes><divisions>1'
        '</divisions></attributes><note><rest/><duration>4</duration></note></measure></part></score-partwise>',
        encoding="utf-8")
    with pytest.raises(SpecError, match="no notes in the melody"):
        read_musicxml(empty)


# ---- MIDI -------------------------------------------------------------------------------------
def _arrangement(tempo_bpm: float = 96.0) -> Arrangement:
    piano = Track("piano", 0, [TrackNote(F(b, 2), F(1, 2), 60 + b % 12, 70) for b in range(32)])
    bass = Track("bass", 33, [TrackNote(b * 2, 2, 36 + b % 5, 90) for b in range(8)], pan=-0.5, gain_db=-3)
    drums = Track("drums", 0, [TrackNote(F(b, 3), F(1, 8), 42, 60) for b in range(48)] +
                  [TrackNote(b, F(1, 8), 36, 100) for b in range(16)], is_drum=True)
    strings = Track("strings", 48, [TrackNote(0, 16, 55, 50), TrackNote(0, 16, 59, 50), TrackNote(0, 16, 62, 50)])
    return Arrangement(tempo_bpm, Meter(4, 4), 16, [piano, bass, drums, strings])


def _vocal_score() -> VocalScore:
    notes, t = [], 0.3217
    for i, text in enumerate(["我", "爱", "you", "you", "so", "much"]):
        dur = 0.2731 + 0.0917 * i
        notes.append(VocalNote(t, dur, 60 + i, 85, text, (), line=0, syllable=i - (i >= 3), melisma=i == 3))
        t += dur + (0.0413 if i % 2 else 0.0)
    return VocalScore(notes, [VocalLine(0, "我爱 you so much", 0.3217, t)], language="zh")


@pytest.mark.parametrize("tempo_bpm", [96.0, 137.5, 25.0])
def test_midi_round_trip(tmp_path, tempo_bpm):
    arr, vs = _arrangement(tempo_bpm), _vocal_score()
    path = tmp_path / "song.mid"
    write_midi(path, arr, vocals=vs)
    notes = read_midi_notes(path)
    assert list(notes) == ["piano", "bass", "drums", "strings", "vocals"]
    vocals = notes["vocals"]
    assert len(vocals) == len(vs.notes)
    for (start, end, pitch, velocity), n in zip(vocals, vs.notes):
        assert abs(start - n.start_s) < 0.002 and abs(end - n.end_s) < 0.002  # ticks round to < 2 ms
        assert (pitch, velocity) == (n.pitch, n.velocity)
    spb = 60.0 / tempo_bpm
    for t in arr.tracks:
        got = notes[t.name]
        assert len(got) == len(t.notes)
        want = sorted((float(n.start_beats) * spb, float(n.end_beats) * spb, n.pitch, n.velocity) for n in t.notes)
        for g, w in zip(got, want):
            assert g[2:] == w[2:] and abs(g[0] - w[0]) < 1e-3 and abs(g[1] - w[1]) < 1e-3


def test_midi_layout_channels_and_lyrics(tmp_path):
    arr, vs = _arrangement(), _vocal_score()
    write_midi(tmp_path / "song.mid", arr, vocals=vs)
    mid = mido.MidiFile(tmp_path / "song.mid", charset="utf-8")
    assert mid.type == 1 and mid.ticks_per_beat == 480 and len(mid.tracks) == 6
    meta = {m.type: m for m in mid.tracks[0]}
    assert meta["set_tempo"].tempo == 625000  # 96 BPM
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (4, 4)
    channels, programs = {}, {}
    for track in mid.tracks[1:]:
        name = next(m.name for m in track if m.type == "track_name")
        channels[name] = {m.channel for m in track if m.type in ("note_on", "note_off")}
        programs[name] = [m.program for m in track if m.type == "program_change"]
    assert channels["drums"] == {9}
    others = [c for name, cs in channels.items() if name != "drums" for c in cs]
    assert len(others) == len(set(others)) == 4 and 9 not in others
    assert programs["bass"] == [33] and programs["strings"] == [48]
    lyrics, tick = [], 0
    for m in mid.tracks[5]:
        tick += m.time
        if m.type == "lyrics":
            lyrics.append(m.text)
    assert lyrics == ["我", "爱", "you", "so", "much"]  # the melisma note carries no lyric


def test_read_midi_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a midi file at all")
    with pytest.raises(SpecError, match=r"bad\.mid: cannot read MIDI"):
        read_midi_notes(bad)


# ---- LRC --------------------------------------------------------------------------------------
def test_lrc_round_trip_keeps_chinese_and_rounds_to_10_ms(tmp_path):
    lines = [VocalLine(1, "你问我爱你有多深", 65.504, 70.0), VocalLine(0, "Morning light", 1.2341, 4.0),
             VocalLine(2, "月亮代表我的心", 600.996, 604.0)]
    note = VocalNote(1.2341, 0.5, 60, 80, "Mor", (), 0, 0)
    path = tmp_path / "lyrics.lrc"
    write_lrc(path, VocalScore([note], lines, language="zh"), title="月亮 Moon")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines() == ["[ti:月亮 Moon]", "[00:01.23]Morning light", "[01:05.50]你问我爱你有多深",
                                 "[10:01.00]月亮代表我的心"]
    back = read_lrc(path)
    assert [t for _, t in back] == ["Morning light", "你问我爱你有多深", "月亮代表我的心"]
    for (t, _), want in zip(back, (1.2341, 65.504, 600.996)):
        assert abs(t - want) <= 0.005


def test_read_lrc_tags_offset_and_errors(tmp_path):
    path = tmp_path / "x.lrc"
    path.write_text("[ar:Someone]\n[offset:+500]\n[00:10.00][00:02.5]chorus\n[00:05.123]verse\nno tag\n",
                    encoding="utf-8")
    back = read_lrc(path)
    assert [text for _, text in back] == ["chorus", "verse", "chorus"]
    assert [t for t, _ in back] == pytest.approx([2.0, 4.623, 9.5], abs=1e-9)
    path.write_bytes(b"\xff\xfe\xfa bad")
    with pytest.raises(SpecError, match="cannot read LRC"):
        read_lrc(path)
