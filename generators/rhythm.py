"""Stress-aware rhythm for lyric lines.

Each line gets a whole number of bars; its syllables are placed on an eighth-note grid by a
small dynamic programme that puts stressed syllables on strong beats and unstressed ones on
weak positions and offbeats, keeps the spoken proportions of syllable lengths where the metre
allows (unstressed syllables shorter than a beat, stressed ones a beat or longer: sung words
are understood by them), keeps note values singable (eighths to half notes), lands the
line-final syllable on a strong beat and holds it, and leaves a breath rest (at least an
eighth) before the next line. The same line with the same seed always gets the same rhythm.
"""

from __future__ import annotations

import hashlib
import math
import random
from fractions import Fraction
from typing import Sequence

from representations.leadsheet import Syllable
from representations.music import Meter

GRID_BEATS = Fraction(1, 2)  # one slot = an eighth note
MIN_LINE_BEATS = 6
BAR_CHOICES = (1, 2, 4, 8, 16)
FUNCTION_WORDS = frozenset(
    "a an the and or but nor so of to in on at by for from with as than that this these those is am are "
    "was were be been do does did has have had will would can could shall should may might must it its "
    "if then when while where there their they're it's i'm i'd i'll we're you're he's she's".split())
PRONOUNS = frozenset("i me my mine you your yours we us our he him his she her they them it".split())
# Sung words are understood best when syllable lengths keep their spoken proportions: an
# unstressed syllable held for a beat or more, or a stressed one squeezed into an eighth, costs
# this much in the rhythm search (English lines, simple meters). Per-line Whisper WER over seven
# songs (benchmarks/FINDINGS.md): alto 0.227 -> 0.178, soprano 0.338 -> 0.312, child
# 0.349 -> 0.316, joe 0.152 -> 0.155, tenor 0.248 -> 0.263; 0.8 did no better.
WEAK_BEAT_COST = 0.4
STRESSED_EIGHTH_COST = 0.4
_INF = math.inf


