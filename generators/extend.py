"""Inserting sections into a lead sheet: fragments (sections, chords, melody and lyric lines
positioned from bar 0) made by copying a section or as instrumental bars over the song's chords,
and put before or after the song. Free functions over :class:`LeadSheet`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from representations.errors import SpecError
from representations.leadsheet import Chord, LeadSheet, LyricLine, Note, Section


@dataclass
class Fragment:
    """Sections, chords, melody and lyric lines positioned from bar 0 (melody syllables refer to
    ``lyrics`` of the fragment)."""

    sections: list[Section]
    chords: list[Chord]
    melody: list[Note]
    lyrics: list[LyricLine]

    @property
    def n_bars(self) -> int:
        return sum(s.n_bars for s in self.sections)


def copy_section(sheet: LeadSheet, index: int) -> Fragment:
    """Section ``index`` of ``sheet`` as a fragment (its lines sung again)."""
    sec = sheet.sections[index]
    bar = sheet.meter.bar_beats
    lo, hi = sec.start_bar * bar, (sec.start_bar + sec.n_bars) * bar
    lines = sorted({n.syllable[0] for n in sheet.melody if n.syllable is not None and lo <= n.start_beats < hi})
    renum = {old: new for new, old in enumerate(lines)}
    melody = [replace(n, start_beats=n.start_beats - lo,
                      syllable=(renum[n.syllable[0]], n.syllable[1]) if n.syllable is not None else None)
              for n in sheet.melody if lo <= n.start_beats < hi]
    chords = [replace(c, start_beats=c.start_beats - lo, duration_beats=min(c.duration_beats, hi - c.start_beats))
              for c in sheet.chords if lo <= c.start_beats < hi]
    lyrics = [replace(sheet.lyrics[i], section=0) for i in lines]
    return Fragment([replace(sec, start_bar=0)], chords, melody, lyrics)


def instrumental_fragment(sheet: LeadSheet, kind: str, label: str, n_bars: int, *, from_end: bool) -> Fragment:
    """``n_bars`` of accompaniment over the song's chords (its last bars, ending on the tonic,
    for an ending; its first bars otherwise)."""
    bar = sheet.meter.bar_beats
    per_bar = [sheet.chord_at(b * bar) for b in range(sheet.n_bars)]
    symbols = [c.symbol if c else sheet.key.tonic for c in per_bar] or [sheet.key.tonic]
    source = symbols[-n_bars:] if from_end else symbols[:n_bars]
    while len(source) < n_bars:
        source = source + source
    source = source[:n_bars]
    if from_end:
        source[-1] = sheet.key.tonic + ("m" if sheet.key.mode == "minor" else "")
    chords = [Chord(i * bar, bar, s) for i, s in enumerate(source)]
    return Fragment([Section(kind, label, 0, n_bars)], chords, [], [])


def concat(frags: list[Fragment], sheet: LeadSheet) -> Fragment:
    bar = sheet.meter.bar_beats
    out = Fragment([], [], [], [])
    at = 0
    for f in frags:
        off = at * bar
        base_line = len(out.lyrics)
        base_sec = len(out.sections)
        out.sections += [replace(s, start_bar=s.start_bar + at) for s in f.sections]
        out.chords += [replace(c, start_beats=c.start_beats + off) for c in f.chords]
        out.melody += [replace(n, start_beats=n.start_beats + off,
                               syllable=(n.syllable[0] + base_line, n.syllable[1]) if n.syllable is not None else None)
                       for n in f.melody]
        out.lyrics += [replace(l, section=l.section + base_sec) for l in f.lyrics]
        at += f.n_bars
    return out


def insert_fragment(sheet: LeadSheet, frag: Fragment, *, at: str) -> tuple[LeadSheet, int]:
    """``sheet`` with ``frag`` inserted at its start (after a leading intro) or end (before a
    trailing outro); returns the new sheet and the bar where the fragment begins."""
    secs = sheet.sections
    if at == "start":
        idx = 1 if secs and secs[0].kind == "intro" and frag.sections[0].kind != "intro" else 0
    elif at == "end":
        idx = len(secs) - 1 if secs and secs[-1].kind == "outro" and frag.sections[-1].kind != "outro" else len(secs)
    else:
        raise SpecError(f"--at {at!r} is not valid (valid: start, end)")
    at_bar = secs[idx].start_bar if idx < len(secs) else sheet.n_bars
    bar = sheet.meter.bar_beats
    shift_beats = frag.n_bars * bar
    cut = at_bar * bar
    n_lines_before = len({n.syllable[0] for n in sheet.melody if n.syllable is not None and n.start_beats < cut})
    nl = len(frag.lyrics)
    melody = [replace(n, start_beats=n.start_beats + shift_beats,
                      syllable=(n.syllable[0] + nl, n.syllable[1]) if n.syllable is not None else None)
              if n.start_beats >= cut else n for n in sheet.melody]
    melody += [replace(n, start_beats=n.start_beats + cut,
                       syllable=(n.syllable[0] + n_lines_before, n.syllable[1]) if n.syllable is not None else None)
               for n in frag.melody]
    chords = [replace(c, start_beats=c.start_beats + shift_beats) if c.start_beats >= cut else c for c in sheet.chords]
    chords += [replace(c, start_beats=c.start_beats + cut) for c in frag.chords]
    sections = (secs[:idx] + [replace(s, start_bar=s.start_bar + at_bar) for s in frag.sections]
                + [replace(s, start_bar=s.start_bar + frag.n_bars) for s in secs[idx:]])
    ns = len(frag.sections)
    lyrics = (list(sheet.lyrics[:n_lines_before])
              + [replace(l, section=l.section + idx) for l in frag.lyrics]
              + [replace(l, section=l.section + ns if l.section >= idx else l.section) for l in sheet.lyrics[n_lines_before:]])
    return replace(sheet, sections=sections, chords=chords, melody=melody, lyrics=lyrics), at_bar


__all__ = ["Fragment", "copy_section", "instrumental_fragment", "concat", "insert_fragment"]
