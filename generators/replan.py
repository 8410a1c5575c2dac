"""Re-planning parts of an existing lead sheet, for edits: a lyric line with new words, the
melody inside a range of bars with a new seed. Everything outside the edited part is kept
exactly; free functions over :class:`LeadSheet`, returning a new one.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

from representations.errors import SpecError
from representations.leadsheet import LeadSheet, LyricLine, Note
from representations.music import ChordSymbol

from .lyrics import UnsingableText, syllabify_line
from .melody import HARD, Scale, phrase_degrees
from .rhythm import line_rhythm, prominence, slot_weights, stable_rng, stress_timed


def line_bars_span(sheet: LeadSheet, line: int) -> tuple[int, int]:
    """Bars ``[first, end)`` that lyric line ``line`` (0-based) occupies: from the bar of its
    first note to the bar after its last note ends."""
    start, end = sheet.line_span_beats(line)
    bar = sheet.meter.bar_beats
    return int(start // bar), max(int(start // bar) + 1, math.ceil(end / bar))


def _scale_for(sheet: LeadSheet, pitches: list[int]) -> Scale:
    """A scale of the sheet's key whose degree 0 lies near the middle of ``pitches``."""
    key = sheet.key
    mid = sorted(pitches)[len(pitches) // 2] if pitches else 60
    tonic = mid - ((mid - key.tonic_pc) % 12)
    return Scale(key, tonic)


def _degree(scale: Scale, pitch: int) -> int:
    """The scale degree sounding nearest to ``pitch`` (ties to the lower)."""
    return min(range(-21, 29), key=lambda k: (abs(scale.pitch(k) - pitch), k))


def _domain(sheet: LeadSheet, scale: Scale, voice_range: tuple[int, int] | None) -> list[int]:
    if voice_range is None:
        pitches = [n.pitch for n in sheet.melody] or [60]
        voice_range = (min(pitches) - 2, max(pitches) + 2)
    return scale.domain(*voice_range)


def _nonchord_costs(onsets_durs, meter) -> list[float]:
    strong = set(meter.strong_beats())
    bar = meter.bar_beats
    long_beats = Fraction(3) if meter.compound else Fraction(3, 2)
    return [HARD if (on % bar) == 0 or dur >= long_beats or j == len(onsets_durs) - 1
            else 1.2 if (on % bar) in strong else 0.5
            for j, (on, dur) in enumerate(onsets_durs)]


def replan_line(sheet: LeadSheet, line: int, text: str, *, seed: int = 0,
                voice_range: tuple[int, int] | None = None) -> LeadSheet:
    """The lead sheet with lyric line ``line`` (0-based) sung to ``text``.

    The new syllables get a stress-aware rhythm inside the same bars as the old line, and a
    melody that follows the old line's contour (pitch at the same place in the bars), with chord
    tones on strong beats and the old line's final note kept when it was the tonic. Every other
    note, line and chord is unchanged.

    Raises
    ------
    SpecError
        For text with nothing singable, a character no voice can say, or more syllables than
        the line's bars can hold.
    """
    if not 0 <= line < len(sheet.lyrics):
        raise SpecError(f"line {line + 1} is out of range (valid: 1-{len(sheet.lyrics)})")
    try:
        sylls = syllabify_line(text, sheet.language)
    except UnsingableText as e:
        raise SpecError(f"--text {text!r}: {e}") from None
    if not sylls:
        raise SpecError(f"--text {text!r}: nothing to sing (valid: words)")
    meter = sheet.meter
    bar0, bar1 = line_bars_span(sheet, line)
    n_bars = bar1 - bar0
    slots = n_bars * len(slot_weights(meter))
    if len(sylls) + 3 > slots:
        raise SpecError(f"--text {text!r}: {len(sylls)} syllables do not fit in the line's {n_bars} bar(s) "
                        f"(valid: at most {slots - 3} syllables)")
    old = sheet.sung_notes(line)
    start_beats = bar0 * meter.bar_beats
    word_end = tuple(i + 1 == len(sylls) or sylls[i + 1].word_start for i in range(len(sylls)))
    rhythm = line_rhythm(prominence(sylls), meter=meter, n_bars=n_bars, word_end=word_end,
                         seed_key=f"{seed}|edit|{' '.join(s.text.lower() for s in sylls)}",
                         spoken_proportions=stress_timed(sylls))
    scale = _scale_for(sheet, [n.pitch for n in sheet.melody])
    domain = _domain(sheet, scale, voice_range)
    chords = []
    for on, _ in rhythm:
        c = sheet.chord_at(start_beats + on)
        chords.append(ChordSymbol.parse(c.symbol) if c else ChordSymbol.parse(f"{sheet.key.tonic}{'m' if sheet.key.mode == 'minor' else ''}"))
    # contour: the old melody's degree at the same place in the bars
    targets = []
    for on, _ in rhythm:
        t = start_beats + on
        sounding = [n for n in old if n.start_beats <= t] or old[:1]
        targets.append(float(_degree(scale, sounding[-1].pitch)))
    last_tonic = old[-1].pitch % 12 == sheet.key.tonic_pc
    degrees = phrase_degrees(scale=scale, domain=domain, chords=chords, nonchord_cost=_nonchord_costs(rhythm, meter),
                             targets=targets, ending="tonic" if last_tonic else "any",
                             rng=stable_rng(seed, "edit-melody", text), motif=None)
    velocity = round(sum(n.velocity for n in old) / len(old))
    new_notes = [Note(start_beats + on, dur, scale.pitch(k, ch), velocity, (line, j))
                 for j, ((on, dur), k, ch) in enumerate(zip(rhythm, degrees, chords))]
    melody = [n for n in sheet.melody if n.syllable is None or n.syllable[0] != line] + new_notes
    lyrics = list(sheet.lyrics)
    lyrics[line] = LyricLine(lyrics[line].section, text, tuple(sylls))
    return replace(sheet, melody=melody, lyrics=lyrics)


def repaint_melody(sheet: LeadSheet, bars: tuple[int, int], *, seed: int,
                   voice_range: tuple[int, int] | None = None) -> LeadSheet:
    """New pitches for the melody notes that start in bars ``[bars[0], bars[1])`` (0-based,
    end exclusive), chosen with ``seed``; rhythm, lyrics and every other note are kept.

    Notes of a line that straddles the range stay where they are outside it; the search pins
    them, so the repainted notes join them smoothly.
    """
    meter = sheet.meter
    lo, hi = bars[0] * meter.bar_beats, bars[1] * meter.bar_beats
    inside = lambda n: lo <= n.start_beats < hi  # noqa: E731
    if not any(inside(n) for n in sheet.melody):
        return sheet
    scale = _scale_for(sheet, [n.pitch for n in sheet.melody])
    domain = _domain(sheet, scale, voice_range)
    # phrases: lyric lines, or runs of unsung notes separated by a rest
    groups: dict[object, list[Note]] = {}
    for n in sheet.melody:
        key = ("line", n.syllable[0]) if n.syllable is not None else ("inst", _phrase_id(sheet, n))
        groups.setdefault(key, []).append(n)
    replaced: dict[int, int] = {}
    for key, notes in groups.items():
        if not any(inside(n) for n in notes):
            continue
        chords = []
        for n in notes:
            c = sheet.chord_at(n.start_beats)
            chords.append(ChordSymbol.parse(c.symbol) if c else ChordSymbol.parse(sheet.key.tonic))
        pinned = [None if inside(n) else _degree(scale, n.pitch) for n in notes]
        costs = [c if p is None else HARD for c, p in zip(_nonchord_costs([(n.start_beats, n.duration_beats) for n in notes], meter), pinned)]
        rng = stable_rng(seed, "repaint", key, bars)
        targets = [float(p) if p is not None else 2.0 + 2.0 * rng.random() for p in pinned]
        degrees = _pinned_degrees(scale, domain, chords, costs, targets, pinned, rng)
        for n, k, ch in zip(notes, degrees, chords):
            if inside(n):
                replaced[id(n)] = scale.pitch(k, ch)
    melody = [replace(n, pitch=replaced[id(n)]) if id(n) in replaced else n for n in sheet.melody]
    return replace(sheet, melody=melody)


def _phrase_id(sheet: LeadSheet, note: Note) -> int:
    """Index of the unsung phrase holding ``note``: notes separated by a gap of a beat or more
    belong to different phrases."""
    unsung = [n for n in sheet.melody if n.syllable is None]
    pid = 0
    for a, b in zip(unsung, unsung[1:]):
        if a is note:
            return pid
        if b.start_beats - a.end_beats >= 1:
            pid += 1
    return pid


def _pinned_degrees(scale, domain, chords, costs, targets, pinned, rng) -> list[int]:
    """Viterbi degrees where pinned notes keep their degree (others are searched)."""
    dom = list(domain)
    for p in pinned:
        if p is not None and p not in dom:
            dom.append(p)
    dom.sort()
    degrees = phrase_degrees(scale=scale, domain=dom, chords=chords, nonchord_cost=[0.0 if p is not None else c for c, p in zip(costs, pinned)],
                             targets=[t if p is None else float(p) for t, p in zip(targets, pinned)], ending="any", rng=rng,
                             motif=[p if p is not None else -99 for p in pinned] if any(p is not None for p in pinned) else None)
    return [p if p is not None else k for k, p in zip(degrees, pinned)]


__all__ = ["replan_line", "repaint_melody", "line_bars_span"]
