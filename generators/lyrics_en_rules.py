"""Spelling rules for English: written syllables and a letter-to-sound fallback.

:func:`split_spelling` cuts a written word into a given number of pieces, one vowel group each
where it can (``"beautiful"`` → beau·ti·ful); :func:`letters_to_sound` guesses ARPAbet phonemes
per written syllable for words the pronouncing dictionary lacks.
"""

from __future__ import annotations

import re

_VOWELS = set("aeiouy")
# consonant groups that begin a written syllable (longest first)
_ONSETS = sorted(
    "bl br cl cr dr fl fr gl gr pl pr sc sk sl sm sn sp st sw tr tw th sh ch ph wh wr kn qu "
    "thr str spr scr spl squ shr sch".split(), key=len, reverse=True)
_CODA_DIGRAPHS = ("ck", "ng", "gh")
_HIATUS = ("ia", "io", "eo", "ea", "ue", "ua", "uo", "iu", "oe", "ie", "ei", "eu", "ao", "oi", "ii")


def _is_vowel(word: str, i: int) -> bool:
    ch = word[i]
    if ch == "y":
        return i > 0 and not (i + 1 < len(word) and word[i + 1] in "aeiou")
    if ch == "u" and i > 0 and word[i - 1] == "q":
        return False
    return ch in _VOWELS


def vowel_groups(word: str) -> list[tuple[int, int, bool]]:
    """Vowel letter runs of a lower-case word as ``(start, end, optional)``.

    ``optional`` marks groups that are often silent: a final ``e`` after a consonant
    ("make"), and the ``e`` of final ``-ed`` / ``-es`` where it is usually not sounded.
    """
    groups: list[list] = []
    for i in range(len(word)):
        if _is_vowel(word, i):
            if groups and groups[-1][1] == i:
                groups[-1][1] = i + 1
            else:
                groups.append([i, i + 1, False])
    if len(groups) > 1:
        s, e, _ = groups[-1]
        tail = word[s:]
        if tail == "e" and s >= 2 and word[s - 1] not in _VOWELS and not (word[s - 1] == "l" and word[s - 2] not in _VOWELS):
            groups[-1][2] = True
        elif tail == "ed" and word[s - 1] not in "td":
            groups[-1][2] = True
        elif tail == "es" and not re.search(r"(s|x|z|ch|sh|[cg])$", word[:s]):
            groups[-1][2] = True
    return [tuple(g) for g in groups]


def _boundary(word: str, left_end: int, right_start: int) -> int:
    """Where to cut the consonants ``word[left_end:right_start]`` between two vowel groups."""
    cluster = word[left_end:right_start]
    if len(cluster) <= 1:
        return left_end
    if cluster in _CODA_DIGRAPHS or cluster[:2] in _CODA_DIGRAPHS and len(cluster) == 2:
        return right_start
    if cluster[-1] == "l" and word[right_start:] == "e":
        return right_start - 2  # lit·tle, ap·ple
    if len(cluster) >= 2 and cluster[-1] == cluster[-2]:
        return right_start - 1  # double letter: lit·tle, sum·mer
    for onset in _ONSETS:
        if cluster.endswith(onset) and len(onset) < len(cluster):
            return right_start - len(onset)
        if cluster == onset and onset not in ("st", "sp", "sk"):
            return left_end
    return right_start - 1


def _pieces_from_groups(word: str, groups: list[tuple[int, int]]) -> list[str]:
    cuts = [0]
    for (_, e1), (s2, _) in zip(groups, groups[1:]):
        cuts.append(_boundary(word, e1, s2))
    cuts.append(len(word))
    return [word[a:b] for a, b in zip(cuts, cuts[1:])]


def _proportional(word: str, n: int) -> list[str]:
    cuts = [round(i * len(word) / n) for i in range(n + 1)]
    return [word[a:b] for a, b in zip(cuts, cuts[1:])]


def split_spelling(word: str, n: int) -> list[str]:
    """Cut ``word`` into ``n`` written syllables whose concatenation is ``word``.

    Parameters
    ----------
    word : str
        The word as written (any case; apostrophes allowed).
    n : int
        Number of sung syllables (from the dictionary or the fallback).
    """
    if n <= 1 or len(word) <= 1:
        return [word] + [""] * max(0, n - 1) if n > 1 and len(word) <= 1 else [word]
    if len(word) < n:
        return _proportional(word, len(word)) + [""] * (n - len(word))
    low = word.lower()
    groups = vowel_groups(low)
    spans = [(s, e) for s, e, _ in groups]
    if len(spans) > n:  # drop silent groups from the end, then merge neighbours
        for idx in [i for i, g in enumerate(groups) if g[2]][::-1]:
            if len(spans) > n:
                spans.pop(idx)
        while len(spans) > n:  # an unstressed middle vowel is elided: ev(e)ry, fam(i)ly
            inner = [i for i in range(1, len(spans) - 1) if spans[i][1] - spans[i][0] == 1
                     and spans[i][1] < len(low) and low[spans[i][1]] in "rln"]
            if not inner:
                break
            spans.pop(inner[0])
        while len(spans) > n:
            gaps = [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]
            i = min(range(len(gaps)), key=lambda k: (gaps[k], -k))
            spans[i:i + 2] = [(spans[i][0], spans[i + 1][1])]
    while 0 < len(spans) < n:  # split a vowel run in hiatus (i·de·a), else the longest run
        cand = [(i, k) for i, (s, e) in enumerate(spans) for k in range(s + 1, e)
                if low[k - 1:k + 1] in _HIATUS]
        if not cand:
            cand = [(i, s + 1) for i, (s, e) in enumerate(spans) if e - s >= 2]
        if not cand:
            break
        i, k = cand[-1]
        s, e = spans[i]
        spans[i:i + 1] = [(s, k), (k, e)]
    if len(spans) != n:
        return _proportional(word, n)
    pieces = _pieces_from_groups(word, spans)
    return pieces if all(pieces) else _proportional(word, n)


