"""The lead sheet: Songwright's central, human-editable representation.

Sections, chord symbols and a melody whose notes are linked to lyric syllables, in exact
quarter-note beats (:class:`fractions.Fraction`). Seconds appear only through
:meth:`LeadSheet.beats_to_seconds` (one constant tempo per song).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from .atomic import atomic_write_text
from .music import ChordSymbol, Key, Meter, as_fraction

SECTION_KINDS = ("intro", "verse", "pre-chorus", "chorus", "bridge", "interlude", "outro")


def _frac(x: Fraction) -> str:
    return str(x)


@dataclass(frozen=True)
class Section:
    """A stretch of whole bars: ``kind`` is one of SECTION_KINDS, ``label`` as the user wrote it."""

    kind: str
    label: str
    start_bar: int
    n_bars: int

    def __post_init__(self):
        if self.kind not in SECTION_KINDS:
            raise ValueError(f"section kind {self.kind!r} is not valid (valid: {', '.join(SECTION_KINDS)})")
        if self.start_bar < 0 or self.n_bars < 1:
            raise ValueError(f"section {self.label!r}: start_bar {self.start_bar}, n_bars {self.n_bars}")


@dataclass(frozen=True)
class Chord:
    start_beats: Fraction
    duration_beats: Fraction
    symbol: str

    def __post_init__(self):
        object.__setattr__(self, "start_beats", as_fraction(self.start_beats))
        object.__setattr__(self, "duration_beats", as_fraction(self.duration_beats))
        if self.duration_beats <= 0:
            raise ValueError(f"chord {self.symbol} at beat {self.start_beats}: duration must be > 0")
        ChordSymbol.parse(self.symbol)

    @property
    def parsed(self) -> ChordSymbol:
        return ChordSymbol.parse(self.symbol)

    @property
    def end_beats(self) -> Fraction:
        return self.start_beats + self.duration_beats


@dataclass(frozen=True)
class Note:
    """A melody note. ``syllable`` is ``(line_index, syllable_index)`` for the note that starts a
    syllable; the following notes of a melisma carry the same pair and ``melisma=True``."""

    start_beats: Fraction
    duration_beats: Fraction
    pitch: int
    velocity: int = 90
    syllable: tuple[int, int] | None = None
    melisma: bool = False

    def __post_init__(self):
        object.__setattr__(self, "start_beats", as_fraction(self.start_beats))
        object.__setattr__(self, "duration_beats", as_fraction(self.duration_beats))
        if self.syllable is not None:
            object.__setattr__(self, "syllable", tuple(self.syllable))
        if self.start_beats < 0:
            raise ValueError(f"note at beat {self.start_beats}: start must be >= 0")
        if self.duration_beats <= 0:
            raise ValueError(f"note at beat {self.start_beats}: duration {self.duration_beats} must be > 0")
        if not 0 <= self.pitch <= 127 or not 1 <= self.velocity <= 127:
            raise ValueError(f"note at beat {self.start_beats}: pitch {self.pitch} / velocity {self.velocity} "
                             f"(valid: pitch 0-127, velocity 1-127)")

    @property
    def end_beats(self) -> Fraction:
        return self.start_beats + self.duration_beats


@dataclass(frozen=True)
class Syllable:
    """One sung syllable: its spelling, phonemes (ARPAbet for English, pinyin initial/final for
    Mandarin), lexical stress (0 none, 1 primary, 2 secondary), the index of its word in the line
    and whether it begins that word."""

    text: str
    phonemes: tuple[str, ...] = ()
    stress: int = 0
    word: int = 0
    word_start: bool = True

    def __post_init__(self):
        object.__setattr__(self, "phonemes", tuple(self.phonemes))


@dataclass(frozen=True)
class LyricLine:
    section: int
    text: str
    syllables: tuple[Syllable, ...]

    def __post_init__(self):
        object.__setattr__(self, "syllables", tuple(self.syllables))


@dataclass
class LeadSheet:
    """Title, key, meter, tempo, style tags, sections, chords, melody and lyrics of a song."""

    title: str
    key: Key
    meter: Meter
    tempo_bpm: float
    sections: list[Section]
    chords: list[Chord]
    melody: list[Note]
    lyrics: list[LyricLine] = field(default_factory=list)
    style_tags: list[str] = field(default_factory=list)
    language: str = "en"

    def __post_init__(self):
        if not 20 <= self.tempo_bpm <= 400:
            raise ValueError(f"tempo {self.tempo_bpm} BPM is not valid (valid: 20-400)")
        self.melody.sort(key=lambda n: n.start_beats)
        self.chords.sort(key=lambda c: c.start_beats)
        for n in self.melody:
            if n.syllable is not None:
                li, si = n.syllable
                if not (0 <= li < len(self.lyrics) and 0 <= si < len(self.lyrics[li].syllables)):
                    raise ValueError(f"note at beat {n.start_beats} names syllable {n.syllable}, which does not exist")

    # ---- time ---------------------------------------------------------------------------------
    @property
    def n_bars(self) -> int:
        return max((s.start_bar + s.n_bars for s in self.sections), default=0)

    @property
    def total_beats(self) -> Fraction:
        return self.n_bars * self.meter.bar_beats

    def bar_start_beats(self, bar: int) -> Fraction:
        return bar * self.meter.bar_beats

    def beats_to_seconds(self, beats: Fraction) -> float:
        return float(beats) * 60.0 / self.tempo_bpm

    @property
    def duration_s(self) -> float:
        return self.beats_to_seconds(self.total_beats)

    def chord_at(self, beats: Fraction) -> Chord | None:
        for c in self.chords:
            if c.start_beats <= beats < c.end_beats:
                return c
        return None

    def sung_notes(self, line: int | None = None) -> list[Note]:
        """Notes that carry a syllable (optionally of one line), in time order."""
        return [n for n in self.melody if n.syllable is not None and (line is None or n.syllable[0] == line)]

    def line_span_beats(self, line: int) -> tuple[Fraction, Fraction]:
        notes = self.sung_notes(line)
        if not notes:
            raise ValueError(f"lyric line {line + 1} has no notes")
        return notes[0].start_beats, max(n.end_beats for n in notes)

    def transposed(self, semitones: int) -> "LeadSheet":
        """The same song moved by ``semitones``: melody and chord symbols, intervals exact."""
        from .music import NOTE_NAMES, pitch_class
        import re

        def move(sym: str) -> str:
            return re.sub(r"[A-G][#b]?", lambda m: NOTE_NAMES[(pitch_class(m.group(0)) + semitones) % 12], sym)

        return replace(
            self,
            key=self.key.transposed(semitones),
            chords=[replace(c, symbol=move(c.symbol)) for c in self.chords],
            melody=[replace(n, pitch=n.pitch + semitones) for n in self.melody],
        )

    # ---- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": "songwright.leadsheet/1",
            "title": self.title,
            "key": {"tonic": self.key.tonic, "mode": self.key.mode},
            "meter": str(self.meter),
            "tempo_bpm": self.tempo_bpm,
            "language": self.language,
            "style_tags": list(self.style_tags),
            "sections": [vars(s) | {} for s in self.sections],
            "chords": [
                {"start_beats": _frac(c.start_beats), "duration_beats": _frac(c.duration_beats), "symbol": c.symbol}
                for c in self.chords
            ],
            "melody": [
                {
                    "start_beats": _frac(n.start_beats),
                    "duration_beats": _frac(n.duration_beats),
                    "pitch": n.pitch,
                    "velocity": n.velocity,
                    "syllable": list(n.syllable) if n.syllable is not None else None,
                    "melisma": n.melisma,
                }
                for n in self.melody
            ],
            "lyrics": [
                {
                    "section": l.section,
                    "text": l.text,
                    "syllables": [
                        {"text": s.text, "phonemes": list(s.phonemes), "stress": s.stress,
                         "word": s.word, "word_start": s.word_start}
                        for s in l.syllables
                    ],
                }
                for l in self.lyrics
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "LeadSheet":
        if d.get("format") != "songwright.leadsheet/1":
            raise ValueError(f"lead sheet format {d.get('format')!r} is not valid (valid: songwright.leadsheet/1)")
        return cls(
            title=d["title"],
            key=Key(d["key"]["tonic"], d["key"]["mode"]),
            meter=Meter.parse(d["meter"]),
            tempo_bpm=float(d["tempo_bpm"]),
            language=d.get("language", "en"),
            style_tags=list(d.get("style_tags", [])),
            sections=[Section(**s) for s in d["sections"]],
            chords=[Chord(Fraction(c["start_beats"]), Fraction(c["duration_beats"]), c["symbol"]) for c in d["chords"]],
            melody=[
                Note(Fraction(n["start_beats"]), Fraction(n["duration_beats"]), n["pitch"], n["velocity"],
                     tuple(n["syllable"]) if n.get("syllable") is not None else None, n.get("melisma", False))
                for n in d["melody"]
            ],
            lyrics=[
                LyricLine(l["section"], l["text"], tuple(Syllable(s["text"], tuple(s["phonemes"]), s["stress"],
                                                                   s["word"], s["word_start"]) for s in l["syllables"]))
                for l in d["lyrics"]
            ],
        )

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> "LeadSheet":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
