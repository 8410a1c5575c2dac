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


def octave_for_voice(pitches: list[int], low: int, high: int, centre: int | None) -> int:
    """Semitones, a multiple of 12 (at most two octaves), to move a melody so a voice with range
    ``low``-``high`` sings it: the octave with the fewest notes outside the range, then the one
    whose median lies nearest ``centre``, then the melody as written. A tune written in the
    treble clef is sung an octave lower by a baritone, as singers read it."""
    if not pitches:
        return 0
    median = sorted(pitches)[len(pitches) // 2]
    target = centre if centre is not None else (low + high) / 2

    def cost(shift: int) -> tuple:
        outside = sum(not low <= p + shift <= high for p in pitches)
        return outside, abs(median + shift - target), abs(shift)

    return min(range(-24, 25, 12), key=cost)


def lead_sheet_from_file(spec) -> LeadSheet:
    """Read ``spec.leadsheet`` (MusicXML) and apply the spec's title, tags and tempo over it; the
    melody moves by whole octaves into the range of the voice that sings it (:func:`octave_for_voice`)."""
    from representations.musicxml import read_musicxml
    from generators.style import parse_style, tag_list
    from voice.presets import resolve_voice

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
    sheet = replace(sheet, **changes)
    voice = resolve_voice(spec.voice, parse_style(sheet.style_tags).vocal)
    shift = octave_for_voice([n.pitch for n in sheet.sung_notes()], voice.low, voice.high, voice.centre)
    if shift:
        sheet = replace(sheet, melody=[replace(n, pitch=n.pitch + shift) for n in sheet.melody])
    return fill_syllables(sheet)
