"""The time map from speech to song: where each part of each spoken syllable is sung.

A syllable's onset consonants are sung just before its first note (at most ``MAX_ONSET_LEAD_S``
early, never stretched, squeezed when longer), its vowel starts on the note and is stretched to fill the note (and
every melisma note after it), and its coda consonants close it at the end of its last note, or
before the next syllable's onset when the notes are legato. Rests between notes are silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from representations.vocal_score import VocalNote

from .align import SyllableTiming

MAX_ONSET_LEAD_S = 0.08  # onset consonants start at most this long before the note
MIN_ONSET_S = 0.03  # an onset squeezed by the start of the song keeps at least this long
MIN_SUNG_ONSET_S = 0.07  # a shorter fricative, h or sonorant onset is lengthened towards this
MAX_CODA_S = 0.15  # coda consonants last at most this long
LEAD_SHARE = 0.3  # an onset takes at most this share of the time since the note before
CODA_SHARE = 0.4  # a coda takes at most this share of its syllable's sung time


@dataclass
class SungSyllable:
    """One syllable to sing: its notes (the first one starts it, melisma notes continue its
    vowel), its timing in the speech, whether its vowel is a diphthong and how much its onset
    consonants may be lengthened."""

    notes: list[VocalNote]
    timing: SyllableTiming
    diphthong: bool = False
    onset_stretch: float = 1.0  # an onset shorter than MIN_SUNG_ONSET_S may be lengthened up to this factor

    @property
    def start_s(self) -> float:
        return self.notes[0].start_s

    @property
    def end_s(self) -> float:
        return self.notes[-1].end_s


@dataclass
class Segment:
    """A stretch of continuous singing in the output.

    ``out_knots``/``src_knots`` map output time to speech time piece by piece: piece k maps
    ``[out_knots[k], out_knots[k+1]]`` linearly onto ``[src_knots[k][0], src_knots[k][1]]``.
    ``pitch_spans`` are (start_s, end_s, midi); ``notes`` are the notes sung in it.
    """

    start_s: float
    end_s: float
    out_knots: list[float] = field(default_factory=list)
    src_knots: list[tuple[float, float]] = field(default_factory=list)
    pitch_spans: list[tuple[float, float, float]] = field(default_factory=list)
    notes: list[VocalNote] = field(default_factory=list)

    def add_piece(self, out_start: float, out_end: float, src_start: float, src_end: float) -> None:
        if out_end - out_start <= 1e-9:
            return
        if not self.out_knots:
            self.out_knots.append(out_start)
        self.out_knots.append(out_end)
        self.src_knots.append((src_start, src_end))

    def source_times(self, times_s: np.ndarray) -> np.ndarray:
        """Speech time (s) sung at each output time in ``times_s`` (clamped to the segment)."""
        knots = np.asarray(self.out_knots)
        k = np.clip(np.searchsorted(knots, times_s, side="right") - 1, 0, len(self.src_knots) - 1)
        a, b = knots[k], knots[k + 1]
        w = np.clip((times_s - a) / np.maximum(b - a, 1e-9), 0.0, 1.0)
        src = np.asarray(self.src_knots)
        return src[k, 0] + w * (src[k, 1] - src[k, 0])


def _vowel_pieces(seg: Segment, out_a: float, out_b: float, src_a: float, src_b: float, diphthong: bool) -> None:
    """Stretch a vowel: its edges (formant transitions) keep speech speed, the steady part
    (for a diphthong, its first vowel) takes the stretch."""
    d_out, d_src = out_b - out_a, src_b - src_a
    if d_src <= 1e-6:
        seg.add_piece(out_a, out_b, src_a, src_b)
        return
    p0, p1 = (0.15, 0.45) if diphthong else (0.25, 0.75)
    head, tail = p0 * d_src, (1 - p1) * d_src
    if d_out <= d_src or head + tail >= d_out:
        seg.add_piece(out_a, out_b, src_a, src_b)
        return
    seg.add_piece(out_a, out_a + head, src_a, src_a + head)
    seg.add_piece(out_a + head, out_b - tail, src_a + head, src_b - tail)
    seg.add_piece(out_b - tail, out_b, src_b - tail, src_b)


def plan_line(syllables: list[SungSyllable], *, earliest_s: float = 0.0) -> list[Segment]:
    """Segments of continuous singing for one lyric line.

    Parameters
    ----------
    syllables : list of SungSyllable
        The line's syllables in time order, with at least one note each.
    earliest_s : float
        No sound before this time (the end of the line before, or 0).

    Returns
    -------
    list of Segment
        In time order, not overlapping; a rest between notes separates two segments.
    """
    n = len(syllables)
    leads = []
    for k, s in enumerate(syllables):
        spoken = s.timing.vowel_s - s.timing.onset_s
        if 0 < spoken < MIN_SUNG_ONSET_S and s.onset_stretch > 1:
            spoken = min(spoken * s.onset_stretch, MIN_SUNG_ONSET_S)
        want = min(spoken, MAX_ONSET_LEAD_S)
        room = s.start_s - (syllables[k - 1].start_s if k else earliest_s)
        cap = LEAD_SHARE * room if k else room
        leads.append(max(0.0, min(want, cap)))
    segments: list[Segment] = []
    seg: Segment | None = None
    for k, s in enumerate(syllables):
        t = s.timing
        onset_src = t.vowel_s - t.onset_s
        lead = leads[k]
        extra = max(0.0, min(onset_src, MIN_ONSET_S) - lead) if onset_src > 0 else 0.0
        start = s.start_s - lead
        if seg is None or start > seg.end_s + 1e-6:
            seg = Segment(start, start)
            segments.append(seg)
        vowel_start = s.start_s + extra
        legato = False
        if k + 1 < n:
            next_onset = syllables[k + 1].start_s - leads[k + 1]
            legato = next_onset <= s.end_s + 1e-6
            coda_end = min(s.end_s, next_onset)
        else:
            coda_end = s.end_s
        coda_end = max(coda_end, vowel_start + 1e-3)
        # sung legato, the way into the next word is sung too; before a rest it is left out
        coda_src_end = t.next_s if legato else t.end_s
        coda = min(coda_src_end - t.coda_s, MAX_CODA_S, CODA_SHARE * (coda_end - vowel_start))
        seg.add_piece(start, vowel_start, t.onset_s, t.vowel_s)
        _vowel_pieces(seg, vowel_start, coda_end - coda, t.vowel_s, t.coda_s, s.diphthong)
        seg.add_piece(coda_end - coda, coda_end, t.coda_s, coda_src_end)
        seg.end_s = coda_end
        # pitch: the coda and, sung legato, the next syllable's onset keep the last note's pitch,
        # so the pitch moves on the beat; an onset after a rest already sings its note
        for j, note in enumerate(s.notes):
            a = note.start_s if j or seg.pitch_spans else start
            b = (s.end_s if legato else coda_end) if j == len(s.notes) - 1 else note.end_s
            if b > a:
                seg.pitch_spans.append((a, b, float(note.pitch)))
            seg.notes.append(note)
    return [g for g in segments if g.out_knots]
