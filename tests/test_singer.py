"""The default singer (piper-world), measured: pitch, timing, silence, counts, clicks, determinism.

Tolerances: pitch is judged by pyworld dio+stonemask at 44.1 kHz on voiced frames inside notes,
skipping each note's first 60 ms (portamento); a vowel onset is the first voiced frame after at
least two unvoiced ones, looked for within ±120 ms of the note start of syllables that begin
with an unvoiced consonant.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from representations.leadsheet import Chord, LeadSheet, LyricLine, Note, Section, Syllable
from representations.music import Key, Meter
from voice.score import vocal_score_from_leadsheet

SR = 44100
FRAME_MS = 5.0
UNVOICED_ONSETS = {"P", "T", "K", "F", "S", "SH", "CH", "TH", "HH"}


def syl(text: str, phones: str, word: int, word_start: bool = True) -> Syllable:
    return Syllable(text, tuple(phones.split()), 1, word, word_start)


def lead_sheet(lines, notes, *, tempo_bpm=100.0, language="en", n_bars=8) -> LeadSheet:
    """notes: (start_beats, duration_beats, pitch, (line, syllable), melisma)."""
    melody = [Note(Fraction(s), Fraction(d), p, 90, ls, m) for s, d, p, ls, m in notes]
    return LeadSheet("test", Key("C", "major"), Meter.parse("4/4"), tempo_bpm,
                     [Section("verse", "Verse", 0, n_bars)], [Chord(0, 4 * n_bars, "C")], melody, list(lines),
                     language=language)


def english_sheet() -> LeadSheet:
    l0 = LyricLine(0, "Oh give me a home where the buffalo roam", (
        syl("Oh", "OW1", 0), syl("give", "G IH1 V", 1), syl("me", "M IY1", 2), syl("a", "AH0", 3),
        syl("home", "HH OW1 M", 4), syl("where", "W EH1 R", 5), syl("the", "DH AH0", 6), syl("buf", "B AH1", 7),
        syl("fa", "F AH0", 7, False), syl("lo", "L OW2", 7, False), syl("roam", "R OW1 M", 8)))
    l1 = LyricLine(0, "take time to see the past", (
        syl("take", "T EY1 K", 0), syl("time", "T AY1 M", 1), syl("to", "T UW1", 2), syl("see", "S IY1", 3),
        syl("the", "DH AH0", 4), syl("past", "P AE1 S T", 5)))
    n0 = [(1, 1, 55, (0, 0)), (2, 1, 60, (0, 1)), (3, 1, 60, (0, 2)), (4, 1, 62, (0, 3)), (5, 1, 64, (0, 4)),
          (7, 1, 60, (0, 5)), (8, 1, 59, (0, 6)), (9, 1, 57, (0, 7)), (10, 0.5, 59, (0, 8)), (10.5, 0.5, 60, (0, 9)),
          (11, 2, 62, (0, 10))]
    notes = [(s, d, p, ls, False) for s, d, p, ls in n0] + [(6, 1, 62, (0, 4), True)]  # "home" is a melisma
    n1 = [(17, 1, 57, (1, 0)), (18, 1, 59, (1, 1)), (19, 0.5, 60, (1, 2)), (19.5, 1.5, 64, (1, 3)),
          (21, 1, 62, (1, 4)), (22, 2, 60, (1, 5))]
    notes += [(s, d, p, ls, False) for s, d, p, ls in n1]
    return lead_sheet([l0, l1], notes)


def mandarin_sheet() -> LeadSheet:
    sylls = [("你", ("n", "i3")), ("好", ("h", "ao3")), ("世", ("sh", "i4")), ("界", ("j", "ie4")), ("爱", ("ai4",))]
    line = LyricLine(0, "你好世界爱", tuple(Syllable(t, p, 0, i, True) for i, (t, p) in enumerate(sylls)))
    notes = [(1 + i, 1, p, (0, i), False) for i, p in enumerate([57, 60, 62, 64, 60])]
    return lead_sheet([line], notes, tempo_bpm=90.0, language="zh", n_bars=2)


def staccato_sheet() -> LeadSheet:
    line = LyricLine(0, "sing to me now", (syl("sing", "S IH1 NG", 0), syl("to", "T UW1", 1), syl("me", "M IY1", 2),
                                            syl("now", "N AW1", 3)))
    notes = [(1 + 2 * i, 1, p, (0, i), False) for i, p in enumerate([67, 69, 72, 65])]
    return lead_sheet([line], notes, tempo_bpm=120.0, n_bars=3)


# ---- measuring ----------------------------------------------------------------------------------
def f0_track(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import pyworld as pw

    x = np.asarray(x, dtype=np.float64)
    f0, t = pw.dio(x, SR, f0_floor=60.0, f0_ceil=1000.0, frame_period=FRAME_MS)
    return pw.stonemask(x, f0, t, SR), t


def pitch_report(f0, t, notes) -> dict:
    cents, voiced, total = [], 0, 0
    for n in notes:
        m = (t >= n.start_s + 0.06) & (t < n.end_s - 0.01)
        v = m & (f0 > 0)
        total += int(m.sum())
        voiced += int(v.sum())
        cents.extend(np.abs(1200 * np.log2(f0[v] / (440.0 * 2 ** ((n.pitch - 69) / 12)))))
    cents = np.asarray(cents)
    return {"within_50": float(np.mean(cents < 50)), "median_cents": float(np.median(cents)),
            "voicing_recall": voiced / max(total, 1)}


def vowel_onset_errors(f0, t, notes) -> np.ndarray:
    errs = []
    for n in notes:
        w = np.flatnonzero((t > n.start_s - 0.12) & (t < n.start_s + 0.12))
        v = f0[w] > 0
        onset = next((t[w[i]] for i in range(2, len(w)) if v[i] and not v[i - 1] and not v[i - 2]), None)
        errs.append(np.nan if onset is None else onset - n.start_s)
    return np.asarray(errs)


def rms_dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def voiced_runs(f0, *, min_frames: int, max_gap: int = 2) -> int:
    """Runs of voiced frames at least ``min_frames`` long; gaps of up to ``max_gap`` frames (10 ms,
    dio drops a frame where a sonorant onset meets its vowel at high pitch) do not split a run."""
    v = np.concatenate([[0], (f0 > 0).astype(int), [0]])
    starts, ends = np.flatnonzero(np.diff(v) == 1), np.flatnonzero(np.diff(v) == -1)
    runs: list[list[int]] = []
    for a, b in zip(starts, ends):
        if runs and a - runs[-1][1] <= max_gap:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    return int(sum(b - a >= min_frames for a, b in runs))


# ---- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def singer():
    from voice.world_singer import WorldSinger

    return WorldSinger()


@pytest.fixture(scope="module")
def english(singer):
    """(score, audio, f0 in Hz per 5 ms frame of the audio, frame times in s)."""
    score = vocal_score_from_leadsheet(english_sheet())
    audio = singer.sing(score)
    return (score, audio, *f0_track(audio.mono()))


@pytest.fixture(scope="module")
def mandarin(singer):
    score = vocal_score_from_leadsheet(mandarin_sheet())
    audio = singer.sing(score)
    return (score, audio, *f0_track(audio.mono()))


# ---- the vocal score ----------------------------------------------------------------------------
def test_vocal_score_from_leadsheet():
    ls = english_sheet()
    score = vocal_score_from_leadsheet(ls, voice="tenor")
    assert score.voice == "tenor" and score.language == "en"
    assert score.duration_s == pytest.approx(8 * 4 * 0.6)
    assert len(score.notes) == len(ls.sung_notes()) == 18
    home = [n for n in score.notes if n.text == "home"]
    assert [n.melisma for n in home] == [False, True]
    assert home[0].start_s == pytest.approx(5 * 0.6) and home[0].duration_s == pytest.approx(0.6)
    assert home[0].phonemes == ("HH", "OW1", "M") and home[1].phonemes == home[0].phonemes
    fa = next(n for n in score.notes if n.text == "fa")
    assert (fa.word, fa.word_start, fa.line, fa.syllable) == (7, False, 0, 8)
    assert [(l.index, l.text) for l in score.lines] == [(0, ls.lyrics[0].text), (1, ls.lyrics[1].text)]
    assert score.lines[0].start_s == pytest.approx(0.6) and score.lines[0].end_s == pytest.approx(13 * 0.6)
    assert score.lines[1].start_s == pytest.approx(17 * 0.6) and score.lines[1].end_s == pytest.approx(24 * 0.6)
    assert vocal_score_from_leadsheet(mandarin_sheet()).language == "zh"


# ---- English ------------------------------------------------------------------------------------
def test_english_length_rate_and_sanity(english):
    score, audio, _, _ = english
    x = audio.samples
    assert audio.sample_rate == SR and x.shape == (round(score.duration_s * SR), 1)
    assert np.isfinite(x).all() and np.abs(x).max() < 1.0
    assert rms_dbfs(x[int(0.6 * SR): int(7.8 * SR)]) > -35  # it sings


def test_english_pitch(english):
    score, _, f0, t = english
    r = pitch_report(f0, t, score.notes)
    assert r["within_50"] >= 0.90, r  # measured 0.97
    assert r["voicing_recall"] >= 0.80, r  # codas and next onsets are unvoiced in places


def test_english_vowel_onsets_on_the_beat(english):
    score, _, f0, t = english
    notes = [n for n in score.notes if not n.melisma and n.phonemes[0] in UNVOICED_ONSETS]
    assert len(notes) >= 6
    errs = vowel_onset_errors(f0, t, notes)
    assert not np.isnan(errs).any(), errs
    assert np.median(np.abs(errs)) <= 0.030 and np.abs(errs).max() <= 0.050, np.round(errs * 1000)


def test_english_unvoiced_consonants_stay_unvoiced(english):
    score, _, f0, t = english
    # "see" (S IY1) and "past" (P AE1 S T): the s before "see" and the st closing "past" are unvoiced
    see = next(n for n in score.notes if n.text == "see")
    assert (f0[(t > see.start_s - 0.06) & (t < see.start_s - 0.01)] == 0).any()
    past = next(n for n in score.notes if n.text == "past")
    assert (f0[(t > past.end_s - 0.08) & (t < past.end_s)] == 0).any()


def test_silence_between_and_around_lines(english):
    score, audio, _, _ = english
    x = audio.mono()
    l0, l1 = score.lines
    assert rms_dbfs(x[: int((l0.start_s - 0.1) * SR)]) < -50
    assert rms_dbfs(x[int((l0.end_s + 0.03) * SR): int((l1.start_s - 0.1) * SR)]) < -50
    assert rms_dbfs(x[int((l1.end_s + 0.03) * SR):]) < -50


def test_no_clicks(english, mandarin):
    for score, audio, _, _ in (english, mandarin):
        x = audio.mono().astype(np.float64)
        assert np.abs(np.diff(x)).max() < 0.25  # peaks stay below about 0.8
        # every sound starts and ends faded: at the edge of each run of silence (< 1e-4, 10 ms+)
        quiet = np.abs(x) < 1e-4
        edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
        for e in edges:
            run = quiet[max(0, e - 441): e + 1] if quiet[e] else quiet[e + 1: e + 442]
            if run.all():
                assert abs(x[e]) < 0.01 and abs(x[e + 1]) < 0.01


def test_deterministic(singer):
    from voice.world_singer import WorldSinger

    score = vocal_score_from_leadsheet(staccato_sheet())
    first, second = singer.sing(score), WorldSinger().sing(score)
    assert first.samples.tobytes() == second.samples.tobytes()


def test_english_lines_spoken_ahead_are_sung_as_if_spoken_in_turn(singer, english, monkeypatch):
    """The song's English lines are spoken on Piper's own thread while the singer analyses and
    sings those already spoken; the vocals are the same bytes as with each line spoken on the
    singer's thread when it is reached."""
    import threading

    import voice.speech as speech
    import voice.world_singer as ws

    score, audio = english[0], english[1]
    threads = []
    speak = speech.synthesize_piper

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return speak(*args, **kwargs)

    monkeypatch.setattr(speech, "synthesize_piper", spy)
    assert singer.sing(score).samples.tobytes() == audio.samples.tobytes()
    assert threads and all(name.startswith("piper") for name in threads)
    threads.clear()

    class InTurn:  # the line spoken on the singer's thread when the singer reaches it
        def __init__(self, phones, preset):
            self.phones, self.preset = phones, preset

        def result(self):
            return speech.synthesize_piper(self.phones, length_scale=self.preset.speech_length_scale,
                                           end_mark=self.preset.speech_end_mark)

        def cancel(self):
            return True

    monkeypatch.setattr(ws.WorldSinger, "_speak_english_ahead", staticmethod(
        lambda lines, preset: {key: InTurn(phones, preset) for key, phones, _ in lines}))
    assert singer.sing(score).samples.tobytes() == audio.samples.tobytes()
    assert threads and not any(name.startswith("piper") for name in threads)


