"""The default arranger: genre patterns for drums, bass and chord instruments, counter-lines for
melodic instruments, shaped by the energy of each section.

Who plays: the genre's default band, or the instruments the tags name plus the genre's drums and
bass (and one chord instrument if none was named). Intros and outros are sparse, verses light,
pre-choruses build, choruses are fullest (more instruments, higher velocities); drums fill into
each new section and crash on its downbeat; the song ends on its final chord held for a bar.
An instrumental lead sheet (no sung syllables, or the ``instrumental`` tag) gets a lead instrument
playing the melody; a sung one is never doubled by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from representations.arrangement import Arrangement, Track, TrackNote
from representations.errors import SpecError
from representations.leadsheet import LeadSheet

from .base import ARRANGERS, Arranger
from .instruments import INSTRUMENT_TABLE, Instrument, instrument, program_for
from .patterns.bass import BassWriter
from .patterns.drums import drum_part, ending as drum_ending, timpani_part
from .patterns.genres import GENRE_STYLES, GenreStyle, genre_style
from .patterns.harmony import HarmonyWriter
from .patterns.lead import LeadWriter, melody_part
from .patterns.song import BarInfo, Grid, NoteTuple, SongContext, build_bars, build_spans, vocal_spans
from .style import Style, parse_style

HARMONY_ROLES = ("chords", "guitar", "pluck", "pad", "strings")
ROLE_ORDER = ("drums", "bass", "chords", "guitar", "pluck", "pad", "strings", "lead", "timpani")
_DRUM_PRIORITY = {"brushes": 2, "808": 1, "drums": 0}


@dataclass
class Player:
    """One track of the band: its instrument, the role it plays here, and its rank in that role
    (0 = the main one)."""

    instrument: Instrument
    role: str
    plays_melody: bool = False
    rank: int = 0
    primary_harmony: bool = False


def choose_band(style: Style, genre: GenreStyle, *, sung: bool) -> list[Player]:
    """The players of a song: named instruments plus the genre's rhythm section, or the genre's
    default band; for an instrumental, the melody goes to the first melodic instrument named,
    else to the genre's lead."""
    named = [n for n in style.instruments if n in INSTRUMENT_TABLE]
    names = list(named) if named else list(genre.defaults)
    if named:
        roles = {instrument(n).role for n in named}
        for d in genre.defaults:
            r = instrument(d).role
            if (r in ("drums", "bass") and r not in roles) or (r in HARMONY_ROLES and not roles & set(HARMONY_ROLES)):
                names.append(d)
                roles.add(r)
    lead_name = None
    if not sung:
        lead_name = next((n for n in named if instrument(n).role in ("lead", "pluck")), genre.lead)
        if lead_name not in names:
            names.append(lead_name)
    by_track: dict[str, str] = {}
    for n in names:  # one drum track: brushes or 808 win over a plain kit
        t = instrument(n).track_name
        if t not in by_track or _DRUM_PRIORITY.get(n, 0) > _DRUM_PRIORITY.get(by_track[t], 0):
            by_track[t] = n
    chosen = [n for n in names if by_track.get(instrument(n).track_name) == n]
    chosen = list(dict.fromkeys(chosen))
    players = [Player(instrument(n), instrument(n).role, plays_melody=n == lead_name) for n in chosen]
    if not any(p.role == "bass" for p in players):
        for p in players:  # a cello takes the bass line when there is no bass
            if p.instrument.name == "cello" and not p.plays_melody:
                p.role = "bass"
                break
    players.sort(key=lambda p: ROLE_ORDER.index(p.role))
    counts: dict[str, int] = {}
    for p in players:
        p.rank = counts.get(p.role, 0)
        counts[p.role] = p.rank + 1
    harmony = [p for p in players if p.role in HARMONY_ROLES]
    first = min(harmony, key=lambda p: chosen.index(p.instrument.name), default=None)
    if first is not None:
        first.primary_harmony = True
    return players


def _plays(p: Player, bar: BarInfo, ctx: SongContext, genre: GenreStyle) -> bool:
    """Whether player ``p`` plays in ``bar`` (section energy decides who joins)."""
    lv, kind = bar.level, bar.kind
    if p.role == "drums":
        return lv >= genre.drums_from or (kind in ("intro", "outro") and ctx.energy >= 0.7)
    if p.role == "bass":
        return lv >= 0.45 or (kind == "intro" and ctx.energy >= 0.6)
    if p.primary_harmony or p.plays_melody:
        return True
    if p.role in ("pad", "strings"):
        return lv >= 0.65 or kind in ("intro", "outro", "interlude")
    if p.role == "pluck":
        return lv >= 0.5
    if p.role in HARMONY_ROLES:
        return lv >= 0.6
    if p.role == "timpani":
        return lv >= 0.65
    return True  # leads decide bar by bar what to play


