"""Melody for one phrase: scale degrees chosen by a second-order Viterbi search.

Pitches are scale degrees of the key (0 = tonic, 7 = the tonic an octave up, negatives below).
The search minimises a cost that asks for chord tones on strong beats and on long or
phrase-final notes, mostly stepwise motion (repeats and seconds cheap, leaps dearer, nothing
beyond an octave), a step back against the direction of any leap of a fourth or more, closeness
to an arch-shaped contour for the section (the chorus sits higher than the verse) and a given
ending (the tonic at a section's cadence). A little seeded noise makes different seeds differ.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from representations.music import MAJOR_STEPS, MINOR_STEPS, ChordSymbol, Key

# contour per section kind, in scale degrees above the tonic: (start, peak, end, peak position)
CONTOURS = {
    "verse": (1.0, 4.0, 1.0, 0.6),
    "intro": (1.0, 4.0, 1.0, 0.6),
    "interlude": (2.0, 4.5, 2.0, 0.6),
    "outro": (2.0, 4.0, 0.5, 0.4),
    "pre-chorus": (2.0, 5.0, 4.0, 0.75),
    "chorus": (4.5, 7.0, 4.5, 0.45),
    "bridge": (3.0, 6.0, 3.5, 0.5),
}
# a line's contour shifts a little by its place in the section (question low, answer higher...)
LINE_SHIFT = (0.0, 0.7, 0.3, -0.3)
_BIG = 1e6
HARD = _BIG  # cost that forbids a choice


@dataclass(frozen=True)
class Scale:
    """Scale degrees of ``key`` placed so that degree 0 sounds at ``tonic_midi``."""

    key: Key
    tonic_midi: int

    def pitch(self, degree: int, chord: ChordSymbol | None = None) -> int:
        """MIDI pitch of ``degree``; in minor the seventh is raised over a chord that holds it."""
        steps = MAJOR_STEPS if self.key.mode == "major" else MINOR_STEPS
        octave, step = divmod(degree, 7)
        p = self.tonic_midi + 12 * octave + steps[step]
        if self.key.mode == "minor" and step == 6 and chord is not None and (p + 1) % 12 in chord.pitch_classes():
            p += 1
        return p

    def domain(self, low: int, high: int) -> list[int]:
        """Degrees whose pitches lie within ``[low, high]`` (MIDI)."""
        raised = 1 if self.key.mode == "minor" else 0  # room for a raised seventh
        return [k for k in range(-14, 22) if low <= self.pitch(k) and self.pitch(k) + (raised if k % 7 == 6 else 0) <= high]


def contour_targets(n: int, kind: str, line_in_section: int, *, lift: float = 0.0) -> list[float]:
    """Target degree for each of ``n`` notes: an arch from the section kind's contour."""
    start, peak, end, at = CONTOURS.get(kind, CONTOURS["verse"])
    shift = LINE_SHIFT[line_in_section % len(LINE_SHIFT)] + lift
    out = []
    for j in range(n):
        x = j / (n - 1) if n > 1 else 1.0
        if x <= at:
            t = start + (peak - start) * (x / at if at else 1.0)
        else:
            t = peak + (end - peak) * ((x - at) / (1 - at))
        out.append(t + shift)
    return out


def _transition_costs(domain: list[int], scale: Scale) -> np.ndarray:
    d = np.array(domain)
    steps = np.abs(d[:, None] - d[None, :])
    table = np.array([0.35, 0.0, 0.35, 1.0, 1.5, 2.0, 2.5, 2.8])
    cost = np.where(steps <= 7, table[np.minimum(steps, 7)], _BIG)
    semis = np.abs(np.array([scale.pitch(k) for k in domain])[:, None] - np.array([scale.pitch(k) for k in domain])[None, :])
    return np.where(semis > 12, _BIG, cost)


def _leap_costs(domain: list[int]) -> np.ndarray:
    """Extra cost of (a, b, c): after a leap a→b of a fourth or more, c must step back."""
    d = np.array(domain)
    ab = d[None, :, None] - d[:, None, None]  # b - a, shape (a, b, 1)
    bc = d[None, None, :] - d[None, :, None]  # c - b, shape (1, b, c)
    leap = np.abs(ab) >= 3
    step_back = (np.sign(bc) == -np.sign(ab)) & (np.abs(bc) >= 1) & (np.abs(bc) <= 2)
    cost = np.where(leap & ~step_back, 4.0, 0.0) + np.where(leap & step_back & (np.abs(bc) == 2), 0.8, 0.0)
    same3 = (ab == 0) & (bc == 0)
    return cost + np.where(same3, 0.5, 0.0)


def phrase_degrees(
    *,
    scale: Scale,
    domain: list[int],
    chords: Sequence[ChordSymbol],
    nonchord_cost: Sequence[float],
    targets: Sequence[float],
    ending: str,
    rng: random.Random,
    motif: Sequence[int] | None = None,
) -> list[int]:
    """Scale degrees for one phrase.

    Parameters
    ----------
    scale : Scale
    domain : list of int
        Degrees the voice can sing (see :meth:`Scale.domain`).
    chords : sequence of ChordSymbol
        The chord sounding at each note's onset.
    nonchord_cost : sequence of float
        Per note, the cost of a tone outside the chord: ``HARD`` where it must be a chord tone
        (downbeats, long notes, the phrase end), less on other beats.
    targets : sequence of float
        Contour target degree per note.
    ending : str
        ``"tonic"`` (last note on the tonic), ``"open"`` (a chord tone other than the tonic
        where possible) or ``"any"`` (any chord tone).
    rng : random.Random
        Seeded noise for the costs.
    motif : sequence of int, optional
        Degrees of an earlier phrase to echo (a parallel phrase): notes are pulled towards
        them, aligned by relative position.
    """
    n = len(chords)
    if n == 0:
        return []
    D = len(domain)
    trans = _transition_costs(domain, scale)
    leap = _leap_costs(domain)
    emit = np.zeros((n, D))
    for j in range(n):
        pcs = set(chords[j].pitch_classes())
        for i, k in enumerate(domain):
            chord_tone = scale.pitch(k, chords[j]) % 12 in pcs
            c = 0.25 * abs(k - targets[j]) + rng.random() * 0.6
            if motif:
                ref = motif[min(len(motif) - 1, round(j * (len(motif) - 1) / max(1, n - 1)))]
                c += 0.0 if k == ref else 0.7
            if not chord_tone:
                c += nonchord_cost[j]
            if j == n - 1:
                if ending == "tonic" and k % 7 != 0:
                    c += 50.0
                elif ending == "open" and k % 7 == 0:
                    c += 0.8
            emit[j, i] = c
    if n == 1:
        return [domain[int(np.argmin(emit[0]))]]
    cost = emit[0][:, None] + trans + emit[1][None, :]  # (a, b)
    backs = []
    for j in range(2, n):
        total = cost[:, :, None] + leap  # (a, b, c)
        arg = np.argmin(total, axis=0)  # (b, c)
        best = np.take_along_axis(total, arg[None], axis=0)[0]
        cost = best + trans + emit[j][None, :]
        backs.append(arg)
    a, b = np.unravel_index(int(np.argmin(cost)), cost.shape)
    path = [int(b), int(a)]
    for arg in reversed(backs):
        prev = int(arg[path[-1], path[-2]])
        path.append(prev)
    path.reverse()
    return [domain[i] for i in path]
