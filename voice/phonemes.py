"""Phoneme symbols a singer needs: ARPAbet → Piper's IPA symbols, and pinyin initials/finals.

English syllables carry ARPAbet (CMUdict) phonemes with stress digits ("HH", "OW1", "M"); the
Piper voice reads espeak-style IPA, one code point per symbol. Mandarin syllables carry pinyin
with a tone number, split into initial and final (("n", "i3")).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ARPAbet vowel -> (IPA when stressed, IPA when unstressed), espeak en-us conventions.
ARPA_VOWELS: dict[str, tuple[str, str]] = {
    "AA": ("ɑː", "ɑː"), "AE": ("æ", "æ"), "AH": ("ʌ", "ə"), "AO": ("ɔː", "ɔː"), "AW": ("aʊ", "aʊ"),
    "AY": ("aɪ", "aɪ"), "EH": ("ɛ", "ɛ"), "ER": ("ɜː", "ɚ"), "EY": ("eɪ", "eɪ"), "IH": ("ɪ", "ɪ"),
    "IY": ("iː", "i"), "OW": ("oʊ", "oʊ"), "OY": ("ɔɪ", "ɔɪ"), "UH": ("ʊ", "ʊ"), "UW": ("uː", "uː"),
}
ARPA_CONSONANTS: dict[str, str] = {
    "B": "b", "CH": "tʃ", "D": "d", "DH": "ð", "F": "f", "G": "ɡ", "HH": "h", "JH": "dʒ", "K": "k",
    "L": "l", "M": "m", "N": "n", "NG": "ŋ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t",
    "TH": "θ", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}
IPA_VOWEL_CHARS = set("aeiouæɐɑɒɔəɚɛɜɞɪʊʌɨʉyøœɤɯɵɘ") | {"ː", "ɝ"}
STRESS_MARKS = {1: "ˈ", 2: "ˌ"}
_ARPA_RE = re.compile(r"^([A-Z]{1,2})([012])?$")

PINYIN_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
                   "x", "r", "z", "c", "s", "y", "w")
VOICED_PINYIN_INITIALS = {"m", "n", "l", "r", "y", "w"}


@dataclass(frozen=True)
class Phone:
    """One phoneme of a syllable as Piper symbols.

    ``role`` is "onset" (consonants before the vowel), "nucleus" (the vowel, with its stress
    mark) or "coda" (consonants after it).
    """

    symbols: str
    role: str
    arpabet: str = ""


def split_arpabet(phone: str) -> tuple[str, int | None]:
    """``"OW1"`` → ``("OW", 1)``; ``"M"`` → ``("M", None)``; unknown symbols raise ValueError."""
    m = _ARPA_RE.match(phone.strip().upper())
    if not m or (m.group(1) not in ARPA_VOWELS and m.group(1) not in ARPA_CONSONANTS):
        raise ValueError(f"{phone!r} is not an ARPAbet phoneme")
    return m.group(1), (int(m.group(2)) if m.group(2) is not None else None)


def is_arpabet(phonemes: tuple[str, ...]) -> bool:
    try:
        for p in phonemes:
            split_arpabet(p)
    except ValueError:
        return False
    return bool(phonemes)


def arpabet_word_to_phones(syllables: list[tuple[str, ...]]) -> list[list[Phone]]:
    """Piper phones of one word, per syllable, from the syllables' ARPAbet phonemes.

    A ``T`` between a vowel (or R) and an unstressed vowel of the same word becomes the flap
    ``ɾ``, as espeak writes it for American English ("butter", "water").
    """
    flat: list[tuple[int, str, int | None]] = []  # (syllable, base, stress)
    for si, phones in enumerate(syllables):
        for p in phones:
            base, stress = split_arpabet(p)
            flat.append((si, base, stress))
    out: list[list[Phone]] = [[] for _ in syllables]
    seen_vowel = [False] * len(syllables)
    for k, (si, base, stress) in enumerate(flat):
        if base in ARPA_VOWELS:
            stressed, unstressed = ARPA_VOWELS[base]
            sym = stressed if stress in (1, 2) else unstressed
            out[si].append(Phone(STRESS_MARKS.get(stress or 0, "") + sym, "nucleus", base))
            seen_vowel[si] = True
            continue
        sym = ARPA_CONSONANTS[base]
        if base == "T" and 0 < k < len(flat) - 1:
            prev, nxt = flat[k - 1], flat[k + 1]
            if (prev[1] in ARPA_VOWELS or prev[1] == "R") and nxt[1] in ARPA_VOWELS and not nxt[2]:
                sym = "ɾ"
        out[si].append(Phone(sym, "coda" if seen_vowel[si] else "onset", base))
    return [_ensure_nucleus(p) for p in out]


def _ensure_nucleus(phones: list[Phone]) -> list[Phone]:
    """A syllable without a vowel sings its most sonorous phone (the last voiced one) as vowel."""
    if not phones or any(p.role == "nucleus" for p in phones):
        return phones
    sonorants = {"m", "n", "ŋ", "l", "ɹ", "w", "j", "v", "z", "ð", "ʒ"}
    idx = max((i for i, p in enumerate(phones) if p.symbols in sonorants), default=len(phones) - 1)
    return [Phone(p.symbols, "onset" if i < idx else "nucleus" if i == idx else "coda", p.arpabet)
            for i, p in enumerate(phones)]


def ipa_word_to_phones(ipa: str, n_syllables: int) -> list[list[Phone]]:
    """Split espeak IPA of one word into ``n_syllables`` syllables at its vowel groups.

    Consonants between two vowels go to the next syllable's onset, except that of two or more
    the first closes the syllable before. With fewer vowel groups than syllables, some
    syllables get no phones (they continue the vowel before them).
    """
    runs: list[list] = []  # [kind "v"|"c", text]
    stress = ""
    for c in ipa:
        if c in "ˈˌ":
            stress += c
            continue
        if c in " ,.!?;:-":
            continue
        kind = "v" if c in IPA_VOWEL_CHARS else "c"
        if runs and runs[-1][0] == kind and not (kind == "v" and stress):
            runs[-1][1] += c
        else:
            runs.append([kind, (stress if kind == "v" else "") + c])
        if kind == "v":
            stress = ""
    out: list[list[Phone]] = [[] for _ in range(max(n_syllables, 1))]
    vowels = [i for i, (k, _) in enumerate(runs) if k == "v"]
    if not vowels:
        out[0] = _ensure_nucleus([Phone(t, "onset") for _, t in runs])
        return out
    owner = {vi: (j * len(out)) // len(vowels) for j, vi in enumerate(vowels)}
    for i, (kind, text) in enumerate(runs):
        if kind == "v":
            has = any(p.role == "nucleus" for p in out[owner[i]])
            out[owner[i]].append(Phone(text, "coda" if has else "nucleus"))
            continue
        nxt = next((v for v in vowels if v > i), None)
        prev = max((v for v in vowels if v < i), default=None)
        if prev is None:
            out[owner[nxt]].append(Phone(text, "onset"))
        elif nxt is None or owner[nxt] == owner[prev]:
            out[owner[prev]].append(Phone(text, "coda"))
        elif len(units := _consonant_units(text)) >= 2:
            out[owner[prev]].append(Phone(units[0], "coda"))
            out[owner[nxt]].append(Phone("".join(units[1:]), "onset"))
        else:
            out[owner[nxt]].append(Phone(text, "onset"))
    return out


def _consonant_units(text: str) -> list[str]:
    """A run of IPA consonants cut into phonemes, keeping the affricates tʃ and dʒ whole."""
    return re.findall(r"tʃ|dʒ|.", text)


def pinyin_of(phonemes: tuple[str, ...], text: str) -> str:
    """Pinyin with a tone number of one Mandarin syllable: its phonemes joined, else the
    pinyin of its text (pypinyin, tone-number style); "" when neither gives one."""
    joined = "".join(p.strip() for p in phonemes).lower().replace("ü", "v").replace("u:", "v")
    if joined:
        return joined
    if not text.strip():
        return ""
    from pypinyin import Style, lazy_pinyin

    parts = [p for p in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True) if re.search("[a-z]", p)]
    return "".join(parts[:1]).replace("ü", "v")


def pinyin_initial(pinyin: str, phonemes: tuple[str, ...] = ()) -> str:
    """The initial consonant of a pinyin syllable ("" for a zero initial)."""
    if len(phonemes) >= 2 and phonemes[0].strip().lower() in PINYIN_INITIALS:
        return phonemes[0].strip().lower()
    for ini in PINYIN_INITIALS:
        if pinyin.startswith(ini) and len(pinyin) > len(ini):
            return ini
    return ""
