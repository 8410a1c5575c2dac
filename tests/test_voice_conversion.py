"""Voice conversion, measured: exact melody intervals and octave moves, level, timbre moving
towards the reference (resemblyzer), bad references, the neural backend's contract, separation.

Tolerances: F0 is measured with pyworld dio + stonemask as the median over the middle of each
note; a note's F0 must be within 15 cents of the expected value and the interval between two
notes within 10 cents (a semitone is 100). Voices are built in code from formant envelopes.
"""

from __future__ import annotations

import numpy as np
import pytest

from representations.audio import Audio
from representations.errors import AudioInputError, BackendUnavailable
from voice.conversion import WorldConverter
from voice.conversion_profile import register_shift
from voice.conversion_synth import HOP, N_FFT, WORK_RATE, WorldParams, synthesize

FRAME_S = HOP / WORK_RATE


def formant_voice(f0_hz: np.ndarray, formants_hz=(700, 1200, 2600), *, seed: int = 0) -> Audio:
    """A vowel-like voice at ``WORK_RATE``: F0 per frame (0 = silence), a formant envelope."""
    f = np.linspace(0, WORK_RATE / 2, N_FFT // 2 + 1)
    log_env = -f / 3000.0
    for i, fc in enumerate(formants_hz):
        log_env = log_env + (3.0 - 0.5 * i) * np.exp(-0.5 * ((f - fc) / (60 + 0.05 * fc)) ** 2)
    n = len(f0_hz)
    sp = np.tile(np.exp(2 * log_env - 12), (n, 1))
    ap = np.tile(np.clip(f / 8000.0, 0.02, 0.9), (n, 1))
    active = f0_hz > 0
    y = synthesize(WorldParams(np.asarray(f0_hz, float), sp, ap, active, n * HOP), seed=seed)
    return Audio(0.3 * y / np.abs(y).max(), WORK_RATE)


def notes_f0(spans_hz: list[tuple[float, float]], *, gap_s: float = 0.1) -> np.ndarray:
    """F0 per frame for notes ``(hz, seconds)`` separated by ``gap_s`` of silence."""
    parts = []
    for hz, dur in spans_hz:
        parts += [np.full(int(dur / FRAME_S), hz), np.zeros(int(gap_s / FRAME_S))]
    return np.concatenate([np.zeros(int(gap_s / FRAME_S))] + parts)


def speech_like_f0(median_hz: float, seconds: float, *, seed: int = 0) -> np.ndarray:
    """A gliding, speech-like F0 contour with short pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds / FRAME_S)
    t = np.arange(n) * FRAME_S
    semis = 2.0 * np.sin(2 * np.pi * 0.7 * t) + np.cumsum(rng.normal(0, 0.15, n))
    semis -= np.median(semis)
    f0 = median_hz * 2 ** (semis / 12)
    f0[(t % 1.3) > 1.1] = 0.0
    return f0


def note_medians_hz(audio: Audio, spans: list[tuple[float, float]]) -> list[float]:
    import pyworld

    x = np.ascontiguousarray(audio.mono(), dtype=np.float64)
    f0, t = pyworld.dio(x, audio.sample_rate, f0_floor=50, f0_ceil=1000, frame_period=5.0)
    f0 = pyworld.stonemask(x, f0, t, audio.sample_rate)
    out = []
    for start, end in spans:
        sel = (t > start + 0.1) & (t < end - 0.1) & (f0 > 0)
        out.append(float(np.median(f0[sel])))
    return out


def cents(a, b) -> float:
    return 1200 * np.log2(a / b)


@pytest.fixture(scope="module")
def two_notes():
    f0 = notes_f0([(200.0, 0.7), (300.0, 0.7)])
    spans = [(0.1, 0.8), (0.9, 1.6)]
    return formant_voice(f0), spans


@pytest.fixture(scope="module")
def low_reference():
    return formant_voice(speech_like_f0(100.0, 4.0), formants_hz=(600, 1000, 2300), seed=1)


def test_register_shift_is_whole_octaves_or_semitones():
    assert register_shift(60.0, 75.9, mode="octave") == 12
    assert register_shift(60.0, 68.9, mode="octave") == 0  # within OCTAVE_MOVE_ST: the melody stays
    assert register_shift(60.0, 69.0, mode="octave") == 12
    assert register_shift(60.0, 51.0, mode="octave") == -12
    assert register_shift(60.0, 81.0, mode="octave") == 24
    assert register_shift(60.0, 53.5, mode="semitone") == -6
    with pytest.raises(ValueError):
        register_shift(60.0, 61.0, mode="fifths")


def test_conversion_moves_by_an_octave_and_keeps_intervals(two_notes, low_reference):
    src, spans = two_notes
    conv = WorldConverter()
    out = conv.convert(src, low_reference)
    # reference speaks at 100 Hz (MIDI 43.3), sings comfortably 6 semitones higher; the source's
    # melody centres on about MIDI 59: one octave down is nearest
    assert conv.last_plan.shift_semitones == -12
    assert out.sample_rate == src.sample_rate and out.samples.shape == (src.samples.shape[0], 1)
    before, after = note_medians_hz(src, spans), note_medians_hz(out, spans)
    for b, a in zip(before, after):
        assert abs(cents(a, b) + 1200) < 15, (before, after)
    assert abs(cents(after[1], after[0]) - cents(before[1], before[0])) < 10, (before, after)


def test_frame_matching_weights_and_arguments():
    from voice.conversion_profile import MATCH_BAND_HZ, _freqs, matching_weights

    f, w = _freqs(), matching_weights(low_share=0.5)
    assert np.allclose(w[f <= MATCH_BAND_HZ[0]], 0.5) and np.allclose(w[f >= MATCH_BAND_HZ[1]], 1.0)
    assert np.all(np.diff(w) >= 0)
    assert np.array_equal(matching_weights(low_share=1.0), np.ones_like(f))  # the default: uniform
    for bad in ({"low_band_matching": 1.5}, {"neighbours": 0}):
        with pytest.raises(ValueError, match="not valid"):
            WorldConverter(**bad)


def test_matched_correction_compares_like_sounds():
    """Two vowels in different proportions: the average envelopes differ by what is said, the
    matched difference only by the voice (here a tilt of 2 nepers from 0 Hz to Nyquist)."""
    from voice.conversion_profile import VoiceProfile, _freqs, matched_difference

    f, rng = _freqs(), np.random.default_rng(0)

    def vowel(formants):
        return sum(3.0 * np.exp(-0.5 * ((f - fc) / (60 + 0.05 * fc)) ** 2) for fc in formants) - f / 3000.0

    a, b = vowel((700, 1200, 2600)), vowel((300, 2300, 3000))

    def frames(n_a, n_b, tilt=0.0):
        x = np.array([a] * n_a + [b] * n_b) + rng.normal(0, 0.05, (n_a + n_b, len(f)))
        return x + tilt * f / f[-1]

    src = frames(140, 60)  # mostly the first vowel
    for tilt in (0.0, 2.0):
        ref = frames(60, 140, tilt)  # mostly the second, in the same voice or a brighter one
        profile = VoiceProfile(50.0, 45.0, 55.0, False, ref.mean(axis=0), np.zeros(len(f)), 5.0, frames=ref)
        band = (f > 200) & (f < 5000)
        mean_diff = profile.log_env - src.mean(axis=0)
        matched = matched_difference(src, src.mean(axis=0), profile, k=4)
        expected = tilt * f / f[-1]
        shape = lambda d: d[band] - d[band].mean()  # noqa: E731  (levels are matched elsewhere)
        assert np.abs(shape(matched - expected)).max() < 0.2, tilt
        assert np.abs(shape(mean_diff - expected)).max() > 1.0, tilt  # what the average envelopes say
    with pytest.raises(ValueError, match="correction"):
        WorldConverter(correction="median")


def test_semitone_register_and_fixed_shift(two_notes, low_reference):
    src, spans = two_notes
    out = WorldConverter(shift_semitones=5).convert(src, low_reference)
    before, after = note_medians_hz(src, spans), note_medians_hz(out, spans)
    for b, a in zip(before, after):
        assert abs(cents(a, b) - 500) < 15, (before, after)
    conv = WorldConverter(register="semitone")
    conv.convert(src, low_reference)
    assert conv.last_plan.shift_semitones % 12 != 0  # the nearest whole semitone, not an octave


def test_level_kept_and_deterministic(two_notes, low_reference):
    src, _ = two_notes
    a = WorldConverter().convert(src, low_reference)
    b = WorldConverter().convert(src, low_reference)
    assert np.array_equal(a.samples, b.samples)
    rms = lambda x: np.sqrt(np.mean(x ** 2))  # noqa: E731
    assert abs(20 * np.log10(rms(a.samples) / rms(src.samples))) < 1.0  # dB


def test_formant_warp_follows_the_reference(two_notes):
    src, _ = two_notes
    # the source sings around 245 Hz (speaks about 6 semitones lower); a voice speaking higher
    # with formants 1.2 x the source's, and one speaking lower with formants 0.85 x
    high = formant_voice(speech_like_f0(330.0, 4.0), formants_hz=(840, 1440, 3120), seed=2)
    conv = WorldConverter()
    conv.convert(src, high)
    assert 1.12 <= conv.last_plan.warp_ratio <= 1.25
    low = formant_voice(speech_like_f0(110.0, 4.0), formants_hz=(595, 1020, 2210), seed=3)
    conv.convert(src, low)
    assert 0.85 <= conv.last_plan.warp_ratio <= 0.9


def test_unshifted_conversion_filters_the_source(two_notes):
    src, spans = two_notes
    high = formant_voice(speech_like_f0(330.0, 4.0), formants_hz=(840, 1440, 3120), seed=2)
    same = WorldConverter(shift_semitones=0, warp=False, envelope_strength=0.0, ap_strength=0.0,
                          frame_matching=0.0).convert(src, high)
    rms = lambda x: float(np.sqrt(np.mean(x ** 2)))  # noqa: E731
    assert rms(same.samples - src.samples) < 0.01 * rms(src.samples)  # zero gain gives the source back
    conv = WorldConverter(shift_semitones=0)
    out = conv.convert(src, high)
    assert conv.last_plan.warp_ratio > 1.05
    for b, a in zip(note_medians_hz(src, spans), note_medians_hz(out, spans)):
        assert abs(cents(a, b)) < 5  # the source's own excitation: pitch exactly kept

    def centroid_hz(audio):
        spec = np.abs(np.fft.rfft(audio.mono())) ** 2
        f = np.fft.rfftfreq(len(audio.mono()), 1 / audio.sample_rate)
        return float((spec * f).sum() / spec.sum())

    assert centroid_hz(out) > 1.05 * centroid_hz(src)  # formants moved up towards the reference


def test_conversion_moves_speaker_similarity_towards_the_reference():
    pytest.importorskip("resemblyzer")
    from voice.judges import similarity, speaker_embedding
    from voice.speech import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed")
    import io
    import subprocess

    import soundfile as sf

    def espeak(text: str) -> Audio:
        out = subprocess.run(["espeak-ng", "-v", "en+f3", "-p", "60", "--stdout", text], capture_output=True,
                             check=True).stdout
        x, sr = sf.read(io.BytesIO(out))
        return Audio(x, sr)

    from voice.phonemes import arpabet_word_to_phones
    from voice.speech import synthesize_piper

    words = [["HH AH0", "L OW1"], ["W ER1 L D"], ["DH IH1 S"], ["IH1 Z"], ["AH0"], ["S AO1 NG"],
             ["AH0", "B AW1 T"], ["DH AH0"], ["S IY1"]]
    phones = [arpabet_word_to_phones([tuple(s.split()) for s in w]) for w in words]
    speech = synthesize_piper(phones)
    src = Audio(np.concatenate([speech.audio, speech.audio]), speech.sample_rate)
    reference = espeak("The quick brown fox jumps over the lazy dog, and the farmer walks home in the rain.")
    held_out = espeak("She sells sea shells by the sea shore every morning before the shop opens.")
    target = speaker_embedding(held_out.mono(), held_out.sample_rate)
    out = WorldConverter().convert(src, reference)
    before = similarity(speaker_embedding(src.mono(), src.sample_rate), target)
    after = similarity(speaker_embedding(out.mono(), out.sample_rate), target)
    assert after - before >= 0.05, (before, after)


# ---- bad references -------------------------------------------------------------------------
def _write(path, x, sr=22050):
    import soundfile as sf

    sf.write(str(path), x, sr, subtype="FLOAT")
    return path


@pytest.mark.parametrize("kind", ["empty", "noise", "one_second", "clipped", "nan", "not_audio"])
def test_bad_reference_is_one_audio_input_error(tmp_path, kind):
    from pipeline.voice_jobs import apply_voice_reference

    rng = np.random.default_rng(0)
    sr = 22050
    path = tmp_path / f"{kind}.wav"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "noise":
        _write(path, 0.2 * rng.standard_normal(5 * sr))
    elif kind == "one_second":
        _write(path, formant_voice(speech_like_f0(150.0, 1.0)).mono())
    elif kind == "clipped":
        x = formant_voice(speech_like_f0(150.0, 5.0)).mono()
        _write(path, np.clip(20 * x, -1, 1))
    elif kind == "nan":
        x = formant_voice(speech_like_f0(150.0, 5.0)).mono()
        x[100] = np.nan
        _write(path, x)
    else:
        path.write_text("this is not audio\n" * 100)
    vocals = formant_voice(notes_f0([(200.0, 0.5)]))
    with pytest.raises(AudioInputError) as e:
        apply_voice_reference(vocals, path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg


# ---- the neural backend ---------------------------------------------------------------------
def test_neural_tiny_contract(tmp_path, two_notes, low_reference):
    pytest.importorskip("torch")
    from voice.conversion_neural import NeuralConverter

    src, _ = two_notes
    a = NeuralConverter.tiny(seed=0).convert(src, low_reference)
    b = NeuralConverter.tiny(seed=0).convert(src, low_reference)
    assert a.sample_rate == src.sample_rate and a.samples.shape == (src.samples.shape[0], 1)
    assert a.samples.dtype == np.float32 and np.isfinite(a.samples).all() and np.abs(a.samples).max() > 0.01
    assert np.array_equal(a.samples, b.samples)
    NeuralConverter.tiny(seed=0).save_pretrained(tmp_path / "ckpt")
    c = NeuralConverter.from_pretrained(tmp_path / "ckpt").convert(src, low_reference)
    assert np.array_equal(a.samples, c.samples)
    d = NeuralConverter.tiny(seed=1).convert(src, low_reference)
    assert not np.array_equal(a.samples, d.samples)


def test_neural_checkpoint_errors_name_the_path_and_files(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from voice.base import VOICE_CONVERTERS
    from voice.conversion_neural import NeuralConverter

    monkeypatch.delenv("SONGWRIGHT_MODELS_DIR", raising=False)
    with pytest.raises(BackendUnavailable, match="SONGWRIGHT_MODELS_DIR"):
        VOICE_CONVERTERS.create("neural")
    with pytest.raises(BackendUnavailable) as e:
        VOICE_CONVERTERS.create("neural", checkpoint_dir=tmp_path / "none")
    msg = str(e.value)
    assert str(tmp_path / "none") in msg and "config.json" in msg and "model.safetensors" in msg
    ckpt = tmp_path / "ckpt"
    NeuralConverter.tiny().save_pretrained(ckpt)
    (ckpt / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(BackendUnavailable, match="model.safetensors"):
        NeuralConverter.from_pretrained(ckpt)
    (ckpt / "config.json").write_text('{"n_features": 16, "bogus": 1}')
    with pytest.raises(BackendUnavailable, match="bogus"):
        NeuralConverter.from_pretrained(ckpt)
    with pytest.raises(BackendUnavailable, match="unknown voice converter backend 'nope'; valid: neural, world"):
        VOICE_CONVERTERS.create("nope")


# ---- separation -----------------------------------------------------------------------------
def test_repet_separation_keeps_the_voice_and_drops_the_loop():
    from voice.separation import looks_like_mix, separate_vocals

    sr = WORK_RATE
    voice = formant_voice(notes_f0([(220.0, 1.5), (330.0, 1.5), (262.0, 1.5), (294.0, 1.5)], gap_s=0.5)).mono()
    t = np.arange(len(voice)) / sr
    gate = (1 + np.sign(np.sin(2 * np.pi * 2 * t))) / 2  # a riff that repeats twice a second
    loop = 0.08 * (np.sin(2 * np.pi * 110 * t) + 0.5 * np.sin(2 * np.pi * 165 * t)) * gate
    mix = Audio(voice + loop, sr)
    assert looks_like_mix(mix) and not looks_like_mix(Audio(voice, sr))
    vocals, how = separate_vocals(mix, method="repet")
    assert how.startswith("repet-sim")
    y = vocals.mono()
    # least-squares share of the voice and of the loop in the separated vocals: the mix holds
    # both at 1; the soft mask keeps part of the voice (measured 0.42) and almost none of the loop
    coef, *_ = np.linalg.lstsq(np.stack([voice, loop], axis=1), y, rcond=None)
    assert coef[0] > 0.3 and abs(coef[1]) < 0.1 * coef[0], coef
    # the separator role: vocals and accompaniment with the input's rate, channels and length
    from voice.separation_base import create_separator

    stereo = Audio(np.stack([voice + loop, voice + 0.5 * loop], axis=1), sr)
    parts = create_separator("repet").separate(stereo)
    for part in parts.values():
        assert part.sample_rate == sr and part.samples.shape == stereo.samples.shape
    assert np.allclose(parts["vocals"].samples + parts["accompaniment"].samples, stereo.samples, atol=1e-6)


# ---- converting part of a recording with a kept plan ----------------------------------------
@pytest.mark.parametrize("shift, matching", [(None, {}), (0, {}),  # re-synthesised (an octave down) and filtered
                                             (None, {"frame_matching": 1.0, "low_band_matching": 0.5,
                                                     "neighbours": 4})])
def test_a_part_converted_alone_matches_the_whole(low_reference, shift, matching):
    import json

    from voice.conversion import ConversionPlan, reference_profile

    src = formant_voice(notes_f0([(200.0, 0.8), (300.0, 0.8), (250.0, 0.8)], gap_s=0.4))
    conv = WorldConverter(shift_semitones=shift, **matching)
    whole = conv.convert(src, low_reference).mono()
    assert conv.last_plan.shift_semitones == (-12 if shift is None else 0)
    # the plan goes through JSON and back unchanged
    plan = ConversionPlan.from_dict(json.loads(json.dumps(conv.last_plan.to_dict())),
                                    reference=reference_profile(low_reference))
    assert json.dumps(plan.to_dict()) == json.dumps(conv.last_plan.to_dict())
    with pytest.raises(ValueError, match="unknown or missing"):
        ConversionPlan.from_dict(conv.last_plan.to_dict() | {"extra": 1})
    a, b = int(1.4 * WORK_RATE), int(2.6 * WORK_RATE)  # the second note (1.6-2.4 s), silence around it
    part = np.zeros_like(src.mono())
    part[a:b] = src.mono()[a:b]
    alone = conv.convert_with_plan(Audio(part, src.sample_rate), plan).mono()
    assert alone.shape == whole.shape and not alone[: a - WORK_RATE // 5].any()
    snr_db = 10 * np.log10(np.sum(whole[a:b] ** 2) / np.sum((whole[a:b] - alone[a:b]) ** 2))
    assert snr_db > 60, snr_db  # the same analysis grid, noise and gains: equal up to float rounding
