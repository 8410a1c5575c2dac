"""Voice presets: a name, a comfortable range, and how the bundled voice is transformed to get it.

Ranges are MIDI pitches (low, high) the melody should stay within; the planner picks a key and
octave that fit them. ``formant_ratio`` > 1 moves the spectral envelope up (a smaller vocal tract).
"""

from __future__ import annotations

from dataclasses import dataclass

from representations.errors import SpecError


@dataclass(frozen=True)
class VoicePreset:
    name: str
    gender: str  # "female" | "male" | "child"
    low: int
    high: int
    formant_ratio: float = 1.0
    breathiness: float = 0.0
    description: str = ""

    @property
    def range_name(self) -> str:
        from representations.music import NOTE_NAMES

        return f"{NOTE_NAMES[self.low % 12]}{self.low // 12 - 1}–{NOTE_NAMES[self.high % 12]}{self.high // 12 - 1}"


PRESETS: dict[str, VoicePreset] = {
    p.name: p
    for p in (
        VoicePreset("joe", "male", 45, 64, 1.0, 0.0, "the bundled voice as it is: baritone, warm"),
        VoicePreset("tenor", "male", 50, 69, 1.06, 0.05, "brighter, higher male voice"),
        VoicePreset("alto", "female", 53, 72, 1.18, 0.1, "low, warm female voice"),
        VoicePreset("soprano", "female", 60, 79, 1.25, 0.12, "light, high female voice"),
        VoicePreset("child", "child", 62, 79, 1.35, 0.1, "a child's voice"),
    )
}
DEFAULT_FOR_GENDER = {"male": "joe", "female": "alto", "child": "child", None: "joe", "choir": "alto"}


def resolve_voice(name: str | None, gender: str | None = None) -> VoicePreset:
    """The preset named ``name``, else the default one for ``gender`` (from the style tags)."""
    if name:
        try:
            return PRESETS[name]
        except KeyError:
            raise SpecError(f"voice: unknown preset {name!r} (valid: {', '.join(PRESETS)})") from None
    return PRESETS[DEFAULT_FOR_GENDER.get(gender, "joe")]
