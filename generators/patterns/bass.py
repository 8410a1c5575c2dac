"""Bass lines: per-genre rhythms of chord degrees (root, fifth, octave, approach notes), walking
and boogie lines. Every chord change and every bar's downbeat gets the chord's root, or the
written bass of a slash chord."""

from __future__ import annotations

from fractions import Fraction as F

from .song import BarInfo, Grid, NoteTuple, SongContext

# pattern -> 4/4 (light, full) events: (offset_beats, duration_beats, degree)
Event = tuple[F, F, str]


def _ev(*items) -> list[Event]:
    return [(F(a), F(b), d) for a, b, d in items]


PATTERNS_44: dict[str, tuple[list[Event], list[Event]]] = {
    "pop": (_ev((0, 2, "R"), (2, 1.5, "R"), ("7/2", "1/2", "5")),
            _ev((0, 1.5, "R"), ("3/2", "1/2", "R"), (2, 1.5, "R"), ("7/2", "1/2", "8"))),
    "rock": (_ev(*[(i, 1, "R") for i in range(4)]), _ev(*[(F(i, 2), F(1, 2), "R") for i in range(8)])),
    "ballad": (_ev((0, 4, "R")), _ev((0, 2, "R"), (2, 1.5, "5"), ("7/2", "1/2", "R"))),
    "country": (_ev((0, 2, "R"), (2, 2, "5")), _ev((0, 1, "R"), (1, 1, "R"), (2, 1, "5"), (3, 1, "A"))),
    "dance": (_ev(*[(F(i, 2), F(1, 2), "R" if i % 2 == 0 else "8") for i in range(8)]),) * 2,
    "hiphop": (_ev((0, 1.5, "R"), (2.5, 1.5, "R")), _ev((0, 1.5, "R"), (1.75, 0.75, "R"), (2.5, 1.5, "R"))),
    "lofi": (_ev((0, 1.5, "R"), (2.5, 1.5, "5")), _ev((0, 1.5, "R"), (1.5, 1, "5"), (2.5, 1, "R"), (3.5, 0.5, "A"))),
    "bossa": (_ev((0, 1.5, "R"), (1.5, 0.5, "5"), (2, 1.5, "5"), (3.5, 0.5, "R")),) * 2,
    "rnb": (_ev((0, 1.5, "R"), (2, 1.5, "5")),
            _ev((0, 1, "R"), (1.5, 0.5, "R"), (2, 1, "5"), (3, 0.5, "8"), (3.5, 0.5, "A"))),
    "waltz": (_ev((0, 2, "R"), (2, 2, "5")),) * 2,
    "sustain": (_ev((0, 4, "R")),) * 2,
}
DENSITY = {"pop": "medium", "rock": "driving", "ballad": "sparse", "country": "medium", "dance": "driving",
           "hiphop": "medium", "lofi": "medium", "bossa": "medium", "rnb": "medium", "waltz": "waltz",
           "sustain": "sparse", "walking": "walking", "boogie": "boogie"}

_DEGREE = {"R": 0, "5": 7, "8": 12, "6": 9, "b7": 10}


def _generic(grid: Grid, density: str, level: float) -> list[Event]:
    """Events for any bar shape from the beat grid."""
    bar = grid.bar_beats
    beats = grid.beats()
    if density == "sparse" or (density == "waltz" and grid.shape != "3/4"):
        return [(F(0), bar, "R")]
    if density == "waltz":
        return [(F(0), grid.beat, "R")]
    if density == "driving":
        return [(s, grid.sub, "R" if i % 2 == 0 or level < 0.8 else "8") for i, s in enumerate(grid.subs())]
    marks = [F(0)] + [b for i, b in enumerate(beats) if i > 0 and (b == grid.middle_beat() or (grid.shape == "3/4" and i == 2))]
    if level >= 0.8 and len(beats) >= 2:
        marks = beats
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1] if i + 1 < len(marks) else bar
        out.append((m, end - m, "R" if i == 0 or m != grid.middle_beat() else "5"))
    return out


def _line_degrees(n: int, minor: bool, kind: str) -> list[str]:
    third = "m3" if minor else "3"
    if kind == "boogie":
        cycle = ["R", third, "5", "6"]
        return [cycle[i % 4] for i in range(n)]
    if n == 1:
        return ["R"]
    return (["R", third, "5", "6", "8", "5"][: n - 1] + ["A"]) if n <= 7 else ["R"] * (n - 1) + ["A"]


