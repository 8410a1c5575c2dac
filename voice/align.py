"""Where each phone and each syllable's onset, vowel and coda lie in a line of speech.

Three ways to find the phones, best first: the token durations Piper (or, for Mandarin, Kokoro)
reports for its own audio; pocketsphinx forced alignment of the syllables' ARPAbet phones (its
shipped en-us model); splitting the spoken part of the audio in proportion to the phones.
Mandarin syllables spoken one by one by espeak-ng (without Kokoro) are split into initial and
final by voicing and level.

Voicing follows the phones: pitch trackers (dio, and harvest too) lose stretches of this voice's
low, creaky vowels, while the phone names say reliably what is voiced.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .phonemes import IPA_VOWEL_CHARS, Phone, split_arpabet

PhoneSpans = list[list[tuple[float, float]]]  # per syllable, per phone: (start_s, end_s)

FRAME_S = 0.01
VOWEL_TAIL_DB = 15.0  # a vowel ends where it has faded this far below its peak
SILENT_TAIL_DB = 30.0  # a syllable ends where it has faded this far below its peak (Kokoro's pauses)
VOWEL_LEVEL_DB = 12.0  # a Mandarin final starts within this many dB of the syllable's loudest frame
VOICED_CONSONANT_SYMBOLS = set("bdɡvðzʒmnŋlɹwjɾɻɥ")
SONORANT_SYMBOLS = set("mnŋlɹwjɾɻɥ")
VOICELESS_SYMBOLS = set("ptkfsʃθhxçɕʂʦʨꭧʰ")  # with Mandarin's (Kokoro's symbols)


@dataclass(frozen=True)
class SyllableTiming:
    """Times in seconds within the speech: onset consonants ``[onset_s, vowel_s)``, vowel
    ``[vowel_s, coda_s)``, coda consonants ``[coda_s, end_s)``; ``next_s`` is where the next
    syllable of the line begins (the gap between words lies in ``[end_s, next_s)``; None: the
    same as ``end_s``)."""

    onset_s: float
    vowel_s: float
    coda_s: float
    end_s: float
    next_s: float | None = None

    def __post_init__(self):
        if self.next_s is None:
            object.__setattr__(self, "next_s", self.end_s)
        if not self.onset_s <= self.vowel_s <= self.coda_s <= self.end_s <= self.next_s:
            raise ValueError(f"syllable timing is not ordered: {self}")

    def shifted(self, offset_s: float) -> "SyllableTiming":
        return SyllableTiming(self.onset_s + offset_s, self.vowel_s + offset_s, self.coda_s + offset_s,
                              self.end_s + offset_s, self.next_s + offset_s)


# ---- phones → syllable timings ----------------------------------------------------------------
def _timing(phones: list[Phone], times: list[tuple[float, float]]) -> SyllableTiming:
    onset, end = times[0][0], max(times[-1][1], times[0][0])
    nucleus = [t for p, t in zip(phones, times) if p.role == "nucleus"]
    vowel = min(max(nucleus[0][0] if nucleus else onset, onset), end)
    coda = min(max(nucleus[-1][1] if nucleus else end, vowel), end)
    return SyllableTiming(onset, vowel, coda, end)


def timings_from_spans(syllables: list[list[Phone]], spans: PhoneSpans) -> list[SyllableTiming]:
    """Syllable timings from per-phone spans, each linked to the next syllable's onset."""
    timings = [_timing(p, sp) for p, sp in zip(syllables, spans)]
    linked = []
    for k, t in enumerate(timings):
        nxt = timings[k + 1].onset_s if k + 1 < len(timings) else t.end_s
        end = min(t.end_s, nxt) if nxt >= t.coda_s else t.end_s
        linked.append(SyllableTiming(t.onset_s, t.vowel_s, t.coda_s, end, max(end, nxt)))
    return linked


