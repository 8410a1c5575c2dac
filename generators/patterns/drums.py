"""Drum-kit parts: one bar pattern per genre and bar shape, lighter in verses and fuller in
choruses, a fill in the last beat(s) of a section that leads into another, and a crash cymbal
with the kick on each new section's downbeat.

Patterns are step strings that span exactly one bar (``x`` hit, ``X`` accent, ``o`` ghost); 2/4
uses the first half of the 4/4 pattern and 6/8 the first half of the 12/8 one, and any other meter
gets a pattern built from its beat grid.
"""

from __future__ import annotations

from fractions import Fraction

from .genres import GenreStyle
from .song import BarInfo, Grid, NoteTuple

KICK, SIDE_STICK, SNARE, CLAP = 36, 37, 38, 39
CLOSED_HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE = 42, 44, 46, 49, 51
TAMBOURINE, SHAKER = 54, 70
TOMS = (50, 48, 47, 45, 43, 41)  # high to low

VOICES = {"K": KICK, "S": SNARE, "R": SIDE_STICK, "C": CLAP, "H": CLOSED_HAT, "P": PEDAL_HAT,
          "O": OPEN_HAT, "Y": RIDE, "T": TAMBOURINE, "M": SHAKER}
TIMEKEEPERS = ("H", "Y", "M", "O")
_VOICE_SCALE = {"H": 0.8, "P": 0.75, "O": 0.75, "Y": 0.8, "T": 0.7, "M": 0.65, "R": 0.9}
_CHAR_VELOCITY = {"X": 112, "x": 92, "o": 58}

# genre -> shape -> (light pattern, changes for full sections); "" removes a voice.
Pattern = dict[str, str]
PATTERNS: dict[str, dict[str, tuple[Pattern, Pattern]]] = {
    "pop": {"4/4": ({"K": "x.......x.x.....", "S": "....x.......x...", "H": "x.x.x.x.x.x.x.x."},
                    {"T": "....x.......x..."})},
    "rock": {"4/4": ({"K": "x.....x.x.......", "S": "....x.......x...", "H": "x.x.x.x.x.x.x.x."},
                     {"K": "x.....x.x.x.....", "S": "....X.......X...", "Y": "x.x.x.x.x.x.x.x.", "H": ""}),
             "3/4": ({"K": "x.....x.....", "S": "....x...x...", "H": "x.x.x.x.x.x."}, {})},
    "ballad": {"4/4": ({"K": "x.........x.....", "R": "........x.......", "H": "x.x.x.x.x.x.x.x."},
                       {"K": "x.......x.x.....", "S": "....x.......x...", "R": ""}),
               "3/4": ({"K": "x...........", "R": "....x...x...", "H": "x.x.x.x.x.x."},
                       {"S": "....x...x...", "R": ""})},
    "folk": {"4/4": ({"K": "x.......x.......", "R": "....x.......x...", "T": "..x...x...x...x."},
                     {"S": "....x.......x...", "R": "", "H": "x.x.x.x.x.x.x.x."})},
    "jazz": {"4/4": ({"Y": "x...x.x.x...x.x.", "P": "....x.......x...", "K": "o.......o......."},
                     {"Y": "X...x.x.X...x.x.", "S": "......o.......o."}),
             "3/4": ({"Y": "x...x.x.x...", "P": "....x...x...", "K": "o..........."}, {}),
             "12/8": ({"Y": "x..x.xx..x.x", "P": "...x.....x..", "K": "o.....o....."}, {})},
    "electronic": {"4/4": ({"K": "x...x...x...x...", "C": "....x.......x...", "H": "..x...x...x...x."},
                           {"H": "oooooooooooooooo", "O": "..x...x...x...x."}),
                   "3/4": ({"K": "x...x...x...", "C": "....x...x...", "H": "..x...x...x."}, {}),
                   "12/8": ({"K": "x..x..x..x..", "C": "...x.....x..", "H": "xooxooxooxoo"}, {})},
    "dance": {"4/4": ({"K": "x...x...x...x...", "C": "....x.......x...", "O": "..x...x...x...x."},
                      {"H": "oooooooooooooooo"}),
              "3/4": ({"K": "x...x...x...", "C": "....x...x...", "O": "..x...x...x."}, {}),
              "12/8": ({"K": "x..x..x..x..", "C": "...x.....x..", "H": "xooxooxooxoo"}, {})},
    "hiphop": {"4/4": ({"K": "x......x..x.....", "S": "....x.......x...", "H": "x.x.x.x.x.x.x.x."},
                       {"K": "x......x..x..x..", "H": "xoxoxoxoxoxoxoxo"})},
    "lofi": {"4/4": ({"K": "x......x..x.....", "S": "....o.......o...", "H": "o.o.o.o.o.o.o.o."},
                     {"S": "....x.......x...", "H": "x.o.x.o.x.o.x.o."})},
    "country": {"4/4": ({"K": "x.......x.......", "S": "....x.......x...", "H": "x.x.x.x.x.x.x.x."},
                        {"T": "x.x.x.x.x.x.x.x."})},
    "blues": {"4/4": ({"K": "x.......x.......", "S": "....x.......x...", "H": "x.x.x.x.x.x.x.x."},
                      {"Y": "x.x.x.x.x.x.x.x.", "H": ""})},
    "latin": {"4/4": ({"K": "x..x....x..x....", "R": "x..x..x...x.x...", "M": "xoxoxoxoxoxoxoxo"},
                      {"K": "x..xx..xx..xx..x", "H": "x.x.x.x.x.x.x.x."}),
              "12/8": ({"K": "x.....x.....", "R": "x.x.x..x.x.x", "M": "xooxooxooxoo"}, {})},
    "rnb": {"4/4": ({"K": "x..x......x.....", "S": "....x.......x...", "H": "x.x.x.x.x.x.x.x."},
                    {"S": "....x.....o.x...", "H": "xoxoxoxoxoxoxoxo"})},
    "waltz": {"3/4": ({"K": "x...........", "S": "....o...o..."}, {"S": "....x...x...", "H": "x...x...x..."})},
}
DEFAULT_PATTERNS: dict[str, tuple[Pattern, Pattern]] = {
    "4/4": PATTERNS["pop"]["4/4"],
    "3/4": ({"K": "x...........", "S": "....x...x...", "H": "x.x.x.x.x.x."}, {}),
    "12/8": ({"K": "x.....x.....", "S": "...x.....x..", "H": "xooxooxooxoo"}, {"K": "x.....x.x...", "Y": "xooxooxooxoo", "H": ""}),
}


