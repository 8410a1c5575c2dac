"""Chord symbols between our spelling (``"Bbmaj7"``, ``"F#m7b5"``, ``"C/E"``), MusicXML and music21.

music21 is imported inside the functions that convert to and from its objects, so writing
``<harmony>`` elements does not import it.
"""

from __future__ import annotations

import re

from .music import _QUALITIES, NOTE_NAMES

# our chord-symbol quality -> (MusicXML kind, added degrees as (degree, alter))
_KINDS = {
    "": ("major", ()), "maj": ("major", ()), "m": ("minor", ()), "min": ("minor", ()), "-": ("minor", ()),
    "7": ("dominant", ()), "maj7": ("major-seventh", ()), "M7": ("major-seventh", ()),
    "m7": ("minor-seventh", ()), "min7": ("minor-seventh", ()), "6": ("major-sixth", ()),
    "m6": ("minor-sixth", ()), "9": ("dominant-ninth", ()), "add9": ("major", ((9, 0),)),
    "madd9": ("minor", ((9, 0),)), "maj9": ("major-ninth", ()), "m9": ("minor-ninth", ()),
    "sus2": ("suspended-second", ()), "sus4": ("suspended-fourth", ()), "sus": ("suspended-fourth", ()),
    "7sus4": ("suspended-fourth", ((7, -1),)), "dim": ("diminished", ()), "dim7": ("diminished-seventh", ()),
    "m7b5": ("half-diminished", ()), "aug": ("augmented", ()), "+": ("augmented", ()), "5": ("power", ()),
}
NO_CHORD_XML = ('      <harmony>\n        <root>\n          <root-step text="">C</root-step>\n        </root>\n'
                '        <kind text="N.C.">none</kind>')
_SYMBOL = re.compile(r"([A-G])([#b]?)([^/]*)(?:/([A-G])([#b]?))?")
_ALTERS = {"#": 1, "b": -1}
# canonical qualities tried, in this order, when a read chord has no exact equivalent
_NEAREST = ("", "m", "7", "maj7", "m7", "6", "m6", "9", "add9", "madd9", "maj9", "m9", "sus2", "sus4",
            "7sus4", "dim", "dim7", "m7b5", "aug", "5")


def harmony_xml(symbol: str) -> str:
    """The MusicXML ``<harmony>`` of one of our symbols, indented for a measure, without its
    closing tag (an ``<offset>`` may follow)."""
    m = _SYMBOL.fullmatch(symbol.strip())
    if not m or m.group(3) not in _KINDS:
        raise ValueError(f"not a chord symbol: {symbol!r} (valid: root A-G, optional #/b, quality, optional /bass)")
    root, alter, quality, bass, bass_alter = m.groups()
    kind, degrees = _KINDS[quality]
    parts = ["      <harmony>\n        <root>", f"          <root-step>{root}</root-step>"]
    if alter:
        parts.append(f"          <root-alter>{_ALTERS[alter]}</root-alter>")
    text = f' text="{quality}"' if quality else ""  # a key of _KINDS: nothing to escape
    parts += ["        </root>", f"        <kind{text}>{kind}</kind>"]
    if bass:
        parts += ["        <bass>", f"          <bass-step>{bass}</bass-step>"]
        if bass_alter:
            parts.append(f"          <bass-alter>{_ALTERS[bass_alter]}</bass-alter>")
        parts.append("        </bass>")
    for degree, d_alter in degrees:
        parts.append(f"        <degree>\n          <degree-value>{degree}</degree-value>\n"
                     f"          <degree-alter>{d_alter}</degree-alter>\n"
                     "          <degree-type>add</degree-type>\n        </degree>")
    return "\n".join(parts)


def _m21_name(name: str) -> str:
    return name[0] + name[1:].replace("b", "-")


def chord_symbol_to_m21(symbol: str):
    """A music21 ``harmony.ChordSymbol`` for one of our symbols (``"Bbmaj7"``, ``"F#m7b5"``, ``"C/E"``)."""
    from music21 import harmony

    m = re.fullmatch(r"([A-G][#b]?)([^/]*)(?:/([A-G][#b]?))?", symbol.strip())
    if not m or m.group(2) not in _KINDS:
        raise ValueError(f"not a chord symbol: {symbol!r} (valid: root A-G, optional #/b, quality, optional /bass)")
    kind, degrees = _KINDS[m.group(2)]
    kind = "dominant-seventh" if kind == "dominant" else kind  # music21's name for MusicXML's "dominant"
    kwargs = {"root": _m21_name(m.group(1)), "kind": kind, "kindStr": m.group(2)}
    if m.group(3):
        kwargs["bass"] = _m21_name(m.group(3))
    cs = harmony.ChordSymbol(**kwargs)
    for degree, alter in degrees:
        cs.addChordStepModification(harmony.ChordStepModification("add", degree, alter), updatePitches=True)
    cs.quarterLength = 0
    return cs


def _pc_name(p) -> str:
    name = p.name.replace("-", "b")
    return name if len(name) <= 2 else NOTE_NAMES[p.pitchClass]


def chord_symbol_from_m21(cs) -> str | None:
    """Our symbol for a music21 ``harmony.ChordSymbol``: the written quality when we support it,
    else the nearest supported one; None for N.C. or a symbol without a root."""
    from music21 import harmony

    if isinstance(cs, harmony.NoChord) or cs.chordKind == "none":
        return None
    root = cs.root()
    if root is None:
        return None
    bass = cs.bass()
    slash = bass is not None and bass.pitchClass != root.pitchClass
    rel = {(p.pitchClass - root.pitchClass) % 12 for p in cs.pitches} or {0, 4, 7}
    # a slash bass outside the chord (C/Bb) is among the pitches: judge the chord with and without it
    tones = [rel, rel - {(bass.pitchClass - root.pitchClass) % 12}] if slash else [rel]
    text = cs.chordKindStr or ""
    if text in _QUALITIES and {i % 12 for i in _QUALITIES[text]} in tones:
        quality = text
    else:
        def score(q: str) -> int:
            qs = {i % 12 for i in _QUALITIES[q]}
            return max(2 * len(qs & t) - len(qs ^ t) for t in tones)

        quality = max(_NEAREST, key=score)  # max keeps the first of equals: the simpler chord
    return _pc_name(root) + quality + ("/" + _pc_name(bass) if slash else "")
