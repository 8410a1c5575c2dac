"""Voice presets: a name, a comfortable range, and how the bundled voice is transformed to get it.

Ranges are MIDI pitches (low, high) the melody should stay within, and ``centre`` the pitch its
melodies centre on (the voice's tessitura); the planner picks a key and octave that fit the range
and sit the melody near the centre. The alto's and tenor's centres lie in the lower half of their
ranges on purpose: held high notes lose words (per-line Whisper WER 0.18–0.24 for melodies
centred at MIDI 60–62, 0.31–0.36 at 66; benchmarks/FINDINGS.md). The soprano and the child sit
higher, where they stay distinct from each other and from the alto (resemblyzer similarity).

Every preset is the bundled Piper voice (an adult male speaker) with its WORLD spectral envelope
and aperiodicity changed (:func:`voice.timbre.apply_timbre`) and its own pitch habits (vibrato,
roughness):

- ``formant_ratio`` > 1 moves the envelope up (a smaller vocal tract); ``formant_ratio_high``
  moves the upper formants by another amount (None: the same);
- ``tilt_db_per_octave`` brightens (> 0) or darkens (< 0) the voice above 1 kHz;
- ``resonances`` are (centre Hz, gain dB) bands raised or cut (chest warmth, a singer's ring);
- ``breathiness`` (0–1) mixes noise into the upper harmonics;
- ``speech_length_scale`` and ``speech_end_mark`` are how the bundled voice speaks a line before
  it is sung: slower (> 1), and as a question ("?") rather than a statement. Slowed, the vowels
  need less stretching; as a question, the line does not end in a creak that a long last note
  would stretch into a buzz. Per-line Whisper WER over seven songs, before → after: joe
  0.155 → 0.092, tenor 0.253 → 0.238 (0.224 with its 200 Hz band), alto 0.178 → 0.150, soprano
  (slowed only; 0.341 as a question) 0.312 → 0.270 (benchmarks/FINDINGS.md);
- the soprano's and the child's breathiness (0.2) is more than their timbre alone asks for: at
  450–600 Hz the harmonics are too sparse to trace the first formant, and the breath noise,
  shaped by the envelope between them, traces it. Seven songs: soprano WER 0.270 (breathiness
  0.12) → 0.233, pitch accuracy 0.975 → 0.970 (worst song 0.960); at 0.3 dio loses the note on
  the worst song (0.946). The child gains only slowed and breathier together: 0.316 → 0.268
  (slowed alone 0.336, breathier alone 0.308), pitch 0.985 → 0.977. The alto and tenor (about
  260–330 Hz) gained nothing from breath;
- ``formant_contrast`` > 1 deepens the envelope's valleys between formants. The child had 1.45;
  plain (1.0) its lines lose fewer words (seven songs: 0.259 → 0.220, pitch 0.978 → 0.987), at
  +0.02 of resemblyzer similarity to the alto over a whole song (0.841 → 0.861);
- ``roughness_cents`` is a slow random F0 wobble (a rougher, older voice), ``vibrato_rate_hz``
  and ``vibrato_depth_cents`` the vibrato on long notes (the depth reached on notes of 1.5 s+).
"""

from __future__ import annotations

from dataclasses import dataclass

from representations.errors import SpecError
from representations.music import note_name


@dataclass(frozen=True)
class VoicePreset:
    name: str
    gender: str  # "female" | "male" | "child" | "instrument"
    low: int
    high: int
    formant_ratio: float = 1.0
    breathiness: float = 0.0
    description: str = ""
    formant_ratio_high: float | None = None
    tilt_db_per_octave: float = 0.0
    formant_contrast: float = 1.0
    resonances: tuple[tuple[float, float], ...] = ()
    roughness_cents: float = 0.0
    vibrato_rate_hz: float = 5.5
    vibrato_depth_cents: float = 40.0
    centre: int | None = None  # MIDI pitch melodies centre on (the tessitura); None: anywhere in range
    speech_length_scale: float = 1.0
    speech_end_mark: str = ""

    @property
    def range_name(self) -> str:
        return f"{note_name(self.low)}–{note_name(self.high)}"

    @property
    def centre_name(self) -> str:
        return note_name(self.centre) if self.centre is not None else "—"


SLOW_QUESTION = {"speech_length_scale": 1.9, "speech_end_mark": "?"}
PRESETS: dict[str, VoicePreset] = {
    p.name: p
    for p in (
        VoicePreset("joe", "male", 45, 64, 1.01, 0.0, "baritone: the bundled voice, warm and dark",
                    formant_ratio_high=0.92, vibrato_rate_hz=5.3, centre=55, **SLOW_QUESTION),
        VoicePreset("tenor", "male", 50, 69, 1.04, 0.05, "tenor: brighter and higher, a little rough",
                    formant_ratio_high=1.16, tilt_db_per_octave=5.0, formant_contrast=1.3,
                    resonances=((200.0, 6.0), (3000.0, 4.0)), roughness_cents=8.0, vibrato_rate_hz=5.8, centre=60,
                    **SLOW_QUESTION),
        VoicePreset("alto", "female", 53, 72, 1.2, 0.1, "alto: low, dark and warm female voice",
                    formant_ratio_high=1.0, tilt_db_per_octave=-5.0, resonances=((250.0, 4.0),), vibrato_rate_hz=5.5,
                    centre=60, **SLOW_QUESTION),
        VoicePreset("soprano", "female", 60, 79, 1.29, 0.2, "soprano: light, bright, high female voice",
                    formant_ratio_high=1.43, tilt_db_per_octave=4.0, vibrato_rate_hz=6.0, centre=72,
                    speech_length_scale=1.9),
        VoicePreset("child", "child", 62, 79, 1.3, 0.2, "a child's voice: small, soft-edged, little vibrato",
                    formant_ratio_high=1.15, tilt_db_per_octave=-6.0,
                    vibrato_depth_cents=20.0, vibrato_rate_hz=6.2, centre=69, speech_length_scale=1.9),
    )
}
DEFAULT_FOR_GENDER = {"male": "joe", "female": "alto", "child": "child", None: "joe", "choir": "alto"}


def resolve_voice(name: str | None, gender: str | None = None) -> VoicePreset:
    """The preset named ``name``, else the one the style tags ask for: ``gender`` is a gender
    (its default preset) or a preset a voice type named ("soprano", 男高音 → "tenor")."""
    if not name and gender in PRESETS:
        name = gender
    if name:
        try:
            return PRESETS[name]
        except KeyError:
            raise SpecError(f"voice: unknown preset {name!r} (valid: {', '.join(PRESETS)})") from None
    return PRESETS[DEFAULT_FOR_GENDER.get(gender, "joe")]