# ---- letter-to-sound fallback ---------------------------------------------------------------
_VOWEL_RULES = [  # (letters, phonemes) for vowel groups, longest first
    ("eau", "OW"), ("igh", "AY"), ("ough", "AO"), ("augh", "AO"), ("ee", "IY"), ("ea", "IY"), ("oo", "UW"),
    ("ou", "AW"), ("ow", "OW"), ("ai", "EY"), ("ay", "EY"), ("ey", "EY"), ("oa", "OW"), ("oi", "OY"),
    ("oy", "OY"), ("au", "AO"), ("aw", "AO"), ("ie", "IY"), ("ei", "EY"), ("ue", "UW"), ("ui", "UW"),
    ("ew", "UW"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("ar", "AA R"), ("or", "AO R"),
    ("a", "AE"), ("e", "EH"), ("i", "IH"), ("o", "AA"), ("u", "AH"), ("y", "IY"),
]
_LONG = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW", "y": "AY"}
_CONS_RULES = [
    ("tch", "CH"), ("sch", "S K"), ("rh", "R"), ("th", "TH"), ("sh", "SH"), ("ch", "CH"), ("ph", "F"), ("wh", "W"),
    ("ck", "K"), ("ng", "NG"), ("qu", "K W"), ("kn", "N"), ("wr", "R"), ("gh", ""), ("x", "K S"),
    ("c", "K"), ("g", "G"), ("j", "JH"), ("q", "K"), ("y", "Y"), ("b", "B"), ("d", "D"), ("f", "F"),
    ("h", "HH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("p", "P"), ("r", "R"), ("s", "S"),
    ("t", "T"), ("v", "V"), ("w", "W"), ("z", "Z"),
]


def _piece_sounds(piece: str, *, next_letter: str, last: bool, silent_e: bool) -> list[str]:
    out: list[str] = []
    i = 0
    had_vowel = False
    while i < len(piece):
        rest = piece[i:]
        if silent_e and last and rest == "e" and had_vowel:
            break
        if _is_vowel(piece, i) or (i == 0 and piece[0] == "y" and len(piece) == 1):
            # magic e: vowel + one consonant + final e reads long ("time", "home")
            if (not had_vowel and silent_e and last and re.fullmatch(r"[aeiouy][^aeiouy]e", rest)):
                out.append(_LONG[rest[0]] + "1")
                had_vowel = True
                i += 1
                continue
            for letters, ph in _VOWEL_RULES:
                if rest.startswith(letters):
                    if had_vowel:  # a second vowel group in one piece is not sounded separately
                        ph = " ".join(p for p in ph.split() if not p[-1].isalpha() or p in ("R",))
                    else:
                        ph = " ".join(p + "1" if p not in ("R",) else p for p in ph.split())
                    out += ph.split()
                    had_vowel = True
                    i += len(letters)
                    break
            continue
        for letters, ph in _CONS_RULES:
            if rest.startswith(letters):
                if letters == "c" and (rest[1:2] or next_letter) in ("e", "i", "y"):
                    ph = "S"
                if letters == "g" and (rest[1:2] or next_letter) in ("e", "i", "y") and i > 0:
                    ph = "JH"
                if letters == "s" and i > 0 and last and i == len(piece) - 1 and piece[i - 1] in "aeiouy":
                    ph = "Z"
                out += ph.split()
                i += len(letters)
                break
        else:
            i += 1
    if not had_vowel:
        out.insert(min(1, len(out)), "AH1")
    return out


def letters_to_sound(word: str) -> list[tuple[str, list[str], int]]:
    """Guess syllables of a word the dictionary lacks: ``[(written, phonemes, stress), ...]``.

    One ARPAbet vowel per syllable; the syllable count comes from the word's vowel groups
    (a silent final ``e`` does not count). The first syllable takes the primary stress.
    """
    low = word.lower()
    letters = re.sub(r"[^a-z]", "", low)
    if not letters:
        return []
    groups = vowel_groups(letters)
    n = max(1, len([g for g in groups if not g[2]]))
    pieces = split_spelling(letters, n)
    sylls = []
    for k, piece in enumerate(pieces):
        nxt = pieces[k + 1][:1] if k + 1 < len(pieces) else ""
        phones = _piece_sounds(piece, next_letter=nxt, last=k == len(pieces) - 1,
                               silent_e=bool(groups and groups[-1][2]))
        stress = 1 if k == 0 else 0
        phones = [p[:-1] + str(stress) if p[-1].isdigit() else p for p in phones]
        sylls.append((piece, phones, stress))
    written = split_spelling(word, n)
    return [(w, p, s) for w, (_, p, s) in zip(written, sylls)]
