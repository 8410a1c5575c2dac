"""Lyric text to sung syllables, for every language the planner knows.

:func:`syllabify_line` is the one entry point: English lines go through the pronouncing
dictionary (:mod:`generators.lyrics_en`), lines with Chinese characters through pinyin
(:mod:`generators.lyrics_zh`). Characters no voice can say raise :class:`UnsingableText`.
"""

from __future__ import annotations

import re
import unicodedata

from representations.errors import SpecError
from representations.leadsheet import Syllable

VALID_TEXT = "Latin letters, digits 0-9, Chinese characters, punctuation"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3007\uf900-\ufaff]")
# symbols that are punctuation in lyrics (stripped) and symbols that are read as words
_SOFT_SYMBOLS = set("~～`´^|¦…·・‧")
SPOKEN_SYMBOLS_EN = {"&": " and ", "+": " plus ", "%": " percent ", "@": " at ", "=": " equals "}
SPOKEN_SYMBOLS_ZH = {"&": "和", "+": "加", "%": "百分之", "@": "at", "=": "等于"}


class UnsingableText(SpecError):
    """A lyric contains a character no voice can sing (emoji, symbols, other scripts)."""

    def __init__(self, char: str):
        self.char = char
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        super().__init__(f"{char!r} ({name}) cannot be sung (valid: {VALID_TEXT})")


def is_han(char: str) -> bool:
    """True for a Chinese (Han) character."""
    return bool(_HAN.fullmatch(char))


def normalize_text(text: str) -> str:
    """Unify apostrophes and width variants, drop invisible format characters (zero-width
    spaces and joiners, BOM, direction marks) and check that every character can be sung.

    Raises
    ------
    UnsingableText
        For emoji, pictographs, symbols, control characters and letters of scripts other than
        Latin and Han; the error names the character as written (before normalisation).
    """
    for ch in text:
        _check_char(ch)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[’‘`´ʼ]", "'", text)


def _check_char(original: str) -> None:
    """Raise :class:`UnsingableText` if ``original`` (or what NFKC makes of it) cannot be sung."""
    if original.isspace() or unicodedata.category(original) == "Cf":
        return
    for ch in unicodedata.normalize("NFKC", original):
        if ch.isspace() or ch in _SOFT_SYMBOLS or ch in SPOKEN_SYMBOLS_EN or ch in "$'’‘`´ʼ":
            continue
        cat = unicodedata.category(ch)
        if cat.startswith("P") or cat.startswith("M"):
            continue
        if cat == "Nd" and ch.isascii():
            continue
        if cat.startswith("L") and (is_han(ch) or unicodedata.name(ch, "").startswith("LATIN")):
            continue
        raise UnsingableText(original)


def has_han(text: str) -> bool:
    """True if ``text`` contains at least one Chinese character."""
    return bool(_HAN.search(text))


def syllabify_line(text: str, language: str = "en") -> list[Syllable]:
    """Split one lyric line into sung syllables.

    Parameters
    ----------
    text : str
        The line as written; punctuation is dropped, numbers are read out.
    language : str
        ``"en"`` or ``"zh"``. A line containing Chinese characters is read as Mandarin
        whatever the language (Latin words inside it as English).

    Returns
    -------
    list of Syllable
        In singing order; ``word`` counts words from 0 within the line.

    Raises
    ------
    UnsingableText
        If the line holds a character no voice can say.
    """
    if language not in ("en", "zh"):
        raise SpecError(f"language {language!r} is not valid (valid: en, zh)")
    text = normalize_text(text)
    if language == "zh" or has_han(text):
        from .lyrics_zh import syllabify_line_zh

        return syllabify_line_zh(text)
    from .lyrics_en import syllabify_line_en

    return syllabify_line_en(text)
