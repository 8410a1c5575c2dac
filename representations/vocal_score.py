"""The vocal score: the lead sheet's sung melody resolved in seconds — what a Singer consumes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .atomic import atomic_write_text


@dataclass(frozen=True)
class VocalNote:
    """One sung note. ``text``/``phonemes`` are its syllable's; a melisma continuation
    (``melisma=True``) holds the vowel of the syllable before it."""

    start_s: float
    duration_s: float
    pitch: int
    velocity: int
    text: str
    phonemes: tuple[str, ...]
    line: int
    syllable: int
    word: int = 0
    word_start: bool = True
    melisma: bool = False

    def __post_init__(self):
        object.__setattr__(self, "phonemes", tuple(self.phonemes))
        if self.start_s < 0:
            raise ValueError(f"vocal note at {self.start_s:.3f} s: start must be >= 0")
        if self.duration_s <= 0:
            raise ValueError(f"vocal note at {self.start_s:.3f} s: duration {self.duration_s} must be > 0")
        if not 0 <= self.pitch <= 127:
            raise ValueError(f"vocal note at {self.start_s:.3f} s: pitch {self.pitch} (valid: 0-127)")

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class VocalLine:
    index: int
    text: str
    start_s: float
    end_s: float


@dataclass
class VocalScore:
    """Notes in time order, the lyric lines they belong to, the language and the voice preset."""

    notes: list[VocalNote]
    lines: list[VocalLine]
    language: str = "en"
    voice: str = "default"
    duration_s: float = 0.0
    extras: dict = field(default_factory=dict)

    def __post_init__(self):
        self.notes.sort(key=lambda n: n.start_s)
        for a, b in zip(self.notes, self.notes[1:]):
            if b.start_s < a.end_s - 1e-6:
                raise ValueError(f"vocal notes overlap at {b.start_s:.3f} s (a voice sings one note at a time)")

    def line_notes(self, line: int) -> list[VocalNote]:
        return [n for n in self.notes if n.line == line]

    def to_dict(self) -> dict:
        return {
            "format": "songwright.vocalscore/1",
            "language": self.language,
            "voice": self.voice,
            "duration_s": self.duration_s,
            "extras": self.extras,
            "lines": [asdict(l) for l in self.lines],
            "notes": [asdict(n) | {"phonemes": list(n.phonemes)} for n in self.notes],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "VocalScore":
        if d.get("format") != "songwright.vocalscore/1":
            raise ValueError(f"vocal score format {d.get('format')!r} is not valid (valid: songwright.vocalscore/1)")
        return cls(
            notes=[VocalNote(**(n | {"phonemes": tuple(n["phonemes"])})) for n in d["notes"]],
            lines=[VocalLine(**l) for l in d["lines"]],
            language=d["language"], voice=d["voice"], duration_s=d["duration_s"], extras=d.get("extras", {}),
        )

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False))

    @classmethod
    def load(cls, path: str | Path) -> "VocalScore":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