def stable_rng(*parts) -> random.Random:
    """A ``random.Random`` seeded from ``parts`` by SHA-256, the same on every run and machine."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def prominence(syllables: Sequence[Syllable]) -> list[int]:
    """Metrical weight each syllable asks for: 2 stressed, 1 secondary or pronoun, 0 weak.

    One-syllable function words ("the", "and", "to") count as weak whatever their
    dictionary stress. A Mandarin syllable (pinyin phonemes) is strong when it begins a word.
    """
    out = []
    for i, s in enumerate(syllables):
        if _is_pinyin(s):
            out.append(2 if s.stress == 1 else 0)  # Mandarin: words begin on the beat
            continue
        mono = s.word_start and (i + 1 == len(syllables) or syllables[i + 1].word_start)
        word = s.text.lower().strip("'")
        if mono and word in FUNCTION_WORDS:
            out.append(0)
        elif mono and word in PRONOUNS:
            out.append(1)
        else:
            out.append({1: 2, 2: 1}.get(s.stress, 0))
    return out


def _is_pinyin(s: Syllable) -> bool:
    return bool(s.phonemes) and s.phonemes[-1][-1:] in "12345" and s.phonemes[-1][:1].islower()


def stress_timed(syllables: Sequence[Syllable]) -> bool:
    """Whether a line's rhythm should keep spoken proportions of stressed and unstressed
    syllables: English lyrics, yes; Mandarin (syllable-timed) and instrumental phrases, no."""
    return bool(syllables) and not any(_is_pinyin(s) for s in syllables)


def slot_weights(meter: Meter) -> list[int]:
    """Weight of each eighth-note slot in a bar: 3 downbeat, 2 strong beat, 1 beat, 0 offbeat."""
    strong = set(meter.strong_beats())
    weights = []
    for b in range(int(meter.bar_beats / GRID_BEATS)):
        off = b * GRID_BEATS
        if b == 0:
            weights.append(3)
        elif off in strong:
            weights.append(2)
        elif not meter.compound and off.denominator == 1:
            weights.append(1)
        else:
            weights.append(0)
    return weights


def line_bars(n_syllables: int, meter: Meter, *, tempo_bpm: float = 100.0) -> int:
    """Bars for a line of ``n_syllables``: at least ``MIN_LINE_BEATS`` beats, room to breathe."""
    slots_per_bar = int(meter.bar_beats / GRID_BEATS)
    spacing = 1.25 if tempo_bpm >= 90 else 1.0  # least mean slots per syllable
    for bars in BAR_CHOICES:
        if bars * meter.bar_beats < MIN_LINE_BEATS:
            continue
        if bars * slots_per_bar >= spacing * max(0, n_syllables - 1) + 4:
            return bars
    return BAR_CHOICES[-1]


def max_syllables(meter: Meter) -> int:
    """The most syllables one line can hold (all eighths in the longest line)."""
    return BAR_CHOICES[-1] * int(meter.bar_beats / GRID_BEATS) - 3


def _position_cost(pr: int, w: int) -> float:
    return ((1.6, 0.8, 0.2, 0.0), (0.8, 0.3, 0.2, 0.3), (0.0, 0.3, 0.7, 1.2))[2 - pr][w]


def line_rhythm(prominences: Sequence[int], *, meter: Meter, n_bars: int, seed_key: str,
                word_end: Sequence[bool] | None = None, spoken_proportions: bool = False
                ) -> list[tuple[Fraction, Fraction]]:
    """Onset and duration (quarter beats from the line start) of each syllable.

    Parameters
    ----------
    prominences : sequence of int
        Per syllable 0/1/2, from :func:`prominence`.
    meter : Meter
    n_bars : int
        Length of the line in bars (from :func:`line_bars`).
    seed_key : str
        Seeds the small random preferences; equal keys give equal rhythms.
    word_end : sequence of bool, optional
        True where a syllable ends its word (word-internal syllables are kept short).
    spoken_proportions : bool
        In simple meters, keep unstressed syllables under a beat and stressed ones a beat or
        longer (:func:`stress_timed` says which lines want it).

    Returns
    -------
    list of (Fraction, Fraction)
        ``(onset_beats, duration_beats)``; the last note ends at least an eighth before the
        line's end.
    """
    n = len(prominences)
    if n == 0:
        return []
    weights = slot_weights(meter)
    per_bar = len(weights)
    total = n_bars * per_bar
    if n + 3 > total:
        raise ValueError(f"{n} syllables do not fit in {n_bars} bars of {meter}")
    rng = stable_rng(seed_key, n_bars, meter)
    rest = 1 if n * 1.25 + 4 > total or rng.random() < 0.5 else 2
    end = total - rest  # the last syllable is held until here
    word_end = list(word_end) if word_end is not None else [True] * n
    iois = (1, 2, 3, 4, 6) if meter.compound else (1, 2, 3, 4)
    ioi_cost = {1: 0.1, 2: 0.3, 3: 0.0, 4: 0.9, 6: 0.6} if meter.compound else {1: 0.25, 2: 0.0, 3: 0.5, 4: 0.7}
    noise = [[rng.random() * 0.35 for _ in range(total)] for _ in range(n)]

    def w(p: int) -> int:
        return weights[p % per_bar]

    def dur_cost(i: int, p: int, d: int) -> float:
        c = ioi_cost[d]
        if prominences[i] == 0 and d >= 3:
            c += 0.6
        if spoken_proportions and not meter.compound:
            if prominences[i] == 0 and d >= 2:
                c += WEAK_BEAT_COST
            elif prominences[i] == 2 and d == 1:
                c += STRESSED_EIGHTH_COST
        if not word_end[i] and d >= 3:
            c += 0.3
        nxt_beat = p + (1 if not meter.compound else 3 - p % 3)
        if w(p) == 0 and p + d > nxt_beat and not meter.compound:
            c += 0.4  # syncopation across the beat
        return c

    # best[i][p]: cost of placing syllables 0..i with syllable i at slot p
    best = [[_INF] * total for _ in range(n)]
    back = [[0] * total for _ in range(n)]
    for p in range(0, end - 2 - (n - 1) + 1):
        best[0][p] = 0.12 * p + (0.5 if p >= per_bar else 0) + _position_cost(prominences[0], w(p)) + noise[0][p]
    for i in range(1, n):
        for p in range(i, end - 2 - (n - 1 - i) + 1):
            here = _position_cost(prominences[i], w(p)) + noise[i][p]
            for d in iois:
                q = p - d
                if q < 0 or best[i - 1][q] == _INF:
                    continue
                c = best[i - 1][q] + dur_cost(i - 1, q, d) + here
                if c < best[i][p]:
                    best[i][p], back[i][p] = c, q
    finals = []
    for p in range(end - 1):
        if best[n - 1][p] == _INF or end - p < 2 or w(p) < 2:
            continue
        held = end - p
        c = best[n - 1][p] + (3.0 if p < total - per_bar else 0.0) + 0.8 * max(0, held - per_bar) / per_bar
        finals.append((c, p))
    if not finals:  # no strong beat reachable: accept any beat
        finals = [(best[n - 1][p], p) for p in range(end - 1) if best[n - 1][p] < _INF and end - p >= 2]
    p = min(finals)[1]
    onsets = [p]
    for i in range(n - 1, 0, -1):
        p = back[i][p]
        onsets.append(p)
    onsets.reverse()
    ends = onsets[1:] + [end]
    return [(a * GRID_BEATS, (b - a) * GRID_BEATS) for a, b in zip(onsets, ends)]
