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
