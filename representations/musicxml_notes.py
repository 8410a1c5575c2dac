"""One bar of a MusicXML melody: note values, tuplets, ties, accidentals, beams, ``<note>`` text.

Positions and lengths are in quarter-note beats from the bar start (:class:`fractions.Fraction`);
:mod:`representations.musicxml_write` lays the melody out in bars and turns each into these notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import ceil, floor
from xml.sax.saxutils import escape

from .music import Meter

_ACCIDENTALS = {-1: "flat", 0: "natural", 1: "sharp"}
# note types, longest first, with their length in quarter-note beats
_TYPES = tuple((name, Fraction(8, 2 ** i)) for i, name in enumerate(
    ("breve", "whole", "half", "quarter", "eighth", "16th", "32nd", "64th", "128th", "256th", "512th", "1024th")))
_BEAMS = {"eighth": 1, "16th": 2, "32nd": 3, "64th": 4, "128th": 5, "256th": 6, "512th": 7, "1024th": 8}


@dataclass
class WrittenNote:
    """One written ``<note>``: a note value at a position in its bar (beats from the bar start)."""

    start: Fraction
    duration: Fraction
    type: str | None  # None for a whole-bar rest, or a length that no note type has
    dots: int = 0
    tuplet: tuple[int, int] | None = None  # (actual, normal): (3, 2) for triplets
    pitch: tuple[str, int, int] | None = None  # (step, alter, octave); None for a rest
    whole_bar: bool = False
    tie_stop: bool = False
    tie_start: bool = False
    lyric: tuple[str, str] | None = None  # (syllabic, text)
    breath: bool = False
    accidental: str | None = None
    beams: tuple[str, ...] = ()  # one per beam level, from the eighth-note beam down
    bracket: tuple[str, ...] = ()  # the tuplet bracket's "start" and/or "stop"


@lru_cache(maxsize=4096)
def note_values(start: Fraction, duration: Fraction) -> tuple[tuple, ...]:
    """The written values that fill ``duration`` beats from ``start`` (beats from the bar start).

    Returns
    -------
    tuple of (start, duration, type, dots, tuplet)
        Longest values first, dotted where one fits, to be tied together. A stretch that starts
        or ends off the binary grid is cut at whole beats, and a length with an odd factor ``m``
        in its denominator is written in ``(m, largest power of two below m)`` tuplets: 1/3 beat
        is a triplet eighth, 1/5 beat a quintuplet sixteenth. ``type`` is None for a length
        shorter than a 1024th note.
    """
    end = start + duration
    points = [start, end]
    if not _binary(start) or not _binary(end):
        points[1:1] = range(floor(start) + 1, ceil(end))  # whole beats in between
    out = []
    for a, z in zip(points, points[1:]):
        odd = (z - a).denominator
        while odd % 2 == 0:
            odd //= 2
        normal = 1 << (odd.bit_length() - 1)
        for name, dots, value in _plain_values((z - a) * odd / normal):
            real = value * normal / odd
            out.append((a, real, name, dots, (odd, normal) if odd > 1 else None))
            a += real
    return tuple(out)


def _binary(x: Fraction) -> bool:
    """Whether ``x`` beats is a sum of plain (non-tuplet) note values."""
    return x.denominator & (x.denominator - 1) == 0


def _plain_values(x: Fraction) -> list[tuple[str | None, int, Fraction]]:
    """``x`` beats (a power of two in the denominator) as ``(type, dots, beats)``, longest first."""
    out = []
    while x > 0:
        name, value = next(((name, v) for name, v in _TYPES if v <= x), (None, x))
        dots, total, add = 0, value, value / 2
        while name is not None and dots < 3 and total + add <= x:
            dots, total, add = dots + 1, total + add, add / 2
        out.append((name, dots, total))
        x -= total
    return out


def annotate_bar(notes: list[WrittenNote], meter: Meter, fifths: int) -> None:
    """Set the accidentals, beams and tuplet brackets of one bar's ``notes`` (in order, rests
    included), in a key of ``fifths`` sharps (negative: flats)."""
    shown = {}  # (step, octave) -> alter in force in this bar
    for u in notes:
        if u.pitch is None or u.tie_stop:  # a tied continuation shows no accidental
            continue
        step, alter, octave = u.pitch
        i = "FCGDAEB".index(step)
        in_key = 1 if i < fifths else -1 if 6 - i < -fifths else 0
        if alter != shown.get((step, octave), in_key):
            u.accidental = _ACCIDENTALS[alter]
            shown[(step, octave)] = alter
    beat = Fraction(3, 2) if meter.compound else max(Fraction(1), Fraction(4, meter.denominator))
    groups: list[list[WrittenNote]] = []
    for k, u in enumerate(notes):  # beamed: notes of an eighth or shorter within one beat
        if u.pitch is None or u.type not in _BEAMS:
            continue
        prev = notes[k - 1] if k else None
        if not (groups and groups[-1][-1] is prev and prev.start // beat == u.start // beat):
            groups.append([])
        groups[-1].append(u)
    for g in groups:
        levels = [_BEAMS[u.type] for u in g] if len(g) > 1 else []
        for k, (u, n) in enumerate(zip(g, levels)):
            before = levels[k - 1] if k else 0
            after = levels[k + 1] if k + 1 < len(g) else 0
            u.beams = tuple("continue" if before >= lv and after >= lv else "begin" if after >= lv else
                            "end" if before >= lv else "forward hook" if k == 0 else "backward hook"
                            for lv in range(1, n + 1))
    open_ratio, elapsed, last = None, Fraction(0), None
    for u in notes:  # a bracket spans a run of one ratio until it adds up to plain note values
        if open_ratio is not None and u.tuplet != open_ratio:
            last.bracket += ("stop",)
            open_ratio = None
        if u.tuplet is None:
            continue
        if open_ratio is None:
            open_ratio, elapsed, u.bracket = u.tuplet, Fraction(0), ("start",)
        elapsed += u.duration
        last = u
        if _binary(elapsed):
            u.bracket += ("stop",)
            open_ratio = None
    if open_ratio is not None:
        last.bracket += ("stop",)


def note_xml(u: WrittenNote, divisions: int) -> str:
    """The ``<note>`` element of ``u``, indented for a measure, with ``divisions`` per beat."""
    x = ["      <note>"]
    if u.pitch is None:
        x.append('        <rest measure="yes"/>' if u.whole_bar else "        <rest/>")
    else:
        step, alter, octave = u.pitch
        alter_xml = f"\n          <alter>{alter}</alter>" if alter else ""
        x.append(f"        <pitch>\n          <step>{step}</step>{alter_xml}\n"
                 f"          <octave>{octave}</octave>\n        </pitch>")
    x.append(f"        <duration>{int(u.duration * divisions)}</duration>")
    ties = ("stop",) * u.tie_stop + ("start",) * u.tie_start
    x += [f'        <tie type="{t}"/>' for t in ties]
    if u.type is not None:
        x.append(f"        <type>{u.type}</type>")
    x += ["        <dot/>"] * u.dots
    if u.accidental:
        x.append(f"        <accidental>{u.accidental}</accidental>")
    if u.tuplet:
        x.append(f"        <time-modification>\n          <actual-notes>{u.tuplet[0]}</actual-notes>\n"
                 f"          <normal-notes>{u.tuplet[1]}</normal-notes>\n        </time-modification>")
    x += [f'        <beam number="{k + 1}">{b}</beam>' for k, b in enumerate(u.beams)]
    notations = [f'          <tied type="{t}"/>' for t in ties]
    notations += [f'          <tuplet type="{t}" bracket="yes"/>' for t in u.bracket]
    if u.breath:
        notations.append("          <articulations>\n            <breath-mark/>\n          </articulations>")
    if notations:
        x += ["        <notations>", *notations, "        </notations>"]
    if u.lyric:
        x.append(f'        <lyric number="1">\n          <syllabic>{u.lyric[0]}</syllabic>\n'
                 f"          <text>{escape(u.lyric[1])}</text>\n        </lyric>")
    x.append("      </note>")
    return "\n".join(x)
