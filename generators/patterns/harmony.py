"""Chord instruments: voicings with voice leading, and the comping styles of keyboards, guitars,
plucked instruments, pads and strings.

Every style is a rhythm of hits inside one bar taken from the meter's grid, so it fills any bar
exactly; the notes of a hit come from the chord sounding at that moment.
"""

from __future__ import annotations

from fractions import Fraction as F
from itertools import permutations

from representations.music import ChordSymbol, Key

from .song import BarInfo, ChordSpan, Grid, NoteTuple, SongContext


def chord_intervals(chord: ChordSymbol, key: Key, *, extended: bool) -> list[int]:
    """Intervals above the root to voice, in root-third-fifth-seventh order; ``extended`` turns
    triads into sevenths (maj7 on major chords, 7 on the dominant, m7 on minor chords)."""
    iv = sorted(set(chord.intervals), key=lambda i: (i % 12 != 0, i))
    if extended and tuple(sorted(chord.intervals)) == (0, 4, 7):
        iv.append(10 if (chord.root_pc - key.tonic_pc) % 12 == 7 else 11)
    elif extended and tuple(sorted(chord.intervals)) == (0, 3, 7):
        iv.append(10)
    return iv


def _select(iv: list[int], n: int) -> list[int]:
    """``n`` chord tones: drop the fifth, then the root, of rich chords; double the root of thin ones.
    A major seventh replaces the root by the ninth (the rootless voicing, no semitone clash)."""
    tones = list(iv)
    if n >= 4 and 11 in tones and 0 in tones:
        tones = [t for t in tones if t != 0] + ([14] if 14 not in tones and 2 not in tones else [])
    for drop in (7, 0):
        if len(tones) > n and drop in tones:
            tones.remove(drop)
    tones = tones[:n]
    while len(tones) < n:
        tones.append([0, 7, 12][(len(tones) - len(iv)) % 3] if tones else 0)
    return tones


class Voicer:
    """Chooses each chord's voicing as the close-position inversion nearest the previous voicing
    (smallest total movement), kept near the middle of ``low``..``high`` and avoiding minor
    seconds between neighbouring voices."""

    def __init__(self, key: Key, *, low: int, high: int, n_voices: int = 3, extended: bool = False):
        self.key, self.low, self.high, self.n, self.extended = key, low, high, n_voices, extended
        self.prev: tuple[int, ...] | None = None
        self.centre = (low + high) / 2

    def candidates(self, chord: ChordSymbol) -> list[tuple[int, ...]]:
        tones = _select(chord_intervals(chord, self.key, extended=self.extended), self.n)
        pcs = [(chord.root_pc + t) % 12 for t in tones]
        out = set()
        for order in set(permutations(pcs)):
            for bottom in range(self.low, self.high + 1):
                if bottom % 12 != order[0]:
                    continue
                notes = [bottom]
                for pc in order[1:]:
                    nxt = notes[-1] + 1
                    while nxt % 12 != pc:
                        nxt += 1
                    notes.append(nxt)
                if notes[-1] <= self.high and notes[-1] - notes[0] <= 14:
                    out.add(tuple(notes))
        return sorted(out)

    def __call__(self, chord: ChordSymbol) -> tuple[int, ...]:
        cands = self.candidates(chord)
        if not cands:  # register too narrow: stack from the root at the bottom of the range
            base = self.low + (chord.root_pc - self.low) % 12
            cands = [tuple(base + t for t in _select(list(chord.intervals), self.n))]

        def cost(v):
            drift = abs(sum(v) / len(v) - self.centre) * 0.6 * len(v)
            clusters = 4 * sum(b - a == 1 for a, b in zip(v, v[1:]))  # no minor seconds between voices
            if self.prev is None:
                return drift * 3 + clusters
            return sum(abs(a - b) for a, b in zip(v, self.prev)) + drift + clusters

        best = min(cands, key=lambda v: (cost(v), v))
        self.prev = best
        return best


