"""A lead sheet from a MusicXML file instead of the planner (MuseScore edits, corpus tunes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from representations.errors import SpecError
from representations.leadsheet import LeadSheet, LyricLine


def fill_syllables(lead_sheet: LeadSheet) -> LeadSheet:
    """Give imported syllables their phonemes and stress, keeping their spelling and count."""
    from generators.lyrics import syllabify_line

    lines = []
    for line in lead_sheet.lyrics:
        sylls = list(line.syllables)
        words: dict[int, list[int]] = {}
        for i, s in enumerate(sylls):
            words.setdefault(s.word, []).append(i)
        for idxs in words.values():
            word_text = "".join(sylls[i].text for i in idxs)
            try:
                analysed = syllabify_line(word_text, lead_sheet.language)
            except SpecError:
                analysed = []
            if len(analysed) == len(idxs):
                for i, a in zip(idxs, analysed):
                    sylls[i] = replace(sylls[i], phonemes=a.phonemes, stress=a.stress)
            else:  # the score splits the word differently: analyse each written syllable alone
                for i in idxs:
                    a = syllabify_line(sylls[i].text, lead_sheet.language) if sylls[i].text.strip() else []
                    if a:
                        sylls[i] = replace(sylls[i], phonemes=tuple(p for x in a for p in x.phonemes), stress=a[0].stress)
        lines.append(LyricLine(line.section, line.text, tuple(sylls)))
    return replace(lead_sheet, lyrics=lines)


def lead_sheet_from_file(spec) -> LeadSheet:
    """Read ``spec.leadsheet`` (MusicXML) and apply the spec's title, tags and tempo over it."""
    from representations.musicxml import read_musicxml
    from generators.style import tag_list

    path = Path(spec.leadsheet)
    if not path.is_file():
        raise SpecError(f"{spec.source}: leadsheet: no such file {path} (valid: a .musicxml, .xml or .mxl file)")
    sheet = read_musicxml(path, language=spec.language)
    changes = {}
    if spec.title and spec.title != "Untitled":
        changes["title"] = spec.title
    if spec.tags:
        changes["style_tags"] = tag_list(spec.tags)
    if spec.tempo:
        changes["tempo_bpm"] = float(spec.tempo)
    return fill_syllables(replace(sheet, **changes))
