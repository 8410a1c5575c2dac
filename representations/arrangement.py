"""The arrangement: multi-track notes (what each instrument plays), in quarter-note beats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from .atomic import atomic_write_text
from .music import Meter, as_fraction


@dataclass(frozen=True)
class TrackNote:
    start_beats: Fraction
    duration_beats: Fraction
    pitch: int
    velocity: int = 80

    def __post_init__(self):
        object.__setattr__(self, "start_beats", as_fraction(self.start_beats))
        object.__setattr__(self, "duration_beats", as_fraction(self.duration_beats))
        if self.start_beats < 0:
            raise ValueError(f"track note at beat {self.start_beats}: start must be >= 0")
        if self.duration_beats <= 0:
            raise ValueError(f"track note at beat {self.start_beats}: duration {self.duration_beats} must be > 0")
        if not 0 <= self.pitch <= 127 or not 1 <= self.velocity <= 127:
            raise ValueError(f"track note at beat {self.start_beats}: pitch {self.pitch}, velocity {self.velocity} "
                             f"(valid: pitch 0-127, velocity 1-127)")

    @property
    def end_beats(self) -> Fraction:
        return self.start_beats + self.duration_beats


@dataclass
class Track:
    """One instrument: ``name`` (also its stem's file name), General MIDI ``program`` (0-127),
    ``is_drum`` for the GM percussion channel, and its notes."""

    name: str
    program: int
    notes: list[TrackNote] = field(default_factory=list)
    is_drum: bool = False
    gain_db: float = 0.0
    pan: float = 0.0  # -1 left .. +1 right

    def __post_init__(self):
        if not 0 <= self.program <= 127:
            raise ValueError(f"track {self.name!r}: program {self.program} (valid: 0-127)")
        self.notes.sort(key=lambda n: (n.start_beats, n.pitch))


@dataclass
class Arrangement:
    tempo_bpm: float
    meter: Meter
    total_beats: Fraction
    tracks: list[Track]

    def __post_init__(self):
        self.total_beats = as_fraction(self.total_beats)
        names = [t.name for t in self.tracks]
        if len(set(names)) != len(names):
            raise ValueError(f"arrangement has duplicate track names: {names}")

    def track(self, name: str) -> Track:
        for t in self.tracks:
            if t.name == name:
                return t
        raise KeyError(name)

    def beats_to_seconds(self, beats: Fraction) -> float:
        return float(beats) * 60.0 / self.tempo_bpm

    @property
    def duration_s(self) -> float:
        return self.beats_to_seconds(self.total_beats)

    def to_dict(self) -> dict:
        return {
            "format": "songwright.arrangement/1",
            "tempo_bpm": self.tempo_bpm,
            "meter": str(self.meter),
            "total_beats": str(self.total_beats),
            "tracks": [
                {
                    "name": t.name, "program": t.program, "is_drum": t.is_drum, "gain_db": t.gain_db, "pan": t.pan,
                    "notes": [[str(n.start_beats), str(n.duration_beats), n.pitch, n.velocity] for n in t.notes],
                }
                for t in self.tracks
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Arrangement":
        if d.get("format") != "songwright.arrangement/1":
            raise ValueError(f"arrangement format {d.get('format')!r} is not valid (valid: songwright.arrangement/1)")
        return cls(
            tempo_bpm=float(d["tempo_bpm"]),
            meter=Meter.parse(d["meter"]),
            total_beats=Fraction(d["total_beats"]),
            tracks=[
                Track(t["name"], t["program"], [TrackNote(Fraction(a), Fraction(b), p, v) for a, b, p, v in t["notes"]],
                      t["is_drum"], t.get("gain_db", 0.0), t.get("pan", 0.0))
                for t in d["tracks"]
            ],
        )

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), separators=(",", ":")))

    @classmethod
    def load(cls, path: str | Path) -> "Arrangement":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