def _hits(style: str, grid: Grid, bar: BarInfo) -> list[tuple[F, F, float]]:
    """Rhythm of a comping style in one bar: (offset, duration, velocity factor)."""
    bar_len, beats, subs = grid.bar_beats, grid.beats(), grid.subs()
    four = grid.shape == "4/4"
    if style == "pulse":
        return [(b, grid.beat * F(9, 10), 1.0 if i == 0 else 0.85) for i, b in enumerate(beats)]
    if style == "pulse8":
        return [(s, grid.sub, 1.0 if s == 0 else 0.9 if s % grid.beat == 0 else 0.75) for s in subs]
    if style == "offbeat":
        return [(s, grid.sub * F(3, 4), 0.9) for s in grid.offbeats()]
    if style == "house" and four:
        return [(F(a), F(1, 4), v) for a, v in ((F(1, 2), 1.0), (F(3, 2), 0.9), (F(9, 4), 0.85), (F(3), 0.9), (F(7, 2), 1.0))]
    if style == "rhythmic" and four:
        return [(F(0), F(3, 2), 1.0), (F(3, 2), F(5, 2), 0.85)]
    if style == "charleston":
        if four:
            return [(F(0), F(1), 1.0), (F(3, 2), F(1, 2), 0.85)] if bar.index % 2 == 0 else [(F(1), F(1, 2), 0.9), (F(5, 2), F(1), 0.85)]
        mid = grid.middle_beat() or (beats[-1] if len(beats) > 1 else None)
        return [(F(0), grid.beat, 1.0)] + ([(mid, grid.beat, 0.85)] if mid else [])
    if style == "bossa" and four:
        return ([(F(0), F(1), 1.0), (F(3, 2), F(1), 0.85), (F(3), F(1), 0.85)] if bar.index % 2 == 0
                else [(F(1, 2), F(1), 0.9), (F(2), F(1), 0.85), (F(7, 2), F(1, 2), 0.85)])
    if style == "oompah":
        if grid.meter.compound:
            return [(s, grid.sub * F(3, 4), 0.8) for s in grid.offbeats()]
        skip = {F(0), grid.middle_beat()} if four else {F(0)}
        return [(b, grid.beat * F(7, 10), 0.8) for b in beats if b not in skip] or [(F(0), bar_len, 0.8)]
    if style in ("house", "rhythmic", "bossa"):
        return [(F(0), grid.beat, 1.0)] + [(s, grid.sub, 0.8) for s in grid.offbeats()[1::2]]
    return [(F(0), bar_len, 1.0)]  # block


