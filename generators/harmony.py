"""Chord progressions by genre and mood, one chord per bar, with cadences at section ends.

Progressions are written in Roman numerals relative to the key (``"vi"``, ``"V7"``,
``"Imaj7"``, ``"bVII"``; in a minor key the numerals follow natural minor, so ``"VI"`` is the
flat sixth) and turned into chord symbols that :class:`representations.music.ChordSymbol`
parses. Verse and chorus use different progressions; every section but a pre-chorus ends on
a cadence into the tonic (V→I or IV→I), a pre-chorus on the dominant; the song ends on I.
"""

from __future__ import annotations

import random
import re

from representations.music import MAJOR_STEPS, MINOR_STEPS, NOTE_NAMES, ChordSymbol, Key

# family -> mode -> role -> candidate progressions (space-separated numerals, one per bar)
_P = {
    "pop": {
        "major": {"verse": ["I V vi IV", "vi IV I V", "I vi IV V", "I IV vi V", "I V IV V"],
                  "chorus": ["IV V iii vi", "I V vi IV", "IV I V vi", "vi IV I V", "IV V I vi"]},
        "minor": {"verse": ["i VI III VII", "i iv VI V", "i VII VI VII", "i iv i V"],
                  "chorus": ["VI VII i i", "VI III VII i", "iv VI VII i", "i VI III VII"]},
    },
    "ballad": {
        "major": {"verse": ["I iii IV V", "I vi ii V", "I V vi iii IV I IV V", "Imaj7 vi7 IVmaj7 V"],
                  "chorus": ["IV V iii vi", "IV I V vi", "vi IV I V", "IV V I vi"]},
        "minor": {"verse": ["i VI III VII", "i v VI III", "i iv VII III"],
                  "chorus": ["VI VII i i", "VI III VII i", "iv VII III VI"]},
    },
    "jazz": {
        "major": {"verse": ["ii7 V7 Imaj7 Imaj7", "Imaj7 vi7 ii7 V7", "iii7 vi7 ii7 V7"],
                  "chorus": ["IVmaj7 iii7 ii7 V7", "Imaj7 IV7 iii7 vi7", "ii7 V7 iii7 vi7"]},
        "minor": {"verse": ["iiø7 V7 i7 i7", "i7 iv7 iiø7 V7"],
                  "chorus": ["iv7 VII7 IIImaj7 VImaj7", "VImaj7 iiø7 V7 i7"]},
    },
    "blues": {
        "major": {"verse": ["I7 I7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7", "I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 I7"],
                  "chorus": ["IV7 IV7 I7 I7 V7 IV7 I7 I7", "IV7 I7 V7 I7"]},
        "minor": {"verse": ["i7 i7 i7 i7 iv7 iv7 i7 i7 VI7 V7 i7 V7"],
                  "chorus": ["iv7 iv7 i7 i7 VI7 V7 i7 i7"]},
    },
    "folk": {
        "major": {"verse": ["I IV I V", "I IV V I", "I V IV I", "I vi IV V"],
                  "chorus": ["IV I V I", "IV I IV V", "vi IV I V", "IV V I I"]},
        "minor": {"verse": ["i VII i v", "i VI VII i", "i iv VII III"],
                  "chorus": ["III VII i i", "VI VII i i", "iv i VII i"]},
    },
    "waltz": {
        "major": {"verse": ["I I V7 V7", "I IV V7 I", "I vi ii V7"],
                  "chorus": ["IV IV I I", "IV I V7 I", "ii V7 I vi"]},
        "minor": {"verse": ["i i V7 V7", "i iv V7 i"],
                  "chorus": ["iv iv i i", "VI iv V7 i"]},
    },
    "lofi": {
        "major": {"verse": ["Imaj7 vi7 ii7 V7", "ii7 V7 Imaj7 vi7", "IVmaj7 iii7 ii7 Imaj7"],
                  "chorus": ["IVmaj7 V7 iii7 vi7", "Imaj7 IVmaj7 iii7 vi7", "ii7 iii7 IVmaj7 V7"]},
        "minor": {"verse": ["i7 iv7 VImaj7 V7", "i7 VImaj7 iv7 v7"],
                  "chorus": ["VImaj7 VII7 i7 i7", "iv7 v7 VImaj7 i7"]},
    },
    "rock": {
        "major": {"verse": ["I bVII IV I", "I V IV IV", "I IV I V"],
                  "chorus": ["IV I V vi", "vi IV I V", "IV V I I"]},
        "minor": {"verse": ["i VII VI VII", "i VI VII i", "i i VII VI"],
                  "chorus": ["VI VII i i", "III VII VI VII", "i VI III VII"]},
    },
    "dance": {
        "major": {"verse": ["vi IV I V", "I V vi IV", "vi V IV V"],
                  "chorus": ["IV V vi vi", "IV I V vi", "I V vi IV"]},
        "minor": {"verse": ["i VI III VII", "i VII VI VII", "i iv VI VII"],
                  "chorus": ["VI VII i i", "VI III VII i", "iv VI VII VII"]},
    },
    "chinese": {  # pentatonic-friendly: the canon and "4536251" progressions of Chinese pop
        "major": {"verse": ["I V vi iii IV I IV V", "I vi IV V", "I iii vi V"],
                  "chorus": ["IV V iii vi ii V I I", "IV V iii vi", "vi iii IV V"]},
        "minor": {"verse": ["i v VI III", "i VII VI VII", "i III VII i"],
                  "chorus": ["VI VII III i", "iv VII III VI", "VI VII i i"]},
    },
}
_BUILD = {"major": ["IV V IV V", "ii IV V V", "vi IV ii V", "IV IV V V"],
          "minor": ["iv VI VII VII", "VI VII iv V", "iv iv V V"]}