def test_loud_notes_are_limited_not_clipped(monkeypatch):
    """The singer holds its output's peaks below PEAK_CEILING_DB. The staccato lines sung by the
    soprano peak at -5 dBFS; spoken 6 dB hotter they would pass full scale, but come out at the
    ceiling, with the limiter turning down only the loudest parts: the median sounding sample
    rises 5.8 dB (measured) and four in five samples rise the full 6 dB."""
    import voice.world_singer as ws

    score = vocal_score_from_leadsheet(staccato_sheet(), voice="soprano")
    usual = ws.WorldSinger().sing(score).mono()
    monkeypatch.setattr(ws, "SPEECH_RMS_DBFS", ws.SPEECH_RMS_DBFS + 6.0)
    hot = ws.WorldSinger().sing(score).mono()
    assert np.abs(usual).max() * 10 ** (6 / 20) > 1.05  # it would have clipped
    assert np.abs(hot).max() <= 10 ** (ws.PEAK_CEILING_DB / 20) + 0.005
    sounding = np.abs(usual) > 1e-3
    rise_db = 20 * np.log10(np.median(np.abs(hot[sounding])) / np.median(np.abs(usual[sounding])))
    assert 5.0 <= rise_db <= 6.1, rise_db
    untouched = np.abs(hot[sounding]) >= 0.99 * 10 ** (6 / 20) * np.abs(usual[sounding])
    assert untouched.mean() >= 0.75, untouched.mean()


