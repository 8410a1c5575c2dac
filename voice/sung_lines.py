"""A lyric line as the singer's speech engines need it: syllables grouped with their notes, the
phones (English) or pinyin (Mandarin) to say, and Mandarin syllables spoken one by one."""

from __future__ import annotations

import re

import numpy as np

from representations.vocal_score import VocalNote

from .align import spoken_span
from .phonemes import (IPA_VOWEL_CHARS, Phone, arpabet_word_to_phones, ipa_word_to_phones, is_arpabet, pinyin_initial,
                       pinyin_of)

MANDARIN_GAP_S = 0.06  # silence between syllables spoken one by one
MAX_ONSET_STRETCH = 2.5  # a short fricative, h or sonorant onset may be sung up to this much longer
STOP_SYMBOLS = set("pbtdkɡɾʔʦʨꭧ")  # affricates too (Mandarin's as Kokoro spells them)
STOP_INITIALS = {"b", "p", "d", "t", "g", "k", "z", "c", "zh", "ch", "j", "q"}


def syllable_groups(notes: list[VocalNote]) -> list[list[VocalNote]]:
    """Notes of one line grouped by syllable: a syllable's first note, then its melisma notes."""
    groups: list[list[VocalNote]] = []
    for n in notes:
        if groups and n.syllable == groups[-1][0].syllable:
            groups[-1].append(n)
        else:
            groups.append([n])
    return groups


def has_letters(text: str) -> bool:
    return bool(re.search(r"\w", text))


def speakable_text(text: str) -> str:
    return re.sub(r"[^\w'\- ]", " ", text).strip()


def onset_stretch(phones: list[Phone]) -> float:
    """How much a syllable's onset may be lengthened when sung: fricatives, h and sonorants
    carry well when held a little; stops and affricates keep their length."""
    onset = "".join(p.symbols for p in phones if p.role == "onset")
    if not onset or any(c in STOP_SYMBOLS for c in onset):
        return 1.0
    return MAX_ONSET_STRETCH


def is_diphthong(phones: list[Phone]) -> bool:
    nucleus = "".join(p.symbols for p in phones if p.role == "nucleus")
    return sum(c in IPA_VOWEL_CHARS and c != "ː" for c in nucleus) >= 2


def prepare_line(groups: list[list[VocalNote]], language: str):
    """What one line says: ``(key, phones, groups)``, or None when nothing in it can be said.

    English: ``phones`` are words → syllables → Piper phones; Mandarin: (pinyin, initial) per
    syllable. Syllables with nothing to say are dropped, and a syllable left without phones is
    sung as melisma of the one before. ``key`` is the same for lines that say the same.
    """
    if language == "zh":
        kept, pinyins, waiting = [], [], []
        for g in groups:
            p = pinyin_of(g[0].phonemes, g[0].text)
            if p and re.search("[a-z]", p):
                kept.append(waiting + g)
                waiting = []
                pinyins.append(p)
            elif has_letters(g[0].text):
                if kept:
                    kept[-1] = kept[-1] + g
                else:
                    waiting += g
        if not kept:
            return None
        inits = [pinyin_initial(p, g[0].phonemes) for p, g in zip(pinyins, kept)]
        return ("zh", tuple(pinyins), tuple(inits)), list(zip(pinyins, inits)), kept
    # English: words of consecutive syllables
    words: list[list[list[VocalNote]]] = []
    for g in groups:
        n = g[0]
        if words and not n.word_start and n.word == words[-1][0][0].word:
            words[-1].append(g)
        else:
            words.append([g])
    kept_groups: list[list[VocalNote]] = []
    kept_words: list[list[list[Phone]]] = []
    waiting: list[VocalNote] = []  # notes of sayable syllables before the first one with phones
    for word in words:
        sylls = [tuple(g[0].phonemes) for g in word]
        if all(is_arpabet(s) for s in sylls):
            phones = arpabet_word_to_phones(sylls)
        else:
            text = speakable_text("".join(g[0].text for g in word))
            phones = ipa_word_to_phones(_espeak_ipa(text), len(word)) if text else [[] for _ in word]
        word_phones: list[list[Phone]] = []
        for g, ph in zip(word, phones):
            if ph:
                kept_groups.append(waiting + list(g))
                waiting = []
                word_phones.append(ph)
            elif has_letters(g[0].text):
                if kept_groups:
                    kept_groups[-1] = kept_groups[-1] + g
                else:
                    waiting += g
        if word_phones:
            kept_words.append(word_phones)
    if not kept_groups:
        return None
    key = ("en", tuple(tuple(tuple(p.symbols for p in s) for s in w) for w in kept_words))
    return key, kept_words, kept_groups


def speak_mandarin(pinyins: list[str], *, sample_rate: int):
    """The syllables spoken one by one, joined with short silences; start/end (s) of each."""
    from representations.dsp import resample_poly

    from .speech import synthesize_pinyin_line

    pieces, sr = synthesize_pinyin_line(pinyins)
    gap = np.zeros(int(MANDARIN_GAP_S * sample_rate))
    parts, offsets, ends = [gap], [], []
    pos = len(gap)
    for audio in pieces:
        if sr != sample_rate:
            audio = resample_poly(audio, sample_rate, sr)
        start, end = spoken_span(audio, sample_rate)
        audio = audio[int(start * sample_rate): int(np.ceil(end * sample_rate))]
        offsets.append(pos / sample_rate)
        ends.append((pos + len(audio)) / sample_rate)
        parts += [audio, gap]
        pos += len(audio) + len(gap)
    return np.concatenate(parts), offsets, ends


def _espeak_ipa(text: str) -> str:
    from .speech import espeak_ipa

    return espeak_ipa(text)
