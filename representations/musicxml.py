"""MusicXML lead sheets, both ways: what MuseScore opens, edits and saves.

:func:`write_musicxml` (:mod:`representations.musicxml_write`) builds the file with the standard
library; :func:`read_musicxml` (:mod:`representations.musicxml_read`) parses it with music21,
which is imported only when a file is read; :mod:`representations.musicxml_chords` converts chord
symbols.
"""

from .musicxml_chords import chord_symbol_from_m21, chord_symbol_to_m21
from .musicxml_read import VALID, read_musicxml
from .musicxml_write import musicxml_bytes, write_musicxml

__all__ = ["VALID", "chord_symbol_from_m21", "chord_symbol_to_m21", "musicxml_bytes", "read_musicxml",
           "write_musicxml"]