@pytest.mark.parametrize("aligner", ["pocketsphinx", "proportional"])
def test_staccato_every_syllable_once_and_presets(aligner):
    from voice.world_singer import WorldSinger

    score = vocal_score_from_leadsheet(staccato_sheet(), voice="alto")
    audio = WorldSinger(aligner=aligner).sing(score)
    f0, t = f0_track(audio.mono())
    assert voiced_runs(f0, min_frames=8) == len(score.notes) == 4
    r = pitch_report(f0, t, score.notes)
    assert r["within_50"] >= 0.90, r
    x = audio.mono()
    for a, b in zip(score.notes, score.notes[1:]):  # the rests are silent
        assert rms_dbfs(x[int((a.end_s + 0.03) * SR): int((b.start_s - 0.1) * SR)]) < -50


def test_unsayable_syllables_are_skipped_and_unknown_words_sung(singer):
    line = LyricLine(0, "zorblax , sing", (Syllable("zorb", (), 0, 0, True), Syllable("lax", (), 0, 0, False),
                                           Syllable(",", (), 0, 1, True), syl("sing", "S IH1 NG", 2)))
    bang = LyricLine(0, "!", (Syllable("!", (), 0, 0, True),))  # a line with nothing to say
    notes = [(1, 1, 60, (0, 0), False), (2, 1, 62, (0, 1), False), (3, 1, 62, (0, 2), False),
             (4, 1, 64, (0, 3), False), (6, 1, 64, (1, 0), False)]
    score = vocal_score_from_leadsheet(lead_sheet([line, bang], notes, n_bars=2))
    audio = singer.sing(score)
    f0, t = f0_track(audio.mono())
    for n in (score.notes[0], score.notes[1], score.notes[3]):  # sung (spelled by espeak)
        assert pitch_report(f0, t, [n])["voicing_recall"] > 0.5, n.text
    comma = score.notes[2]
    x = audio.mono()
    assert rms_dbfs(x[int((comma.start_s + 0.04) * SR): int((comma.end_s - 0.1) * SR)]) < -50
    assert rms_dbfs(x[int((score.notes[3].end_s + 0.03) * SR):]) < -50