# ---- aligners ---------------------------------------------------------------------------------
def piper_phone_spans(speech, syllables: list[list[Phone]]) -> PhoneSpans | None:
    """Each phone's span from Piper's per-token durations (None when it reports none).

    Piper puts a padding token after every symbol. After a vowel or a voiceless consonant the
    padding belongs to that symbol (a vowel's release, a stop's aspiration); after a voiced
    consonant it is the transition into the next sound and belongs to what follows (measured on
    this voice: vowel onsets after voiced consonants come 29 ms earlier, median, than the
    padding-to-the-symbol-before rule puts them; with this rule 1 ms).
    """
    edges = speech.token_edges
    if edges is None:
        return None
    sr = speech.sample_rate
    symbols = speech.token_symbols
    tokens = [k for k, sym in enumerate(symbols) if sym]
    bounds = {}
    for a, b in zip(tokens, tokens[1:]):
        share = 0.0 if symbols[a] in VOICED_CONSONANT_SYMBOLS else 1.0
        bounds[(a, b)] = edges[a + 1] + share * (edges[b] - edges[a + 1])
    spans: list[list[list[float]]] = [[[np.inf, -np.inf] for _ in s] for s in syllables]
    for i, k in enumerate(tokens):
        owner = speech.token_owners[k]
        if owner is None:
            continue
        lo = bounds[(tokens[i - 1], k)] if i else edges[k]
        hi = bounds[(k, tokens[i + 1])] if i + 1 < len(tokens) else edges[k + 1]
        span = spans[owner[0]][owner[1]]
        span[0], span[1] = min(span[0], lo / sr), max(span[1], hi / sr)
    out: PhoneSpans = []
    t = 0.0
    for syl in spans:
        fixed = []
        for lo, hi in syl:
            if not np.isfinite(lo):  # a phone Piper cannot spell: zero length where it would be
                lo = hi = t
            fixed.append((float(lo), float(hi)))
            t = hi
        out.append(fixed)
    return out


@functools.lru_cache(maxsize=1)
def _decoder():
    from pocketsphinx import Decoder

    return Decoder(lm=None, loglevel="FATAL")


