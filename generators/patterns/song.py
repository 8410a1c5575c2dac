"""The song as the part writers see it: the meter's beat grid, one :class:`BarInfo` per bar (its
section and energy level), and the chord sounding at any beat.

All times are quarter-note beats (:class:`fractions.Fraction`) from the start of the song.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from representations.leadsheet import LeadSheet, Section
from representations.music import ChordSymbol, Meter

# (start_beats, duration_beats, pitch, velocity)
NoteTuple = tuple[Fraction, Fraction, int, int]

# Energy of each section kind, 0 (sparse) .. 1 (full).
SECTION_LEVEL = {"intro": 0.35, "verse": 0.55, "pre-chorus": 0.7, "chorus": 1.0, "bridge": 0.65,
                 "interlude": 0.6, "outro": 0.4}
REPEAT_LIFT = 0.05  # each repeat of a section kind is a little fuller than the last
PRE_CHORUS_RISE = 0.15  # a pre-chorus's last bar is this much fuller than its first


@dataclass(frozen=True)
class Grid:
    """The beat structure of one bar.

    ``beat`` is the felt beat (a quarter in x/4, a dotted quarter in 6/8 and 12/8, a half in x/2, an
    eighth in other x/8), ``sub`` its division (half a beat, a third in compound meters). ``shape``
    names the bar for pattern tables: ``"4/4"``, ``"3/4"``, ``"2/4"``, ``"6/8"``, ``"12/8"`` or
    ``"other"``.
    """

    meter: Meter
    bar_beats: Fraction
    beat: Fraction
    n_beats: int
    sub: Fraction
    shape: str
    swing: bool = False

    @classmethod
    def of(cls, meter: Meter, *, swing: bool = False) -> "Grid":
        bar = meter.bar_beats
        if meter.compound:
            beat, n, sub = Fraction(3, 2), meter.numerator // 3, Fraction(1, 2)
        else:
            beat, n = Fraction(4, meter.denominator), meter.numerator
            sub = beat / 2
        shape = {(Fraction(4), False): "4/4", (Fraction(3), False): "3/4", (Fraction(2), False): "2/4",
                 (Fraction(3), True): "6/8", (Fraction(6), True): "12/8"}.get((bar, meter.compound), "other")
        if shape != "other" and not meter.compound and beat != 1:
            shape = "4/4" if bar == 4 else "other"  # 2/2 plays like 4/4
            if shape == "4/4":
                beat, n, sub = Fraction(1), 4, Fraction(1, 2)
        return cls(meter, bar, beat, n, sub, shape, swing and not meter.compound and beat == 1)

    def beats(self) -> list[Fraction]:
        """Offsets of the beats within the bar."""
        return [i * self.beat for i in range(self.n_beats)]

    def subs(self) -> list[Fraction]:
        """Offsets of every subdivision within the bar."""
        n = int(self.bar_beats / self.sub)
        return [i * self.sub for i in range(n)]

    def offbeats(self) -> list[Fraction]:
        return [s for s in self.subs() if s % self.beat != 0]

    def middle_beat(self) -> Fraction | None:
        """The strong beat halfway through the bar (beat 3 of 4/4, beat 2 of 6/8, beat 3 of 12/8),
        or None where there is none (3/4, 2/4, 5/4)."""
        half = self.bar_beats / 2
        return half if half in self.meter.strong_beats() and half != 0 else None

    def swung(self, offset: Fraction) -> Fraction:
        """Where a straight offset lands under swing: an off-beat eighth moves to 2/3 of the beat
        and sixteenths to the triplet grid; on-beat positions stay."""
        if not self.swing:
            return offset
        whole, frac = divmod(offset, 1)
        return whole + {Fraction(1, 4): Fraction(1, 3), Fraction(1, 2): Fraction(2, 3),
                        Fraction(3, 4): Fraction(5, 6)}.get(frac, frac)

    def swung_span(self, offset: Fraction, duration: Fraction) -> tuple[Fraction, Fraction]:
        """A note's start and duration under swing (both ends move)."""
        start = self.swung(offset)
        return start, max(self.swung(offset + duration) - start, duration / 2)


@dataclass(frozen=True)
class BarInfo:
    """One bar: where it is, which section it belongs to and how full that section is."""

    index: int
    start_beats: Fraction
    section_index: int
    section: Section
    level: float
    first_in_section: bool
    last_in_section: bool
    is_final: bool
    next_kind: str | None

    @property
    def kind(self) -> str:
        return self.section.kind


@dataclass(frozen=True)
class ChordSpan:
    start_beats: Fraction
    end_beats: Fraction
    chord: ChordSymbol
    symbol: str