# ---- Mandarin -----------------------------------------------------------------------------------
def test_mandarin(mandarin):
    score, audio, f0, t = mandarin
    assert audio.samples.shape == (round(score.duration_s * SR), 1)
    r = pitch_report(f0, t, score.notes)
    assert r["within_50"] >= 0.90 and r["voicing_recall"] >= 0.85, r  # measured 0.97, 0.95
    unvoiced = [n for n in score.notes if n.phonemes[0] in ("h", "sh", "j")]
    errs = vowel_onset_errors(f0, t, unvoiced)
    assert np.abs(errs).max() <= 0.050, np.round(errs * 1000)


# ---- parts --------------------------------------------------------------------------------------
def test_time_map_places_onset_vowel_and_coda():
    from representations.vocal_score import VocalNote
    from voice.align import SyllableTiming
    from voice.retime import MAX_ONSET_LEAD_S, SungSyllable, plan_line

    def note(start, dur, syllable, melisma=False):
        return VocalNote(start, dur, 60, 90, "x", ("T", "AH1"), 0, syllable, melisma=melisma)

    syllables = [
        SungSyllable([note(1.0, 0.5, 0)], SyllableTiming(0.10, 0.22, 0.30, 0.36)),  # 120 ms onset
        SungSyllable([note(1.5, 0.5, 1), note(2.0, 0.5, 1, True)], SyllableTiming(0.36, 0.40, 0.50, 0.55)),
        SungSyllable([note(3.0, 0.4, 2)], SyllableTiming(0.55, 0.60, 0.70, 0.72)),
    ]
    segs = plan_line(syllables)
    assert len(segs) == 2  # the rest before the last note
    a, b = segs
    assert a.start_s == pytest.approx(1.0 - MAX_ONSET_LEAD_S)  # onset leads by at most 80 ms
    src = a.source_times(np.array([1.0, 1.5, 2.2, a.end_s]))
    assert src[0] == pytest.approx(0.22) and src[1] == pytest.approx(0.40)  # vowels on the notes
    assert 0.40 < src[2] < 0.50  # the melisma note still sings the vowel
    assert a.end_s == pytest.approx(2.5) and src[3] == pytest.approx(0.55)  # coda closes the last note
    assert b.start_s == pytest.approx(3.0 - 0.05) and b.end_s == pytest.approx(3.4)


