"""Melodic instruments: the melody itself (instrumentals), short fills in the gaps between sung
lines, sustained counter-lines in full sections and a chord-tone hook where nobody sings."""

from __future__ import annotations

import random
from fractions import Fraction as F

from .song import BarInfo, NoteTuple, SongContext

MAJOR_PENTA, MINOR_PENTA = (0, 2, 4, 7, 9), (0, 3, 5, 7, 10)


def melody_part(ctx: SongContext, *, low: int, high: int, velocity_scale: float = 1.0) -> list[NoteTuple]:
    """The lead sheet's melody moved by whole octaves to sit best in ``low``..``high``."""
    notes = ctx.lead_sheet.melody
    if not notes:
        return []
    best = min(range(-3, 4), key=lambda k: (sum(not low <= n.pitch + 12 * k <= high for n in notes), abs(k)))
    return [(n.start_beats, n.duration_beats, min(127, max(0, n.pitch + 12 * best)),
             max(1, min(127, int(n.velocity * velocity_scale)))) for n in notes]


class LeadWriter:
    """Counter-melody writer for one melodic instrument (a seeded RNG picks contours)."""

    def __init__(self, ctx: SongContext, *, low: int, high: int, pentatonic: bool, seed: int):
        self.ctx, self.low, self.high = ctx, low, high
        key = ctx.lead_sheet.key
        if pentatonic:
            steps = MAJOR_PENTA if key.mode == "major" else MINOR_PENTA
            self.scale = sorted((key.tonic_pc + s) % 12 for s in steps)
        else:
            self.scale = sorted(key.scale_pcs())
        self.rng = random.Random(seed)
        self.centre = (low + high) // 2 + 2
        self.prev: int | None = None

    # ---- pitch helpers -----------------------------------------------------------------------
    def _scale_pitches(self) -> list[int]:
        return [p for p in range(self.low, self.high + 1) if p % 12 in self.scale]

    def _chord_tone(self, t: F, near: int, *, prefer_colour: bool = False) -> int:
        chord = self.ctx.chord_at(t)
        pcs = set(chord.pitch_classes())
        if prefer_colour:  # third or fifth rather than the root the bass already has
            colour = {(chord.root_pc + i) % 12 for i in chord.intervals if i % 12 in (3, 4, 7, 10, 11)}
            pcs = colour or pcs
        cands = [p for p in range(self.low, self.high + 1) if p % 12 in pcs]
        return min(cands, key=lambda p: (abs(p - near), p))

    # ---- parts -------------------------------------------------------------------------------
    def fill(self, start: F, end: F, *, level: float) -> list[NoteTuple]:
        """A short run in the gap ``[start, end)``: stepwise on the scale, ending on a chord tone."""
        grid = self.ctx.grid
        step = grid.sub
        t0 = (start // step + 1) * step
        room = end - t0 - step / 2
        n = min(5, int(room / step))
        if n < 2:
            return []
        scale = self._scale_pitches()
        first = self._chord_tone(t0, self.prev if self.prev is not None else self.centre)
        idx = min(range(len(scale)), key=lambda i: abs(scale[i] - first))
        direction = self.rng.choice((-1, 1))
        if scale[idx] > self.centre + 5:
            direction = -1
        elif scale[idx] < self.centre - 5:
            direction = 1
        out: list[NoteTuple] = []
        vel = int(66 + 16 * level)
        for i in range(n):
            t = t0 + i * step
            last = i == n - 1
            dur = min(room - (n - 1) * step, 2 * grid.beat) if last else step
            pitch = scale[max(0, min(len(scale) - 1, idx))]
            if last:
                pitch = self._chord_tone(t, pitch)
            out.append((t, dur, pitch, vel - (0 if i == 0 or last else 6)))
            idx += direction * (2 if self.rng.random() < 0.2 else 1)
        self.prev = out[-1][2]
        return out

    def sustained(self, start: F, end: F, *, level: float) -> list[NoteTuple]:
        """One held chord tone per chord, each the nearest to the last (a smooth counter-line)."""
        out: list[NoteTuple] = []
        ref = self.prev if self.prev is not None else self.centre
        for span in self.ctx.chords_in(start, end):
            p = self._chord_tone(span.start_beats, ref, prefer_colour=True)
            out.append((span.start_beats, span.end_beats - span.start_beats, p, int(58 + 14 * level)))
            ref = p
        if out:
            self.prev = out[-1][2]
        return out

    def hook(self, bar: BarInfo) -> list[NoteTuple]:
        """A chord-tone motif for a bar where nobody sings: long-short-long on the beat grid."""
        grid = self.ctx.grid
        start = bar.start_beats
        if grid.n_beats >= 3:
            a, b = grid.beat + grid.sub, 2 * grid.beat
            rhythm = [(F(0), a), (a, b - a), (b, grid.bar_beats - b)]
        else:
            rhythm = [(F(0), grid.bar_beats)]
        out: list[NoteTuple] = []
        ref = self.prev if self.prev is not None else self.centre
        scale = self._scale_pitches()
        for i, (off, dur) in enumerate(rhythm):
            t = start + off
            if i == 1:  # a passing scale note between two chord tones
                above = [p for p in scale if p > ref]
                below = [p for p in scale if p < ref]
                p = (above[0] if above and (bar.index % 2 == 0 or not below) else below[-1]) if (above or below) else ref
            else:
                p = self._chord_tone(t, ref + (2 if bar.index % 2 == 0 else -2), prefer_colour=i == 0)
            out.append((t, dur, p, int(62 + 16 * bar.level) - 4 * (i == 1)))
            ref = p
        self.prev = ref
        return out

    def ending(self, bar: BarInfo) -> list[NoteTuple]:
        """The last bar: a chord tone of the final chord held."""
        p = self._chord_tone(bar.start_beats, self.prev if self.prev is not None else self.centre)
        return [(bar.start_beats, self.ctx.grid.bar_beats, p, 70)]