def pocketsphinx_phone_spans(audio: np.ndarray, sample_rate: int, syllables: list[list[Phone]],
                             words: list[int]) -> PhoneSpans | None:
    """Forced alignment of the syllables' ARPAbet phones with pocketsphinx's en-us model.

    Parameters
    ----------
    audio : ndarray
        Mono speech, float in [-1, 1].
    sample_rate : int
        Its sample rate in Hz (resampled to 16 kHz inside).
    syllables : list of list of Phone
        Phones of each syllable; every phone must carry its ARPAbet symbol.
    words : list of int
        The word index of each syllable (syllables of one word are aligned as one entry).

    Returns
    -------
    list of list of (float, float) or None
        Per-phone spans in seconds (10 ms resolution); None when a phone has no ARPAbet symbol
        or the alignment fails.
    """
    from representations.dsp import resample_poly

    if not syllables or any(not p.arpabet for s in syllables for p in s):
        return None
    word_phones: dict[int, list[tuple[int, int, str]]] = {}
    for si, (phones, w) in enumerate(zip(syllables, words)):
        for pi, p in enumerate(phones):
            word_phones.setdefault(w, []).append((si, pi, split_arpabet(p.arpabet)[0]))
    order = list(dict.fromkeys(words))
    pcm = resample_poly(np.asarray(audio, dtype=np.float64), 16000, sample_rate)
    pcm = (np.clip(pcm, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    decoder = _decoder()
    try:
        # one dictionary entry per pronunciation, named after it (entries cannot be replaced)
        names = ["sw_" + "_".join(ph for _, _, ph in word_phones[w]).lower() for w in order]
        new = [n for n in dict.fromkeys(names) if decoder.lookup_word(n) is None]
        for k, name in enumerate(new):
            decoder.add_word(name, " ".join(name[3:].upper().split("_")), update=(k == len(new) - 1))
        decoder.set_align_text(" ".join(names))
        for _ in range(2):  # word alignment, then phone alignment
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            if _ == 0:
                decoder.set_alignment()
        alignment = decoder.get_alignment()
        # the alignment's iterators are reused by the library: copy the numbers out at once
        aligned = [] if alignment is None else [
            [(ph.start, ph.duration) for ph in word] for word in alignment if word.name.startswith("sw_")]
    except RuntimeError:
        return None
    if len(aligned) != len(order):
        return None
    spans: PhoneSpans = [[(0.0, 0.0)] * len(s) for s in syllables]
    for w, phones in zip(order, aligned):
        if len(phones) != len(word_phones[w]):
            return None
        for (si, pi, _), (start, duration) in zip(word_phones[w], phones):
            spans[si][pi] = (start * FRAME_S, (start + duration) * FRAME_S)
    return spans


def spoken_span(audio: np.ndarray, sample_rate: int, *, floor_db: float = -40.0) -> tuple[float, float]:
    """First and last time (s) where the 10 ms RMS is within ``floor_db`` of the loudest frame."""
    hop = max(1, int(sample_rate * FRAME_S))
    n = len(audio) // hop
    if n == 0:
        return 0.0, len(audio) / sample_rate
    rms = np.sqrt(np.mean(np.asarray(audio[: n * hop]).reshape(n, hop) ** 2, axis=1) + 1e-20)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > floor_db)
    return loud[0] * hop / sample_rate, (loud[-1] + 1) * hop / sample_rate


def proportional_phone_spans(audio: np.ndarray, sample_rate: int, syllables: list[list[Phone]]) -> PhoneSpans:
    """The spoken part of the audio shared among the phones, vowels counting double: for when
    no alignment is available."""
    start, end = spoken_span(audio, sample_rate)
    weights = [[2.0 if p.role == "nucleus" else 1.0 for p in s] for s in syllables]
    total = sum(sum(w) for w in weights) or 1.0
    t = start
    spans: PhoneSpans = []
    for ws in weights:
        syl = []
        for w in ws:
            d = (end - start) * w / total
            syl.append((t, t + d))
            t += d
        spans.append(syl)
    return spans


# ---- voicing and levels -----------------------------------------------------------------------
def phone_voicing(detected: np.ndarray, syllables: list[list[Phone]], spans: PhoneSpans, *,
                  frame_s: float) -> np.ndarray:
    """Voicing per analysis frame: vowels and sonorants voiced, voiceless consonants not, the
    rest (voiced obstruents, gaps) as ``detected`` says."""
    voiced = np.asarray(detected, dtype=bool).copy()
    n = len(voiced)
    for phones, sp in zip(syllables, spans):
        for p, (a, b) in zip(phones, sp):
            lo, hi = max(int(round(a / frame_s)), 0), min(int(round(b / frame_s)), n)
            if hi <= lo:
                continue
            chars = [c for c in p.symbols if c not in "ˈˌ"]
            if p.role == "nucleus" or all(c in SONORANT_SYMBOLS or c in IPA_VOWEL_CHARS for c in chars):
                voiced[lo:hi] = True
            elif all(c in VOICELESS_SYMBOLS for c in chars):
                voiced[lo:hi] = False
    return voiced


def frame_levels_db(audio: np.ndarray, sample_rate: int, *, frame_s: float) -> np.ndarray:
    """RMS level (dB) of ``audio`` around each analysis frame time ``k * frame_s``."""
    hop = max(1, int(round(sample_rate * frame_s)))
    n = len(audio) // hop + 1
    padded = np.pad(np.asarray(audio, dtype=np.float64), (hop // 2, n * hop - len(audio) + hop))
    frames = padded[: n * hop].reshape(n, hop)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-20)


def trim_vowel_tails(timings: list[SyllableTiming], levels_db: np.ndarray, *, frame_s: float,
                     floor_db: float = VOWEL_TAIL_DB) -> list[SyllableTiming]:
    """End each vowel at its last frame within ``floor_db`` of its loudest one.

    A reduced vowel ("the", "a") may fade out long before the next phone begins; stretching that
    fade would sing a note of near-silence, so the faded tail joins the coda instead.
    """
    out = []
    for t in timings:
        end = _loud_until(levels_db, t.vowel_s, t.coda_s, frame_s=frame_s, floor_db=floor_db)
        coda = t.coda_s if end is None else min(t.coda_s, max(t.vowel_s + frame_s, end))
        out.append(SyllableTiming(t.onset_s, t.vowel_s, coda, t.end_s, t.next_s))
    return out


def _loud_until(levels_db: np.ndarray, start_s: float, end_s: float, *, frame_s: float,
                floor_db: float) -> float | None:
    """The end (s) of the last frame in [start_s, end_s) within ``floor_db`` of the loudest one
    there; None when the span is under two frames."""
    a, b = int(round(start_s / frame_s)), min(int(round(end_s / frame_s)), len(levels_db))
    if b - a < 2:
        return None
    seg = levels_db[a:b]
    return (a + np.flatnonzero(seg >= seg.max() - floor_db)[-1] + 1) * frame_s


def trim_silent_tails(timings: list[SyllableTiming], levels_db: np.ndarray, *, frame_s: float,
                      floor_db: float = SILENT_TAIL_DB) -> list[SyllableTiming]:
    """End each syllable at its last frame within ``floor_db`` of its loudest one; the silence
    after it is not sung (not even sung legato, as the way into the next syllable).

    Kokoro, spoken slowly, may end a Mandarin syllable's tone in a pause that its token
    durations count as part of the syllable; sung as a coda, the pause would take the note's end.
    """
    out = []
    for t in timings:
        end = _loud_until(levels_db, t.onset_s, t.end_s, frame_s=frame_s, floor_db=floor_db)
        end = t.end_s if end is None else min(t.end_s, max(t.vowel_s + frame_s, end))
        out.append(t if end >= t.end_s else SyllableTiming(t.onset_s, t.vowel_s, min(t.coda_s, end), end, end))
    return out


# ---- Mandarin ---------------------------------------------------------------------------------
def timing_mandarin(audio: np.ndarray, sample_rate: int, initial: str, *, voiced: np.ndarray,
                    frame_s: float) -> SyllableTiming:
    """Initial and final of one Mandarin syllable spoken alone.

    Parameters
    ----------
    audio : ndarray
        The syllable's audio.
    sample_rate : int
        Its sample rate in Hz.
    initial : str
        Its pinyin initial ("" for none); m, n, l, r, y, w are voiced.
    voiced : ndarray of bool
        Voicing per analysis frame of ``audio``.
    frame_s : float
        Analysis frame period in seconds.
    """
    from .phonemes import VOICED_PINYIN_INITIALS

    start, end = spoken_span(audio, sample_rate)
    frames = np.flatnonzero(voiced)
    frames = frames[(frames * frame_s >= start - frame_s) & (frames * frame_s <= end)]
    if not initial or not len(frames):
        vowel = start
    elif initial in VOICED_PINYIN_INITIALS:
        vowel = start + min(0.07, 0.3 * (end - start))
    else:
        # the final begins where voicing has begun and the level is near the syllable's peak
        # (espeak voices the end of some initials, e.g. h, faintly)
        levels = frame_levels_db(audio, sample_rate, frame_s=frame_s)
        loud = np.flatnonzero(levels > levels.max() - VOWEL_LEVEL_DB)
        loud = loud[loud >= frames[0]]
        vowel = max(start, (loud[0] if len(loud) else frames[0]) * frame_s)
    vowel = min(vowel, end)
    return SyllableTiming(start, vowel, end, end)