def test_f0_curve_portamento_and_vibrato():
    from voice.f0 import sung_f0

    fp = 0.005
    t = np.arange(0, 2.0, fp)
    f0 = sung_f0(t, [(0.0, 0.3, 60), (0.3, 2.0, 67)], [(0.0, 0.3), (0.3, 2.0)], frame_s=fp)
    cents = 1200 * np.log2(f0 / 440.0) + 6900
    first = (t > 0.03) & (t < 0.27)
    assert np.abs(cents[first] - 6000).max() < 1  # short note: no vibrato
    glide = (t > 0.3 - 0.05) & (t < 0.3 + 0.05)
    assert 6000 < cents[glide].mean() < 6700  # a glide, not a jump...
    assert np.abs(cents[(t > 0.36) & (t < 0.5)] - 6700).max() < 1  # ...over within 60 ms
    late = (t > 1.0) & (t < 2.0)
    assert 20 <= np.abs(cents[late] - 6700).max() <= 50  # vibrato depth 20-50 cents
    rate = np.sum(np.diff(np.sign(cents[late] - 6700)) != 0) / 2 / 1.0
    assert 5.0 <= rate <= 6.5


def test_envelope_warp_and_breathiness():
    from voice.timbre import add_breathiness, warp_envelope

    sp = np.full((3, 513), 1e-6)
    sp[:, 100] = 1.0
    assert np.argmax(warp_envelope(sp, 1.2)[0]) == 120
    assert np.argmax(warp_envelope(sp, 0.8)[0]) == 80
    assert warp_envelope(sp, 1.0) is sp
    ap = np.full((3, 513), 0.1)
    breathy = add_breathiness(ap, 0.5, sample_rate=22050)
    assert (breathy >= ap).all() and breathy.max() <= 1.0 and breathy[0, -1] > breathy[0, 1]
    with pytest.raises(ValueError):
        warp_envelope(sp, 3.0)