_BRIDGE = {"major": ["vi IV I V", "IV vi IV V", "ii IV vi V", "vi V IV V"],
           "minor": ["VI III VII V", "iv VI III V", "VI VII III V"]}
FAMILY = {"pop": "pop", "ballad": "ballad", "jazz": "jazz", "blues": "blues", "folk": "folk", "country": "folk",
          "waltz": "waltz", "lofi": "lofi", "rnb": "lofi", "rock": "rock", "dance": "dance", "electronic": "dance",
          "hiphop": "dance", "chinese": "chinese", "latin": "pop", "classical": "ballad", "cinematic": "ballad"}
_SEVENTH_FAMILIES = ("jazz", "blues", "lofi")
_ROMAN = re.compile(r"^(b|#)?(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(.*)$")
_UPPER_SUFFIX = {"": "", "7": "7", "maj7": "maj7", "6": "6", "9": "9", "add9": "add9", "sus4": "sus4", "sus2": "sus2"}
_LOWER_SUFFIX = {"": "m", "7": "m7", "9": "m9", "6": "m6", "ø7": "m7b5", "°": "dim", "add9": "madd9"}


def roman_to_symbol(numeral: str, key: Key) -> str:
    """Chord symbol of a Roman numeral in ``key``: ``"vi"`` in C major → ``"Am"``."""
    m = _ROMAN.match(numeral)
    if not m:
        raise ValueError(f"not a Roman numeral: {numeral!r} (valid: e.g. I, vi, V7, bVII, iiø7)")
    acc, rn, suffix = m.groups()
    degree = ("i", "ii", "iii", "iv", "v", "vi", "vii").index(rn.lower())
    steps = MAJOR_STEPS if key.mode == "major" else MINOR_STEPS
    root = (key.tonic_pc + steps[degree] + {"b": -1, "#": 1, None: 0}[acc]) % 12
    table = _UPPER_SUFFIX if rn.isupper() else _LOWER_SUFFIX
    if suffix not in table:
        raise ValueError(f"chord quality {suffix!r} in {numeral!r} is not valid (valid: {', '.join(table)})")
    symbol = NOTE_NAMES[root] + table[suffix]
    ChordSymbol.parse(symbol)
    return symbol


def family_of(genre: str) -> str:
    """The progression family used for ``genre`` (pop when unknown)."""
    return FAMILY.get(genre, "pop")


def choose_progressions(genre: str, mode: str, *, rng: random.Random) -> dict[str, list[str]]:
    """One progression per section role (verse, chorus, pre-chorus, bridge, intro, ...).

    Verse and chorus always differ. Returns numerals, one per bar, cycled over a section.
    """
    table = _P[family_of(genre)][mode]
    verse = rng.choice(table["verse"])
    chorus = rng.choice([p for p in table["chorus"] if p != verse] or table["chorus"])
    build = rng.choice(_BUILD[mode])
    bridge = rng.choice([p for p in _BRIDGE[mode] if p not in (verse, chorus)] or _BRIDGE[mode])
    out = {"verse": verse, "chorus": chorus, "pre-chorus": build, "bridge": bridge,
           "intro": rng.choice([verse, chorus]), "interlude": verse, "outro": chorus}
    return {k: v.split() for k, v in out.items()}


def cadence(genre: str, mode: str, kind: str, *, rng: random.Random) -> tuple[str, str]:
    """The last two bars of a section: (approach, arrival)."""
    fam = family_of(genre)
    tonic = "I" if mode == "major" else "i"
    dom = "V7" if fam in _SEVENTH_FAMILIES + ("waltz",) else "V"
    sub = "IV" if mode == "major" else "iv"
    if fam in _SEVENTH_FAMILIES:
        tonic = {"jazz": "Imaj7" if mode == "major" else "i7", "lofi": "Imaj7" if mode == "major" else "i7",
                 "blues": "I7" if mode == "major" else "i7"}[fam]
        sub = "IV7" if fam == "blues" and mode == "major" else ("iv7" if mode == "minor" else "IVmaj7")
    if kind == "pre-chorus":
        return sub, dom
    plagal = fam in ("rock", "folk", "ballad", "chinese") and rng.random() < 0.35
    return (sub if plagal else dom), tonic


def section_numerals(progression: list[str], n_bars: int, *, cadence_pair: tuple[str, str] | None) -> list[str]:
    """Cycle ``progression`` over ``n_bars`` bars and end on ``cadence_pair`` (if given)."""
    bars = [progression[i % len(progression)] for i in range(n_bars)]
    if cadence_pair is not None:
        if n_bars >= 2:
            bars[-2:] = list(cadence_pair)
        elif n_bars == 1:
            bars[-1] = cadence_pair[1]
    return bars


def is_tonic(symbol: str, key: Key) -> bool:
    """True when ``symbol`` is a chord on the key's tonic with the key's third."""
    c = ChordSymbol.parse(symbol)
    third = 3 if key.mode == "minor" else 4
    return c.root_pc == key.tonic_pc and third in c.intervals
