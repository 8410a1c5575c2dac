"""The instrument table: what each canonical instrument name of :data:`generators.style.INSTRUMENTS`
becomes in an arrangement — General MIDI program, role, playing register, track (stem) name and a
default balance.

Programs are 0-based General MIDI numbers. For drum instruments ``program`` is the drum-kit preset of
the percussion bank (bank 128) of FluidR3_GM.sf2, which holds these kits: 0 Standard (1-7 variants),
8 Room, 16 Power, 24 Electronic, 25 TR-808, 32 Jazz, 40 Brush, 48 Orchestra. Every kit answers on all GM
percussion keys; the brush kit's snare keys 38-40 are brush sounds, 6-8 dB softer than the
standard kit's sticks.

Instruments General MIDI lacks are mapped to the nearest sound: guzheng → Koto (107), erhu →
Fiddle (110), dizi → Piccolo (72), pipa → Shamisen (106), ukulele → Nylon String Guitar (24).

``gain_db`` evens out the loudness of FluidR3's presets as the arranger's parts play them: measured
on 16-bar arrangements of many genres, each stem's integrated loudness lands near its role's target
(drums -26, bass -28, chord instruments -29, guitars, strings and solo lines -30, plucked
arpeggios -31, pads -32 LUFS). ``pan`` is -1 (left) .. +1 (right).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("drums", "bass", "chords", "guitar", "pad", "strings", "lead", "pluck", "timpani")

# Drum-kit presets in bank 128 of FluidR3_GM.sf2.
KIT_STANDARD, KIT_ROOM, KIT_POWER, KIT_ELECTRONIC, KIT_TR808, KIT_JAZZ, KIT_BRUSH, KIT_ORCHESTRA = (
    0, 8, 16, 24, 25, 32, 40, 48)


@dataclass(frozen=True)
class Instrument:
    """One playable instrument.

    Parameters
    ----------
    name : str
        Canonical name (``"acoustic guitar"``).
    track_name : str
        Name of its track and stem file (``"acoustic_guitar"``).
    program : int
        0-based GM program; for drums the bank-128 kit preset.
    role : str
        One of :data:`ROLES`: what kind of part it plays.
    low, high : int
        MIDI pitch range its parts are written in (inclusive).
    is_drum : bool
        Plays on the GM percussion channel.
    gain_db : float
        Default track gain in dB.
    pan : float
        Default pan, -1 (left) .. +1 (right).
    sustained : bool
        Holds notes (bowed, blown, pads) rather than decaying (plucked, struck).
    """

    name: str
    track_name: str
    program: int
    role: str
    low: int
    high: int
    is_drum: bool = False
    gain_db: float = 0.0
    pan: float = 0.0
    sustained: bool = False


def _i(name, program, role, low, high, gain_db, pan, *, sustained=False, is_drum=False, track=None):
    track = track or name.replace(" ", "_")
    return Instrument(name, track, program, role, low, high, is_drum, gain_db, pan, sustained)


INSTRUMENT_TABLE: dict[str, Instrument] = {i.name: i for i in (
    _i("piano", 0, "chords", 48, 79, 2.5, -0.15),
    _i("electric piano", 4, "chords", 50, 76, -4.0, 0.15),
    _i("organ", 16, "chords", 48, 74, 2.0, 0.2, sustained=True),
    _i("accordion", 21, "chords", 53, 77, 1.5, 0.25, sustained=True),
    _i("acoustic guitar", 25, "guitar", 40, 71, -2.5, 0.35),
    _i("electric guitar", 27, "guitar", 40, 74, -4.0, -0.35),
    _i("nylon guitar", 24, "guitar", 40, 71, -2.5, 0.3),
    _i("ukulele", 24, "guitar", 60, 76, 2.5, 0.3),
    _i("banjo", 105, "guitar", 55, 79, 1.0, -0.3),
    _i("bass", 33, "bass", 28, 55, 1.0, 0.0),
    _i("upright bass", 32, "bass", 28, 55, 2.0, 0.0),
    _i("synth bass", 38, "bass", 24, 50, 2.5, 0.0),
    _i("drums", KIT_STANDARD, "drums", 35, 81, 6.5, 0.0, is_drum=True),
    _i("brushes", KIT_BRUSH, "drums", 35, 81, 8.0, 0.0, is_drum=True, track="drums"),
    _i("808", KIT_TR808, "drums", 35, 81, -1.5, 0.0, is_drum=True, track="drums"),
    _i("strings", 48, "strings", 48, 81, -6.0, 0.0, sustained=True),
    _i("pad", 89, "pad", 48, 76, -3.5, 0.0, sustained=True),
    _i("choir pad", 52, "pad", 52, 76, -6.0, 0.0, sustained=True),
    _i("violin", 40, "lead", 62, 88, -0.5, 0.3, sustained=True),
    _i("cello", 42, "lead", 36, 64, -2.5, -0.3, sustained=True),
    _i("flute", 73, "lead", 64, 91, -4.0, 0.25, sustained=True),
    _i("saxophone", 65, "lead", 53, 79, -0.5, -0.2, sustained=True),
    _i("trumpet", 56, "lead", 58, 82, 1.0, 0.2, sustained=True),
    _i("harmonica", 22, "lead", 60, 84, 3.0, -0.25, sustained=True),
    _i("clarinet", 71, "lead", 52, 84, -6.0, -0.25, sustained=True),
    _i("oboe", 68, "lead", 60, 86, -3.5, 0.25, sustained=True),
    _i("erhu", 110, "lead", 62, 88, -0.5, 0.3, sustained=True),
    _i("dizi", 72, "lead", 67, 93, -2.5, -0.3, sustained=True),
    _i("synth", 81, "pluck", 55, 84, 1.0, 0.2),
    _i("guzheng", 107, "pluck", 50, 86, 3.5, -0.3),
    _i("pipa", 106, "pluck", 52, 81, 7.0, 0.3),
    _i("harp", 46, "pluck", 43, 88, 0.5, -0.3),
    _i("bells", 9, "pluck", 72, 96, 1.0, 0.3),
    _i("marimba", 12, "pluck", 48, 84, 2.0, -0.25),
    _i("vibraphone", 11, "pluck", 53, 89, 5.0, 0.25),
    _i("timpani", 47, "timpani", 38, 55, 4.5, 0.0),
)}

# Sound variants a genre asks of an instrument: (instrument, genre) -> (program, gain change in dB
# that keeps the variant as loud as the default sound).
GENRE_PROGRAMS: dict[tuple[str, str], tuple[int, float]] = {
    ("electric guitar", "rock"): (29, -2.5),
    ("electric guitar", "blues"): (26, -0.5),
    ("electric guitar", "jazz"): (26, -0.5),
    ("organ", "rock"): (18, -3.5),
    ("organ", "blues"): (18, -3.5),
    ("violin", "country"): (110, 0.0),
    ("pad", "cinematic"): (94, -4.0),
    ("drums", "jazz"): (KIT_JAZZ, 1.0),
    ("drums", "electronic"): (KIT_ELECTRONIC, -3.5),
    ("drums", "dance"): (KIT_ELECTRONIC, -3.5),
    ("drums", "hiphop"): (KIT_TR808, -8.0),
}


def instrument(name: str) -> Instrument:
    """The :class:`Instrument` for a canonical name; ValueError naming the valid ones otherwise."""
    try:
        return INSTRUMENT_TABLE[name]
    except KeyError:
        raise ValueError(f"unknown instrument {name!r} (valid: {', '.join(INSTRUMENT_TABLE)})") from None


def track_name(name: str) -> str:
    """The track (stem) name an instrument gets: ``"acoustic guitar"`` → ``"acoustic_guitar"``."""
    return instrument(name).track_name


def instrument_for_track(track: str) -> Instrument | None:
    """The instrument whose track is called ``track`` (drum kits all give ``"drums"``), or None."""
    for inst in INSTRUMENT_TABLE.values():
        if inst.track_name == track:
            return inst
    return None


def program_for(name: str, genre: str) -> tuple[int, float]:
    """GM program and gain in dB of instrument ``name`` in ``genre`` (some genres ask for a variant)."""
    inst = instrument(name)
    program, offset_db = GENRE_PROGRAMS.get((name, genre), (inst.program, 0.0))
    return program, inst.gain_db + offset_db