def test_pocketsphinx_alignment_agrees_with_piper_durations():
    from voice.align import piper_phone_spans, pocketsphinx_phone_spans, timings_from_spans
    from voice.phonemes import arpabet_word_to_phones
    from voice.speech import synthesize_piper

    words = [[("T", "EY1", "K")], [("T", "AY1", "M")], [("T", "UW1")], [("S", "IY1")], [("P", "AE1", "S", "T")]]
    phones = [arpabet_word_to_phones(w) for w in words]
    speech = synthesize_piper(phones)
    syllables = [s for w in phones for s in w]
    spans = piper_phone_spans(speech, syllables)
    assert spans is not None  # the bundled model's duration output is exposed
    piper = timings_from_spans(syllables, spans)
    sphinx_spans = pocketsphinx_phone_spans(speech.audio, speech.sample_rate, syllables, list(range(len(syllables))))
    assert sphinx_spans is not None
    sphinx = timings_from_spans(syllables, sphinx_spans)
    diff = np.abs([a.vowel_s - b.vowel_s for a, b in zip(piper, sphinx)])
    assert np.median(diff) <= 0.03, np.round(diff * 1000)


def test_lines_spoken_slowly_as_questions_end_voiced():
    """The lower presets' speech (Piper at length scale 1.9, ending in "?"): a line's last vowel
    stays voiced instead of falling into the creak a statement ends in (measured 0.67-0.74
    voiced against 0.27-0.58), and the speech is about 1.9 times as long."""
    import pyworld

    from voice.align import piper_phone_spans, timings_from_spans
    from voice.phonemes import ipa_word_to_phones
    from voice.presets import PRESETS
    from voice.speech import espeak_ipa, synthesize_piper

    alto = PRESETS["alto"]
    assert (alto.speech_length_scale, alto.speech_end_mark) == (1.9, "?")
    for text in ("hold on hold on", "carry you back home to me", "so let it rise let it glow"):
        words = [ipa_word_to_phones(w, 1) for w in espeak_ipa(text).split()]
        syllables = [s for w in words for s in w]
        voiced, spoken = {}, {}
        for mark in ("", "?"):
            speech = spoken[mark] = synthesize_piper(words, length_scale=alto.speech_length_scale, end_mark=mark)
            last = timings_from_spans(syllables, piper_phone_spans(speech, syllables))[-1]
            x = speech.audio.astype(np.float64)
            f0, t = pyworld.dio(x, speech.sample_rate, f0_floor=60.0, f0_ceil=500.0, frame_period=5.0)
            f0 = pyworld.stonemask(x, f0, t, speech.sample_rate)
            voiced[mark] = float(np.mean(f0[int(last.vowel_s / 0.005): int(last.coda_s / 0.005)] > 0))
        assert voiced["?"] >= 0.6 and voiced["?"] > voiced[""] + 0.1, (text, voiced)
        plain = synthesize_piper(words)
        assert 1.6 <= len(spoken["?"].audio) / len(plain.audio) <= 2.2


def test_pinyin_to_kokoro_phones():
    from voice.kokoro import pinyin_phones

    def spelled(p):
        return " ".join(f"{ph.role[0]}:{ph.symbols}" for ph in pinyin_phones(p))

    assert spelled("xiang3") == "o:ɕ o:j n:a↓ c:ŋ"  # initial, glide | vowel with its tone | coda
    assert spelled("zhi1") == "o:ꭧ n:ɨ→" and spelled("ci2") == "o:ʦʰ n:ɨ↗" and spelled("ri4") == "o:ɻ n:ɨ↘"
    assert spelled("yue4") == "o:ɥ n:e↘" and spelled("jue2") == "o:ʨ o:ɥ n:e↗" and spelled("lv4") == "o:l n:y↘"
    assert spelled("you3") == "o:j n:ou↓" and spelled("wen1") == "o:w n:ə→ c:n" and spelled("yi1") == "n:i→"
    assert spelled("guo4") == "o:k o:w n:o↘" and spelled("bo1") == "o:p n:o→"  # bo: no glide
    assert spelled("de5") == "o:t n:ɤ"  # the neutral tone has no arrow
    assert spelled("er2") == "n:ɚ↗" and spelled("huar1") == "o:x o:w n:a→ c:ɻ"  # 儿, erhua
    assert spelled("ng2") == "n:ə↗ c:ŋ" and spelled("hm5") == "o:x n:ə c:m"  # interjections
    with pytest.raises(ValueError, match="not a pinyin syllable"):
        pinyin_phones("xyz1")
    from voice.world_singer import WorldSinger

    assert len(WorldSinger._mandarin_phones([("zhuang1", "zh")] * 100)) == 100
    assert WorldSinger._mandarin_phones([("zhuang1", "zh")] * 101) is None  # too long for Kokoro: espeak-ng
    assert WorldSinger._mandarin_phones([("ni3", "n"), ("much", "m")]) is None  # not pinyin: espeak-ng


