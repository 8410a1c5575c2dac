"""A MusicXML lead sheet replaces the planner: music21's corpus tune with chords and lyrics."""

import pytest

from pipeline import SongSpec
from pipeline.leadsheet_import import lead_sheet_from_file


@pytest.fixture(scope="module")
def foster_path():
    from music21 import corpus

    return str(corpus.getWork("leadSheet/fosterBrownHair.mxl"))


def test_foster_lead_sheet_gets_phonemes_and_keeps_syllables(foster_path):
    spec = SongSpec(title="Jeanie", leadsheet=foster_path, tags="folk, acoustic guitar")
    sheet = lead_sheet_from_file(spec)
    sylls = [s for l in sheet.lyrics for s in l.syllables]
    assert len(sylls) == 91
    assert len(sheet.chords) >= 30
    with_phonemes = [s for s in sylls if s.phonemes]
    assert len(with_phonemes) / len(sylls) >= 0.95
    assert sheet.title == "Jeanie" and sheet.style_tags == ["folk", "acoustic guitar"]
    # exactly one syllable-starting note per syllable
    starts = [n.syllable for n in sheet.melody if n.syllable is not None and not n.melisma]
    assert len(starts) == len(set(starts)) == 91


@pytest.mark.parametrize("voice, shift", [(None, -12), ("joe", -12), ("tenor", -12), ("soprano", 0), ("child", 0)])
def test_the_melody_moves_by_octaves_into_the_voice_that_sings_it(foster_path, voice, shift):
    from voice.presets import resolve_voice

    written = lead_sheet_from_file(SongSpec(leadsheet=foster_path, tags="folk, soprano")).melody  # C4-F5
    sheet = lead_sheet_from_file(SongSpec(leadsheet=foster_path, tags="folk", voice=voice))
    assert [n.pitch for n in sheet.melody] == [n.pitch + shift for n in written]
    preset = resolve_voice(voice)
    sung = [n.pitch for n in sheet.sung_notes()]
    assert sum(preset.low <= p <= preset.high for p in sung) / len(sung) >= 0.9


def test_octave_for_voice_prefers_the_range_then_the_centre_then_as_written():
    from pipeline.leadsheet_import import octave_for_voice

    assert octave_for_voice([60, 64, 67, 72, 76], 45, 64, 55) == -12  # a treble tune for a baritone
    assert octave_for_voice([45, 50, 55], 60, 79, 72) == 24
    assert octave_for_voice([62, 65, 69], 53, 79, 66) == 0  # inside either way: nearest the centre
    assert octave_for_voice([], 45, 64, 55) == 0


def test_a_lead_sheet_the_planner_wrote_is_sung_where_it_was(tmp_path):
    from generators.rule_planner import RulePlanner
    from representations.musicxml import write_musicxml

    for tags in ("pop, female vocals", "ballad, male vocals", "pop, child vocals"):
        spec = SongSpec(title="Round", tags=tags, lyrics="[Verse]\nwe wrote our names on paper\nand let them drift away\n")
        planned = RulePlanner().plan(spec, seed=3)
        path = tmp_path / "round.musicxml"
        write_musicxml(planned, path)
        back = lead_sheet_from_file(SongSpec(leadsheet=str(path), tags=tags))
        assert [n.pitch for n in back.melody] == [n.pitch for n in planned.melody], tags