class _PartWriter:
    """Writes one player's notes for a chosen set of bars."""

    def __init__(self, p: Player, ctx: SongContext, genre: GenreStyle, seed: int):
        self.p, self.ctx, self.genre = p, ctx, genre
        inst = p.instrument
        low, high = inst.low, inst.high
        self.melody_low, self.melody_high = inst.low, inst.high
        if p.plays_melody and p.role in HARMONY_ROLES:  # comp underneath the melody: left hand
            low, high = max(33, low - 12), low + 14
            self.melody_low, self.melody_high = max(high + 1, 55), max(inst.high, 84)
        self.harmony = HarmonyWriter(ctx, low=low, high=high, extended=genre.extended,
                                     n_voices=4 if genre.extended else 3)
        bass_pattern = genre.bass if p.role == "bass" and inst.name != "cello" else "sustain"
        self.bass = BassWriter(ctx, bass_pattern, low=inst.low, high=inst.high)
        self.lead = LeadWriter(ctx, low=inst.low, high=inst.high, pentatonic=genre.pentatonic, seed=seed)

    def style(self, bar: BarInfo) -> str:
        role = self.p.role
        if role in ("pad", "strings"):
            return role
        pair = {"chords": self.genre.chords, "guitar": self.genre.guitar, "pluck": self.genre.pluck}[role]
        return pair[1 if bar.level >= 0.8 else 0]

    def write(self, bars: list[BarInfo]) -> list[NoteTuple]:
        p, ctx, grid = self.p, self.ctx, self.ctx.grid
        if not bars:
            return []
        if p.role == "drums":
            pattern = self.genre.drums if self.genre.drums != "none" else "ballad"
            return drum_part(bars, grid, pattern, self.genre)
        if p.role == "timpani":
            return timpani_part(bars, grid, lambda t: ctx.chord_at(t).root_pc, low=p.instrument.low, high=p.instrument.high)
        if p.role == "bass":
            return [n for bar in bars for n in self.bass.bar(bar)]
        notes: list[NoteTuple] = []
        if p.plays_melody:
            notes += melody_part(ctx, low=self.melody_low, high=self.melody_high)
            melodic_bars = {int(n[0] // grid.bar_beats) for n in notes}
            notes = [n for n in notes if int(n[0] // grid.bar_beats) in {b.index for b in bars}]
            for bar in bars:
                if bar.index not in melodic_bars and not self._section_has_line(bar) and p.role not in HARMONY_ROLES:
                    notes += self.lead.hook(bar)
            if p.role in HARMONY_ROLES and p.primary_harmony:
                notes += [n for bar in bars for n in self.harmony.bar(bar, self.style(bar))]
            return notes
        if p.role in HARMONY_ROLES:
            return [n for bar in bars for n in self.harmony.bar(bar, self.style(bar))]
        return self._counter(bars)

    def _section_has_line(self, bar: BarInfo) -> bool:
        s = bar.section
        a, b = self.ctx.lead_sheet.bar_start_beats(s.start_bar), self.ctx.lead_sheet.bar_start_beats(s.start_bar + s.n_bars)
        return any(x < b and y > a for x, y in self.ctx.vocal_spans)

    def _counter(self, bars: list[BarInfo]) -> list[NoteTuple]:
        """A melodic instrument beside the voice: fills in the gaps of the line, a held
        counter-line in full sections, a hook where the section has no line."""
        ctx, grid, p = self.ctx, self.ctx.grid, self.p
        notes: list[NoteTuple] = []
        by_section: dict[int, list[BarInfo]] = {}
        for bar in bars:
            by_section.setdefault(bar.section_index, []).append(bar)
        for group in by_section.values():
            start = group[0].start_beats
            end = group[-1].start_beats + grid.bar_beats
            level = group[0].level
            if not self._section_has_line(group[0]):
                if p.rank == 0 or group[0].index % 2 == 1:
                    notes += [n for bar in group for n in self.lead.hook(bar)]
                continue
            if (level >= 0.9 and p.instrument.sustained) or (p.rank > 0 and level >= 0.6):
                notes += self.lead.sustained(start, end, level=level)
                continue
            if p.rank > 0:
                continue
            t = start
            for a, b in ctx.vocal_spans + [(end, end)]:
                if b <= start:
                    continue
                gap_end = min(a, end)
                if gap_end - t >= Fraction(3, 2):
                    notes += self.lead.fill(t, gap_end, level=level)
                t = max(t, b)
                if t >= end:
                    break
        return notes

    def ending(self, bar: BarInfo) -> list[NoteTuple]:
        """Notes of the last bar: the final chord held (the melody player keeps its last notes)."""
        role = self.p.role
        if self.p.plays_melody:
            line = [n for n in melody_part(self.ctx, low=self.melody_low, high=self.melody_high)
                    if n[0] >= bar.start_beats] or self.lead.ending(bar)
            if role in HARMONY_ROLES and self.p.primary_harmony:
                line += self.harmony.ending(bar, self.style(bar))
            return line
        if role == "drums":
            return drum_ending(bar, self.ctx.grid)
        if role == "bass":
            return self.bass.ending(bar)
        if role == "timpani":
            return timpani_part([bar], self.ctx.grid, lambda t: self.ctx.chord_at(t).root_pc,
                                low=self.p.instrument.low, high=self.p.instrument.high)
        if role in HARMONY_ROLES:
            return self.harmony.ending(bar, self.style(bar))
        return self.lead.ending(bar)


def _merge_held(notes: list[NoteTuple]) -> list[NoteTuple]:
    """Join notes of one pitch that end exactly where the next begins (a pad holding a chord)."""
    out: list[NoteTuple] = []
    open_by_pitch: dict[int, int] = {}
    for n in sorted(notes):
        i = open_by_pitch.get(n[2])
        if i is not None and out[i][0] + out[i][1] == n[0]:
            s, d, p, v = out[i]
            out[i] = (s, d + n[1], p, v)
            continue
        open_by_pitch[n[2]] = len(out)
        out.append(n)
    return out


@ARRANGERS.register("patterns")
class PatternArranger(Arranger):
    """Style-pattern arranger.

    Parameters
    ----------
    velocity_spread : int
        Largest random change of a note's velocity (seeded), for a less mechanical feel.
    """

    name = "patterns"

    def __init__(self, *, velocity_spread: int = 5):
        if not 0 <= velocity_spread <= 30:
            raise ValueError(f"velocity_spread {velocity_spread} is not valid (valid: 0-30)")
        self.velocity_spread = velocity_spread

    def arrange(self, lead_sheet: LeadSheet, *, seed: int) -> Arrangement:
        """Return the accompaniment of ``lead_sheet`` (no vocal track); same seed, same result."""
        if not lead_sheet.sections or lead_sheet.total_beats <= 0:
            raise SpecError(f"lead sheet {lead_sheet.title!r} has no sections (valid: at least one bar)")
        style = parse_style(lead_sheet.style_tags)
        genre_name = style.genre if style.genre in GENRE_STYLES else "pop"
        genre = genre_style(genre_name)
        sung = any(n.syllable is not None for n in lead_sheet.melody) and not style.instrumental
        grid = Grid.of(lead_sheet.meter, swing=genre.swing)
        ctx = SongContext(lead_sheet, grid, build_bars(lead_sheet, style.energy), build_spans(lead_sheet),
                          genre_name, style.energy, sung)
        ctx.vocal_spans = vocal_spans(lead_sheet, sung=sung)
        players = choose_band(style, genre, sung=sung)
        final = ctx.bars[-1]
        rng = np.random.default_rng(seed)
        tracks = []
        for i, p in enumerate(players):
            writer = _PartWriter(p, ctx, genre, seed * 101 + i)
            body = [b for b in ctx.bars[:-1] if _plays(p, b, ctx, genre)]
            notes = writer.write(body)
            if not notes and len(ctx.bars) > 1:  # a named instrument must be heard: give it the fullest section
                top = max(b.level for b in ctx.bars[:-1])
                notes = writer.write([b for b in ctx.bars[:-1] if b.level == top])
            notes = [n for n in notes if n[0] < final.start_beats]
            notes = [(s, min(d, final.start_beats - s), q, v) for s, d, q, v in notes]
            notes += writer.ending(final)
            if p.role == "pad":
                notes = _merge_held(notes)
            tracks.append(self._track(p, notes, genre_name, lead_sheet.total_beats, rng))
        return Arrangement(lead_sheet.tempo_bpm, lead_sheet.meter, lead_sheet.total_beats, tracks)

    def _track(self, p: Player, notes: list[NoteTuple], genre: str, total: Fraction, rng) -> Track:
        program, gain_db = program_for(p.instrument.name, genre)
        spread = self.velocity_spread
        out = []
        for s, d, pitch, vel in sorted(notes):
            d = min(d, total - s)
            if d <= 0 or s < 0 or not 0 <= pitch <= 127:
                continue
            v = vel + (int(rng.integers(-spread, spread + 1)) if spread else 0)
            out.append(TrackNote(Fraction(s), Fraction(d), pitch, max(1, min(127, v))))
        return Track(p.instrument.track_name, program, out, p.instrument.is_drum, gain_db, p.instrument.pan)