def _generic(grid: Grid) -> tuple[Pattern, Pattern]:
    """A pattern for any bar, on a sixteenth-of-the-sub grid: kick on the downbeat (and the middle
    strong beat), snare on the off beats, hi-hat on every subdivision."""
    steps_per_sub = 2
    n = int(grid.bar_beats / grid.sub) * steps_per_sub
    step = grid.sub / steps_per_sub
    k, s, h = ["."] * n, ["."] * n, ["."] * n
    k[0] = "x"
    mid = grid.middle_beat()
    if mid is not None:
        k[int(mid / step)] = "x"
    for i, b in enumerate(grid.beats()):
        if i % 2 == 1:
            s[int(b / step)] = "x"
    for j in range(0, n, steps_per_sub):
        h[j] = "x"
    return {"K": "".join(k), "S": "".join(s), "H": "".join(h)}, {}


def bar_pattern(genre: str, grid: Grid, level: float, style: GenreStyle) -> Pattern:
    """The step pattern of one bar of ``genre`` at section ``level``."""
    shape = grid.shape
    base = {"2/4": "4/4", "6/8": "12/8"}.get(shape, shape)
    table = PATTERNS.get(genre, {})
    if base in table:
        light, full = table[base]
    elif base in DEFAULT_PATTERNS:
        light, full = DEFAULT_PATTERNS[base]
        if style.fill == "soft" and "S" in light:
            light = {**light, "R": light["S"], "S": ""}
            full = {"S": DEFAULT_PATTERNS[base][0]["S"], "R": "", **full}
    else:
        light, full = _generic(grid)
    pattern = dict(light)
    if level >= 0.8:
        pattern.update(full)
    pattern = {v: p for v, p in pattern.items() if p}
    if shape in ("2/4", "6/8"):
        pattern = {v: p[: len(p) // 2] for v, p in pattern.items()}
    if level < 0.5:  # intro/outro: downbeat kick and the time on the beats only
        sparse: Pattern = {}
        for v, p in pattern.items():
            per_beat = len(p) // grid.n_beats
            if v == "K":
                sparse[v] = p[0] + "." * (len(p) - 1)
            elif v in TIMEKEEPERS:
                sparse[v] = "".join(c if i % per_beat == 0 else "." for i, c in enumerate(p))
        pattern = {v: p for v, p in sparse.items() if p.strip(".")}
    return pattern


def _fill(grid: Grid, bar: BarInfo, style: GenreStyle) -> tuple[Fraction, list[NoteTuple]]:
    """Fill at the end of ``bar``: where it starts (offset in the bar) and its notes."""
    length = grid.beat
    if bar.level >= 0.6 and bar.next_kind == "chorus" and grid.n_beats >= 4:
        length = 2 * grid.beat
    if style.fill == "snare" and bar.next_kind == "chorus" and bar.level >= 0.65 and grid.n_beats >= 2:
        length = grid.bar_beats - (grid.beat if grid.n_beats >= 3 else 0)
    step = grid.sub / 2 if style.fill != "soft" else grid.sub
    start = grid.bar_beats - length
    n = int(length / step)
    notes: list[NoteTuple] = []
    for i in range(n):
        t = bar.start_beats + start + i * step
        ramp = (i + 1) / n
        if style.fill == "snare":
            pitch, vel = SNARE, 60 + 50 * ramp
        elif style.fill == "soft":
            pitch, vel = TOMS[min(len(TOMS) - 1, (i * len(TOMS)) // n)], 50 + 25 * ramp
        else:
            pitch = SNARE if i < n // 3 else TOMS[min(len(TOMS) - 1, ((i - n // 3) * len(TOMS)) // max(1, n - n // 3))]
            vel = 75 + 35 * ramp
        notes.append((t, step, pitch, int(vel)))
    return start, notes


def drum_part(bars: list[BarInfo], grid: Grid, genre: str, style: GenreStyle) -> list[NoteTuple]:
    """Drum notes for ``bars`` (the bars where the kit plays)."""
    notes: list[NoteTuple] = []
    playing = {b.index for b in bars}
    for bar in bars:
        pattern = bar_pattern(genre, grid, bar.level, style)
        fill_start, fill = (grid.bar_beats, [])
        if bar.last_in_section and not bar.is_final and bar.next_kind is not None and bar.index + 1 in playing:
            fill_start, fill = _fill(grid, bar, style)
        scale = 0.72 + 0.28 * bar.level
        bar_notes: list[NoteTuple] = []
        for voice, steps in pattern.items():
            step = grid.bar_beats / len(steps)
            for i, ch in enumerate(steps):
                if ch == ".":
                    continue
                off = grid.swung(i * step)
                if off >= fill_start:
                    continue
                vel = _CHAR_VELOCITY[ch] * _VOICE_SCALE.get(voice, 1.0) * scale
                bar_notes.append((bar.start_beats + off, min(step, grid.sub), VOICES[voice], int(vel)))
        new_section = bar.first_in_section and bar.section_index > 0 and (bar.level >= 0.5 or bar.index - 1 in playing)
        if new_section:
            bar_notes.append((bar.start_beats, grid.beat, CRASH, int(100 * scale)))
            if not any(n[0] == bar.start_beats and n[2] == KICK for n in bar_notes):
                bar_notes.append((bar.start_beats, grid.sub, KICK, int(100 * scale)))
        notes += bar_notes + fill
    return notes


def ending(bar: BarInfo, grid: Grid) -> list[NoteTuple]:
    """The last bar of the song: kick and crash on the downbeat, left to ring."""
    return [(bar.start_beats, grid.bar_beats, KICK, 105), (bar.start_beats, grid.bar_beats, CRASH, 105)]


def timpani_part(bars: list[BarInfo], grid: Grid, chord_root_at, *, low: int, high: int) -> list[NoteTuple]:
    """Timpani: the chord root on the downbeat of each section's first bar and every other bar,
    and a roll through the last beat before a chorus. ``chord_root_at(beats)`` gives the root's
    pitch class."""

    def pitch(t: Fraction) -> int:
        pc = chord_root_at(t)
        return min((p for p in range(low, high + 1) if p % 12 == pc), default=low)

    notes: list[NoteTuple] = []
    for bar in bars:
        k = bar.index - bar.section.start_bar
        if k % 2 == 0:
            notes.append((bar.start_beats, grid.beat, pitch(bar.start_beats), int(80 + 25 * bar.level)))
        if bar.last_in_section and bar.next_kind == "chorus":
            step = grid.sub / 2
            t = bar.start_beats + grid.bar_beats - grid.beat
            nxt = pitch(bar.start_beats + grid.bar_beats - step)
            while t < bar.start_beats + grid.bar_beats:
                notes.append((t, step, nxt, int(60 + 40 * float((t - bar.start_beats) / grid.bar_beats))))
                t += step
    return notes