def test_english_words_in_a_mandarin_line_are_spoken_in_english_phones():
    from types import SimpleNamespace

    from generators.lyrics_zh import syllabify_line_zh
    from voice.world_singer import WorldSinger

    sylls = syllabify_line_zh("你说OK包好")
    phones = [("".join(s.phonemes).lower(), "") for s in sylls]
    groups = [[SimpleNamespace(phonemes=s.phonemes)] for s in sylls]
    spelled = ["".join(p.symbols for p in s) for s in WorldSinger._mandarin_phones(phones, groups)]
    assert spelled == ["ni↓", "ʂwo→", "ˈoʊ", "kˈeɪ", "pau→", "xau↓"]  # 包 bao1 is not the English "B AO1"


def test_silent_syllable_tails_are_cut():
    from voice.align import SyllableTiming, trim_silent_tails

    levels = np.array([-20.0] * 10 + [-80.0] * 10 + [-20.0] * 10)  # 10 ms frames: sound, pause, sound
    t = [SyllableTiming(0.0, 0.03, 0.15, 0.2, 0.2), SyllableTiming(0.2, 0.22, 0.3, 0.3)]
    cut = trim_silent_tails(t, levels, frame_s=0.01)
    assert (cut[0].coda_s, cut[0].end_s, cut[0].next_s) == pytest.approx((0.1, 0.1, 0.1))  # the pause is not sung
    assert cut[1] == t[1]


def test_phones_from_arpabet_and_from_espeak_ipa():
    from voice.phonemes import arpabet_word_to_phones, ipa_word_to_phones

    butter = arpabet_word_to_phones([("B", "AH1"), ("T", "ER0")])
    assert [[(p.symbols, p.role) for p in s] for s in butter] == [
        [("b", "onset"), ("ˈʌ", "nucleus")], [("ɾ", "onset"), ("ɚ", "nucleus")]]
    home = arpabet_word_to_phones([("HH", "OW1", "M")])[0]
    assert [p.role for p in home] == ["onset", "nucleus", "coda"] and home[2].arpabet == "M"
    about = ipa_word_to_phones("ɐbˈaʊt", 2)
    assert [[p.symbols for p in s] for s in about] == [["ɐ"], ["b", "ˈaʊ", "t"]]
    assert [[p.symbols for p in s] for s in ipa_word_to_phones("kˈæptʃɚ", 2)] == [["k", "ˈæ", "p"], ["tʃ", "ɚ"]]


def test_onnx_extra_output_is_appended():
    from voice.onnx_graph import _fields, _length_delimited, onnx_with_extra_output

    node = _length_delimited(1, b"in") + _length_delimited(2, b"dur") + _length_delimited(4, b"Ceil")
    model = _length_delimited(7, _length_delimited(1, node) + _length_delimited(12, _length_delimited(1, b"out")))
    patched = onnx_with_extra_output(model, op_type=b"Ceil")
    outputs = []
    for number, _, s, e in _fields(patched, 0, len(patched)):
        if number == 7:
            outputs += [patched[gs:ge] for n, _, gs, ge in _fields(patched, s, e) if n == 12]
    assert [o[2:] for o in outputs] == [b"out", b"dur"]
    assert onnx_with_extra_output(model, op_type=b"Conv") is None


def test_unknown_voice_and_language_are_errors(singer):
    from representations.errors import SongwrightError

    score = vocal_score_from_leadsheet(staccato_sheet(), voice="baritone-x")
    with pytest.raises(SongwrightError, match="valid"):
        singer.sing(score)
    score = vocal_score_from_leadsheet(staccato_sheet())
    score.language = "fr"
    with pytest.raises(SongwrightError, match="valid: en, zh"):
        singer.sing(score)