@dataclass
class SongContext:
    """Everything the part writers read: lead sheet, grid, bars, chord spans, the genre settings."""

    lead_sheet: LeadSheet
    grid: Grid
    bars: list[BarInfo]
    spans: list[ChordSpan]
    genre: str
    energy: float
    sung: bool
    vocal_spans: list[tuple[Fraction, Fraction]] = field(default_factory=list)

    @property
    def total_beats(self) -> Fraction:
        return self.lead_sheet.total_beats

    def chords_in(self, start: Fraction, end: Fraction) -> list[ChordSpan]:
        """Chord spans clipped to ``[start, end)``."""
        out = []
        for s in self.spans:
            a, b = max(s.start_beats, start), min(s.end_beats, end)
            if a < b:
                out.append(ChordSpan(a, b, s.chord, s.symbol))
        return out

    def chord_at(self, beats: Fraction) -> ChordSymbol:
        for s in self.spans:
            if s.start_beats <= beats < s.end_beats:
                return s.chord
        return self.spans[-1].chord


def section_levels(sections: list[Section], energy: float) -> list[float]:
    """Energy level of each section: its kind's level, lifted a little on repeats and by the
    style's overall energy (0..1)."""
    seen: dict[str, int] = {}
    out = []
    for s in sections:
        n = seen.get(s.kind, 0)
        seen[s.kind] = n + 1
        level = SECTION_LEVEL[s.kind] + REPEAT_LIFT * min(n, 2) + 0.1 * (energy - 0.5)
        out.append(min(1.0, max(0.2, level)))
    return out


def build_bars(lead_sheet: LeadSheet, energy: float) -> list[BarInfo]:
    """One :class:`BarInfo` per bar of the song; bars no section covers join the section before."""
    sections = sorted(lead_sheet.sections, key=lambda s: s.start_bar)
    levels = section_levels(sections, energy)
    n_bars = lead_sheet.n_bars
    owner = [-1] * n_bars
    for i, s in enumerate(sections):
        for b in range(s.start_bar, min(n_bars, s.start_bar + s.n_bars)):
            owner[b] = i
    for b in range(n_bars):
        if owner[b] < 0:
            owner[b] = owner[b - 1] if b > 0 else 0
    bars = []
    for b in range(n_bars):
        i = owner[b]
        first = b == 0 or owner[b - 1] != i
        last = b == n_bars - 1 or owner[b + 1] != i
        next_kind = sections[owner[b + 1]].kind if b + 1 < n_bars and owner[b + 1] != i else None
        level = levels[i]
        if sections[i].kind == "pre-chorus":  # builds bar by bar towards the chorus
            k, n = b - sections[i].start_bar, max(1, sections[i].n_bars - 1)
            level = min(1.0, level + PRE_CHORUS_RISE * k / n)
        bars.append(BarInfo(b, lead_sheet.bar_start_beats(b), i, sections[i], level, first, last,
                            b == n_bars - 1, next_kind))
    return bars


def build_spans(lead_sheet: LeadSheet) -> list[ChordSpan]:
    """Chord spans covering the whole song without gaps: a gap keeps the chord before it, and the
    time before the first chord takes the key's tonic triad."""
    key = lead_sheet.key
    tonic = key.tonic + ("m" if key.mode == "minor" else "")
    chords = sorted(lead_sheet.chords, key=lambda c: c.start_beats)
    total = lead_sheet.total_beats
    spans: list[ChordSpan] = []
    t = Fraction(0)
    prev_symbol = chords[0].symbol if chords else tonic
    if chords and chords[0].start_beats > 0:
        prev_symbol = tonic
    for c in chords:
        if c.start_beats >= total:
            break
        if c.start_beats > t:
            spans.append(ChordSpan(t, c.start_beats, ChordSymbol.parse(prev_symbol), prev_symbol))
        start = max(t, c.start_beats)
        end = min(total, c.end_beats)
        if end > start:
            spans.append(ChordSpan(start, end, ChordSymbol.parse(c.symbol), c.symbol))
            t = end
        prev_symbol = c.symbol
    if t < total:
        spans.append(ChordSpan(t, total, ChordSymbol.parse(prev_symbol), prev_symbol))
    merged: list[ChordSpan] = []
    for s in spans:  # join repeats of one symbol that follow each other
        if merged and merged[-1].symbol == s.symbol and merged[-1].end_beats == s.start_beats:
            merged[-1] = ChordSpan(merged[-1].start_beats, s.end_beats, s.chord, s.symbol)
        else:
            merged.append(s)
    return merged


def vocal_spans(lead_sheet: LeadSheet, *, sung: bool) -> list[tuple[Fraction, Fraction]]:
    """Stretches where the lead line sounds: sung notes (or, in an instrumental, every melody
    note), merged when less than half a beat apart."""
    notes = lead_sheet.sung_notes() if sung else list(lead_sheet.melody)
    spans: list[list[Fraction]] = []
    for n in sorted(notes, key=lambda n: n.start_beats):
        if spans and n.start_beats - spans[-1][1] < Fraction(1, 2):
            spans[-1][1] = max(spans[-1][1], n.end_beats)
        else:
            spans.append([n.start_beats, n.end_beats])
    return [(a, b) for a, b in spans]
