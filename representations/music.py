"""Small musical value types shared by every representation: keys, meters, chord symbols.

Pitches are MIDI numbers (60 = middle C); pitch classes are 0..11 with C = 0.
Symbolic time is counted in quarter-note beats as :class:`fractions.Fraction`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)  # natural minor


def pitch_class(name: str) -> int:
    """Pitch class of a note name such as ``"F#"``, ``"Bb"`` or ``"e"``; ValueError if not one."""
    m = re.fullmatch(r"\s*([A-Ga-g])([#♯b♭]*)\s*", name)
    if not m:
        raise ValueError(f"not a note name: {name!r} (valid: A-G with optional # or b)")
    pc = _PC[m.group(1).upper()]
    for acc in m.group(2):
        pc += 1 if acc in "#♯" else -1
    return pc % 12


def note_name(midi: int) -> str:
    """Scientific pitch name of a MIDI pitch: 60 -> ``"C4"``, 58 -> ``"Bb3"``."""
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def as_fraction(value) -> Fraction:
    """Exact beats from a Fraction, int, ``"3/2"`` string or a float with a short binary form."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(value).limit_denominator(960)
    return Fraction(value)


@dataclass(frozen=True)
class Key:
    """A key: tonic name and mode (``"major"`` or ``"minor"``)."""

    tonic: str = "C"
    mode: str = "major"

    def __post_init__(self):
        pitch_class(self.tonic)
        if self.mode not in ("major", "minor"):
            raise ValueError(f"key mode {self.mode!r} is not valid (valid: major, minor)")

    @classmethod
    def parse(cls, text: str) -> "Key":
        """Parse ``"G major"``, ``"E minor"``, ``"Em"``, ``"F#m"``, ``"Bb"``."""
        m = re.fullmatch(r"\s*([A-Ga-g][#♯b♭]?)\s*(major|minor|maj|min|m)?\s*", text or "", re.I)
        if not m:
            raise ValueError(f"not a key: {text!r} (valid: e.g. 'G major', 'E minor', 'F#m')")
        mode = (m.group(2) or "major").lower()
        mode = "major" if mode in ("major", "maj") else "minor"
        tonic = NOTE_NAMES[pitch_class(m.group(1))]
        return cls(tonic, mode)

    @property
    def tonic_pc(self) -> int:
        return pitch_class(self.tonic)

    def scale_pcs(self) -> tuple[int, ...]:
        steps = MAJOR_STEPS if self.mode == "major" else MINOR_STEPS
        return tuple((self.tonic_pc + s) % 12 for s in steps)

    def transposed(self, semitones: int) -> "Key":
        return Key(NOTE_NAMES[(self.tonic_pc + semitones) % 12], self.mode)

    def __str__(self) -> str:
        return f"{self.tonic} {self.mode}"


@dataclass(frozen=True)
class Meter:
    """A time signature; ``bar_beats`` is the bar length in quarter-note beats."""

    numerator: int = 4
    denominator: int = 4

    def __post_init__(self):
        if self.denominator not in (2, 4, 8, 16) or not 1 <= self.numerator <= 16:
            raise ValueError(f"meter {self} is not valid (valid: e.g. 4/4, 3/4, 6/8)")

    @classmethod
    def parse(cls, text: str) -> "Meter":
        m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if not m:
            raise ValueError(f"not a meter: {text!r} (valid: e.g. 4/4, 3/4, 6/8)")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def bar_beats(self) -> Fraction:
        return Fraction(self.numerator * 4, self.denominator)

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8: beats grouped in threes of eighths."""
        return self.denominator == 8 and self.numerator % 3 == 0

    def strong_beats(self) -> tuple[Fraction, ...]:
        """Offsets (quarter beats from the bar start) of the metrically strong positions."""
        if self.compound:
            return tuple(Fraction(3, 2) * i for i in range(self.numerator // 3))
        if self.numerator == 4:
            return (Fraction(0), Fraction(2))
        return (Fraction(0),)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


_QUALITIES = {
    # suffix: intervals above the root
    "": (0, 4, 7), "maj": (0, 4, 7), "m": (0, 3, 7), "min": (0, 3, 7), "-": (0, 3, 7),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11), "m7": (0, 3, 7, 10),
    "min7": (0, 3, 7, 10), "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9), "9": (0, 4, 7, 10, 14),
    "add9": (0, 4, 7, 14), "madd9": (0, 3, 7, 14), "maj9": (0, 4, 7, 11, 14), "m9": (0, 3, 7, 10, 14),
    "sus2": (0, 2, 7), "sus4": (0, 5, 7), "sus": (0, 5, 7), "7sus4": (0, 5, 7, 10),
    "dim": (0, 3, 6), "dim7": (0, 3, 6, 9), "m7b5": (0, 3, 6, 10), "aug": (0, 4, 8), "+": (0, 4, 8),
    "5": (0, 7),
}


@dataclass(frozen=True)
class ChordSymbol:
    """A parsed chord symbol such as ``"Am7"``, ``"F/C"`` or ``"Bbmaj7"``."""

    root_pc: int
    intervals: tuple[int, ...]
    bass_pc: int

    @classmethod
    def parse(cls, symbol: str) -> "ChordSymbol":
        m = re.fullmatch(r"([A-G][#b]?)([^/]*)(?:/([A-G][#b]?))?", symbol.strip())
        if not m or m.group(2) not in _QUALITIES:
            raise ValueError(
                f"not a chord symbol: {symbol!r} (valid: root A-G, optional #/b, one of "
                f"{', '.join(repr(q) for q in _QUALITIES if q)}, optional /bass)"
            )
        root = pitch_class(m.group(1))
        bass = pitch_class(m.group(3)) if m.group(3) else root
        return cls(root, _QUALITIES[m.group(2)], bass)

    def pitch_classes(self) -> tuple[int, ...]:
        return tuple(sorted({(self.root_pc + i) % 12 for i in self.intervals}))

    @property
    def is_minor(self) -> bool:
        return 3 in self.intervals and 4 not in self.intervals