class BassWriter:
    """Writes the bass part of one track, keeping the last pitch for smooth octave choices."""

    def __init__(self, ctx: SongContext, pattern: str, *, low: int, high: int):
        self.ctx, self.pattern, self.low, self.high = ctx, pattern, low, high
        self.prev: int | None = None

    def _place(self, pc: int, *, root: bool) -> int:
        lo, hi = self.low, self.high
        if root:  # keep roots low in the register
            hi = min(hi, self.low + 22)
            lo = min(lo + 3, hi - 11)
        ref = self.prev if self.prev is not None else lo + 7
        cands = [p for p in range(lo, hi + 1) if p % 12 == pc % 12]
        return min(cands, key=lambda p: (abs(p - ref), p))

    def _pitch(self, degree: str, t: F, target_t: F | None = None) -> int:
        chord = self.ctx.chord_at(t)
        if degree == "R":
            p = self._place(chord.bass_pc, root=True)
        elif degree == "8":
            r = self._place(chord.bass_pc, root=True)
            p = r + 12 if r + 12 <= self.high else r
        elif degree == "A":
            nxt = self.ctx.chord_at(min(target_t if target_t is not None else t, self.ctx.total_beats - F(1, 1000)))
            target = self._place(nxt.bass_pc, root=True)
            p = target - 1 if (self.prev or target) <= target else target + 1
        else:
            semis = {"3": 4, "m3": 3}.get(degree, _DEGREE.get(degree, 7))
            if degree == "3" and chord.is_minor:
                semis = 3
            p = self._place((chord.root_pc + semis) % 12, root=False)
        self.prev = p
        return p

    def _events(self, bar: BarInfo) -> list[Event]:
        grid = self.ctx.grid
        density = DENSITY.get(self.pattern, "medium")
        if density in ("walking", "boogie") and grid.beat == 1:
            out: list[Event] = []
            for span in self.ctx.chords_in(bar.start_beats, bar.start_beats + grid.bar_beats):
                a, b = span.start_beats - bar.start_beats, span.end_beats - bar.start_beats
                beats = [x for x in grid.beats() if a <= x < b] or [a]
                if beats[0] != a:
                    beats = [a] + beats
                degs = _line_degrees(len(beats), span.chord.is_minor, density)
                for i, (x, d) in enumerate(zip(beats, degs)):
                    end = beats[i + 1] if i + 1 < len(beats) else b
                    out.append((x, end - x, d))
            return out
        if grid.shape == "4/4" and self.pattern in PATTERNS_44:
            light, full = PATTERNS_44[self.pattern]
            return list(full if bar.level >= 0.8 else light)
        return _generic(grid, "medium" if density in ("walking", "boogie") else density, bar.level)

    def bar(self, bar: BarInfo) -> list[NoteTuple]:
        """Bass notes of one bar."""
        grid = self.ctx.grid
        bar_end = bar.start_beats + grid.bar_beats
        changes = [s.start_beats - bar.start_beats for s in self.ctx.chords_in(bar.start_beats, bar_end)]
        events = {off: (dur, deg) for off, dur, deg in self._events(bar)}
        for c in changes:  # every chord change gets its root
            events[c] = (events.get(c, (grid.beat, "R"))[0], "R")
        offs = sorted(events)
        out: list[NoteTuple] = []
        staccato = DENSITY.get(self.pattern) == "driving"
        for i, off in enumerate(offs):
            dur, deg = events[off]
            limit = (offs[i + 1] if i + 1 < len(offs) else grid.bar_beats) - off
            nxt_change = min([c for c in changes if c > off], default=grid.bar_beats) - off
            dur = min(dur, limit, nxt_change)
            if staccato:
                dur = dur * F(3, 4)
            start, dur = grid.swung_span(off, dur)
            t = bar.start_beats + start
            vel = (96 if off == 0 else 84 if off % grid.beat == 0 else 76) * (0.8 + 0.2 * bar.level)
            out.append((t, dur, self._pitch(deg, t, bar.start_beats + off + limit), int(vel)))
        return out

    def ending(self, bar: BarInfo) -> list[NoteTuple]:
        """The last bar: the final chord's root held for the whole bar."""
        return [(bar.start_beats, self.ctx.grid.bar_beats, self._pitch("R", bar.start_beats), 96)]