class HarmonyWriter:
    """Writes one chord instrument's part bar by bar in a named style.

    Styles: ``block``, ``pulse``, ``pulse8``, ``offbeat``, ``house``, ``rhythmic``, ``charleston``,
    ``bossa``, ``oompah`` (chord hits), ``arpeggio``, ``alberti``, ``ostinato``, ``pick``, ``arp16``
    (broken chords), ``strum``, ``power``, ``power_mute`` (guitar), ``pad``, ``strings`` (held).
    """

    def __init__(self, ctx: SongContext, *, low: int, high: int, extended: bool = False, n_voices: int = 3):
        self.ctx, self.low, self.high = ctx, low, high
        key = ctx.lead_sheet.key
        self.voicer = Voicer(key, low=max(low, min(high - 14, low + 7)), high=high, n_voices=n_voices, extended=extended)
        self.pad_voicer = Voicer(key, low=low, high=high, n_voices=4, extended=extended)
        self._vcache: dict[tuple[str, F], tuple[int, ...]] = {}

    # ---- pitches -----------------------------------------------------------------------------
    def voicing(self, span: ChordSpan, *, kind: str = "close") -> tuple[int, ...]:
        """Voicing of a chord span, cached so every hit on one chord uses the same notes."""
        key = (kind, span.start_beats)
        if key not in self._vcache:
            voicer = {"close": self.voicer, "pad": self.pad_voicer}[kind]
            self._vcache[key] = voicer(span.chord)
        return self._vcache[key]

    def bass_note(self, chord: ChordSymbol) -> int:
        base = self.low + (chord.bass_pc - self.low) % 12
        return base

    # ---- styles ------------------------------------------------------------------------------
    def bar(self, bar: BarInfo, style: str) -> list[NoteTuple]:
        grid = self.ctx.grid
        start, end = bar.start_beats, bar.start_beats + grid.bar_beats
        spans = self.ctx.chords_in(start, end)
        vel0 = 74 * (0.78 + 0.3 * bar.level)
        if style in ("arpeggio", "alberti", "ostinato", "pick", "arp16"):
            return self._broken(bar, spans, style, vel0)
        if style in ("strum", "power", "power_mute"):
            return self._guitar(bar, style, vel0)
        if style in ("pad", "strings"):
            return self._held(bar, spans, style, vel0 * 0.9)
        out: list[NoteTuple] = []
        hits = _hits(style, grid, bar)
        for span in spans:  # a chord change inside the bar restarts the rhythm's first hit there
            if span.start_beats > start and not any(start + off == span.start_beats for off, _, _ in hits):
                hits.append((span.start_beats - start, grid.beat, 0.9))
        hits.sort()
        for i, (off, dur, vf) in enumerate(hits):
            t0, d = grid.swung_span(off, dur)
            t = start + t0
            span = next(s for s in spans if s.start_beats <= t < s.end_beats) if t < end else spans[-1]
            d = min(d, span.end_beats - t)
            if d <= 0:
                continue
            for p in self.voicing(span):
                out.append((t, d, p, int(vel0 * vf)))
        return out

    def _broken(self, bar: BarInfo, spans: list[ChordSpan], style: str, vel0: float) -> list[NoteTuple]:
        grid = self.ctx.grid
        step = grid.sub / 2 if style == "arp16" else grid.sub
        out: list[NoteTuple] = []
        for span in spans:
            v = self.voicing(span)
            low = self.bass_note(span.chord)
            fifth = low + 7 if low + 7 <= self.high else low
            if style == "arpeggio":
                tones = [low] + list(v)
                seq = [0, 1, 2, 3, 2, 1]
            elif style == "alberti":
                tones, seq = list(v), [0, 2, 1, 2]
            elif style == "ostinato":
                tones, seq = [low, fifth, low + 12 if low + 12 <= self.high else low], [0, 1, 2, 1]
            elif style == "pick":
                tones, seq = list(v), [2, 1, 2, 0]
            else:  # arp16
                tones = list(v) + [v[0] + 12]
                seq = [0, 1, 2, 3, 2, 1]
            n = int((span.end_beats - span.start_beats) / step)
            first = (span.start_beats - bar.start_beats) / step
            n_off = 0
            for i in range(n):
                k = int(first) + i
                t0 = span.start_beats + i * step
                off = t0 - bar.start_beats
                on_beat = off % grid.beat == 0
                if style == "pick" and on_beat:
                    pitch = low if (off // grid.beat) % 2 == 0 else fifth
                elif style == "pick":
                    pitch = tones[seq[n_off % len(seq)] % len(tones)]
                    n_off += 1
                else:
                    pitch = tones[seq[k % len(seq)] % len(tones)]
                ring = span.end_beats - t0 if style in ("arpeggio", "pick", "alberti") else step * F(9, 10)
                s, d = grid.swung_span(off, min(ring, grid.bar_beats - off) if style == "alberti" else ring)
                vel = vel0 * (1.0 if off == 0 else 0.9 if on_beat else 0.78)
                out.append((bar.start_beats + s, min(d, span.end_beats - bar.start_beats - s), pitch, int(vel)))
        return [n for n in out if n[1] > 0]

    def _guitar(self, bar: BarInfo, style: str, vel0: float) -> list[NoteTuple]:
        grid = self.ctx.grid
        start = bar.start_beats
        if style == "strum":
            strokes = {"4/4": [(0, "D"), (1, "D"), (1.5, "U"), (2.5, "U"), (3, "D"), (3.5, "U")],
                       "3/4": [(0, "D"), (1, "D"), (1.5, "U"), (2, "D"), (2.5, "U")],
                       "2/4": [(0, "D"), (1, "D"), (1.5, "U")],
                       "6/8": [(0, "D"), (1, "D"), (1.5, "D"), (2.5, "U")],
                       "12/8": [(0, "D"), (1, "D"), (1.5, "D"), (2.5, "U"), (3, "D"), (4, "D"), (4.5, "D"), (5.5, "U")]
                       }.get(grid.shape) or [(b, "D") for b in grid.beats()]
            if bar.level < 0.8:
                strokes = [s for s in strokes if s[1] == "D"]
        else:
            strokes = [(s, "D") for s in grid.subs()]
        strokes = [(F(a).limit_denominator(8), d) for a, d in strokes]
        spans = self.ctx.chords_in(start, start + grid.bar_beats)
        offs = sorted({a for a, _ in strokes} | {s.start_beats - start for s in spans})
        kinds = dict(strokes)
        out: list[NoteTuple] = []
        for i, off in enumerate(offs):
            nxt = offs[i + 1] if i + 1 < len(offs) else grid.bar_beats
            s, d = grid.swung_span(off, nxt - off)
            t = start + s
            span = next(sp for sp in spans if sp.start_beats <= t < sp.end_beats)
            d = min(d, span.end_beats - t)
            root = self.bass_note(span.chord)
            if style == "strum":
                notes = sorted({root} | set(self.voicing(span)))
                up = kinds.get(off, "D") == "U"
                if up:
                    notes = notes[::-1][:3]
                vel = vel0 * (0.7 if up else 1.0 if off == 0 else 0.88)
                for j, p in enumerate(notes):
                    lag = F(j, 96)
                    if lag < d:
                        out.append((t + lag, d - lag, p, int(vel)))
            else:
                power = [root, root + 7, root + 12]
                mute = style == "power_mute"
                dd = d * F(1, 2) if mute else d
                for p in power:
                    if p <= 127:
                        out.append((t, dd, p, int(vel0 * (0.75 if mute else 1.0))))
        return out

    def _held(self, bar: BarInfo, spans: list[ChordSpan], style: str, vel0: float) -> list[NoteTuple]:
        out: list[NoteTuple] = []
        for span in spans:
            v = list(self.voicing(span, kind="pad"))
            if bar.level >= 0.9:  # fuller: double the top an octave up (strings) or the root below (pads)
                if style == "strings" and v[-1] + 12 <= self.high + 7:
                    v.append(v[-1] + 12)
                elif style == "pad":
                    below = v[0] - 1 - (v[0] - 1 - span.chord.root_pc) % 12
                    if below >= self.low:
                        v.insert(0, below)
            for p in v:
                out.append((span.start_beats, span.end_beats - span.start_beats, p, int(vel0)))
        return out

    def ending(self, bar: BarInfo, style: str) -> list[NoteTuple]:
        """The last bar: the final chord held for the whole bar (guitars strum it once)."""
        grid = self.ctx.grid
        span = self.ctx.chords_in(bar.start_beats, bar.start_beats + grid.bar_beats)[0]
        span = ChordSpan(bar.start_beats, bar.start_beats + grid.bar_beats, span.chord, span.symbol)
        kind = "pad" if style in ("pad", "strings") else "close"
        notes = sorted(set(self.voicing(span, kind=kind)) | ({self.bass_note(span.chord)} if kind == "close" else set()))
        lag = F(1, 96) if style in ("strum", "power", "power_mute", "pick") else F(0)
        return [(bar.start_beats + j * lag, grid.bar_beats - j * lag, p, 80) for j, p in enumerate(notes)]
