"""The soundfont renderer and the mastering mixer, judged by measuring their audio."""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from representations.arrangement import Arrangement, Track, TrackNote
from representations.audio import Audio, StemSet
from representations.errors import AudioInputError, BackendUnavailable
from representations.leadsheet import Chord, LeadSheet, LyricLine, Note, Section, Syllable
from representations.music import ChordSymbol, Key, Meter

SR = 44100
TEMPO = 120.0
CHORDS = ["C", "Am", "F", "G", "C", "Em", "Dm", "G"]
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

pytestmark = pytest.mark.skipif(not SOUNDFONT.is_file(), reason="FluidR3_GM.sf2 not installed")


def short_lead_sheet() -> LeadSheet:
    """8 bars of 4/4 at 120 BPM (16 s): a verse and a chorus, one chord per bar, a sung line."""
    sections = [Section("verse", "Verse", 0, 4), Section("chorus", "Chorus", 4, 4)]
    chords = [Chord(4 * i, 4, c) for i, c in enumerate(CHORDS)]
    melody, lyrics = [], []
    for line in range(4):
        syl = [Syllable(f"la{j}") for j in range(6)]
        lyrics.append(LyricLine(line // 2, "la " * 6, tuple(syl)))
        for j in range(6):
            melody.append(Note(8 * line + j, 1, 67 + (0, 2, 4, 2, 0, -3)[j], 90, (line, j)))
    return LeadSheet("Short", Key("C"), Meter(4, 4), TEMPO, sections, chords, melody, lyrics,
                     ["pop, piano, drums, bass"])


@pytest.fixture(scope="module")
def renderer():
    from renderers.soundfont import FluidSynthRenderer

    return FluidSynthRenderer()


@pytest.fixture(scope="module")
def song(renderer):
    from generators.pattern_arranger import PatternArranger

    arrangement = PatternArranger().arrange(short_lead_sheet(), seed=3)
    return arrangement, renderer.render(arrangement)


def test_stems_have_rate_channels_and_exact_length(song):
    arrangement, stems = song
    n = round(arrangement.duration_s * SR) + 2 * SR
    assert set(stems.stems) == {t.name for t in arrangement.tracks}
    for name, audio in stems.stems.items():
        assert audio.sample_rate == SR and audio.samples.shape == (n, 2) and audio.samples.dtype == np.float32
        rms = np.sqrt(np.mean(audio.samples ** 2))
        assert rms > 1e-3, name
        assert np.abs(audio.samples).max() < 1.0, name
        tail = audio.samples[-SR // 10:]
        assert np.sqrt(np.mean(tail ** 2)) < 0.05 * rms, f"{name} still sounding at the end of its tail"


def test_drum_stem_keeps_the_tempo(song):
    import librosa

    _, stems = song
    tempo, _ = librosa.beat.beat_track(y=stems.stems["drums"].mono(), sr=SR)
    assert abs(float(np.atleast_1d(tempo)[0]) - TEMPO) / TEMPO <= 0.04


def test_piano_stem_sounds_the_chords(song):
    import librosa

    arrangement, stems = song
    chroma = librosa.feature.chroma_cqt(y=stems.stems["piano"].mono(), sr=SR, hop_length=512)
    frames_per_bar = 2.0 * SR / 512  # a bar lasts 2 s at 120 BPM
    templates = {}  # the 24 major and minor triads
    for root in range(12):
        for quality, third in (("", 4), ("m", 3)):
            v = np.zeros(12)
            v[[root, (root + third) % 12, (root + 7) % 12]] = 1
            templates[(root, quality)] = v - v.mean()
    for i, symbol in enumerate(CHORDS):
        a, b = int((i + 0.15) * frames_per_bar), int((i + 0.95) * frames_per_bar)
        c = chroma[:, a:b].mean(axis=1)
        best = max(templates, key=lambda k: float(np.dot(templates[k], c - c.mean())))
        chord = ChordSymbol.parse(symbol)
        assert best == (chord.root_pc, "m" if chord.is_minor else ""), (symbol, best, np.round(c, 2))


def test_two_renders_are_bit_identical(song, renderer):
    from renderers.soundfont import FluidSynthRenderer

    arrangement, stems = song
    again = renderer.render(arrangement)
    for name in stems.stems:
        assert stems.stems[name].samples.tobytes() == again.stems[name].samples.tobytes(), name
    alone = FluidSynthRenderer(workers=1).render_track(arrangement.track("piano"), arrangement.tempo_bpm,
                                                       len(stems.stems["piano"].samples))
    assert alone.tobytes() == stems.stems["piano"].samples.tobytes()  # no track depends on another


def test_notes_start_on_their_sample_and_pan_applies(renderer):
    # one piano note at beat 2 (1.000 s at 120 BPM), hard left
    arr = Arrangement(TEMPO, Meter(4, 4), F(4), [Track("piano", 0, [TrackNote(2, 1, 60, 100)], pan=-1.0)])
    x = renderer.render(arr).stems["piano"].samples
    assert x.shape == (2 * SR + 2 * SR, 2)
    first = int(np.argmax(np.abs(x).max(axis=1) > 1e-4))
    assert SR <= first <= SR + 64 + 32  # FluidSynth applies events on 64-sample block edges
    left, right = np.sqrt(np.mean(x ** 2, axis=0))
    assert left > 10 * right


def test_missing_soundfont_is_backend_unavailable(monkeypatch):
    from renderers.soundfont import FluidSynthRenderer

    with pytest.raises(BackendUnavailable, match=r"/nope/none\.sf2.*apt-get install fluidsynth fluid-soundfont-gm"):
        FluidSynthRenderer(soundfont="/nope/none.sf2")
    monkeypatch.setenv("SONGWRIGHT_SOUNDFONT", "/nope/env.sf2")
    with pytest.raises(BackendUnavailable, match=r"/nope/env\.sf2"):
        FluidSynthRenderer()


# ---- mixer ----------------------------------------------------------------------------------

def sung_tone(n_samples: int, *, f0_hz: float = 440.0, sample_rate: int = SR) -> Audio:
    """A mono 'voice': a harmonic tone with 5.5 Hz vibrato, phrases of 3 s with 1 s rests."""
    t = np.arange(n_samples) / sample_rate
    f = f0_hz * (1 + 0.012 * np.sin(2 * np.pi * 5.5 * t))
    ph = 2 * np.pi * np.cumsum(f) / sample_rate
    gate = ((t % 4.0) < 3.0).astype(float)
    x = 0.3 * (np.sin(ph) + 0.4 * np.sin(2 * ph) + 0.2 * np.sin(3 * ph)) * gate
    return Audio(x.astype(np.float32), sample_rate)


def lufs(x: np.ndarray) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64)))


def dbtp(x: np.ndarray) -> float:
    from scipy.signal import resample_poly

    return float(20 * np.log10(np.abs(resample_poly(x, 4, 1, axis=0)).max()))


@pytest.fixture(scope="module")
def mixed(song):
    from renderers.mixer import MasteringMixer

    _, stems = song
    n = len(stems.stems["drums"].samples)
    vocals = sung_tone(n - 3 * SR)  # shorter than the stems
    mixer = MasteringMixer()
    return stems, vocals, mixer.mix(stems, vocals=vocals), mixer.mix(stems)


def test_mix_meets_loudness_and_true_peak(mixed):
    stems, _, mix, instrumental = mixed
    n = max(len(a.samples) for a in stems.stems.values())
    for audio in (mix, instrumental):
        assert audio.sample_rate == SR and audio.samples.shape == (n, 2) and audio.samples.dtype == np.float32
        assert abs(lufs(audio.samples) + 14.0) <= 0.5
        assert dbtp(audio.samples) <= -1.0


def test_vocal_sits_on_top_of_the_band(mixed):
    _, _, mix, instrumental = mixed

    def band_db(x, lo, hi):
        spec = np.abs(np.fft.rfft(x.mean(axis=1)))
        f = np.fft.rfftfreq(len(x), 1 / SR)
        return 10 * np.log10(np.sum(spec[(f >= lo) & (f <= hi)] ** 2))

    assert band_db(mix.samples, 420, 460) - band_db(instrumental.samples, 420, 460) >= 6.0


def test_mix_is_deterministic(mixed):
    from renderers.mixer import MasteringMixer

    stems, vocals, mix, _ = mixed
    assert MasteringMixer().mix(stems, vocals=vocals).samples.tobytes() == mix.samples.tobytes()


def test_a_band_mixed_ahead_gives_the_same_song(mixed):
    """The band processed and mastered while the vocals are sung: the same mix, accompaniment
    and gains as mixing everything at the end."""
    from renderers.mixer import MasteringMixer

    stems, vocals, mix, _ = mixed
    n = max(len(a.samples) for a in stems.stems.values())
    vocals = Audio(np.pad(vocals.samples, ((0, n - len(vocals.samples)), (0, 0))), vocals.sample_rate)  # as sung
    mixer = MasteringMixer()
    plain = mixer.mix_song(stems, vocals=vocals)
    ahead = mixer.mix_song(stems, vocals=vocals, band=mixer.mix_band(stems))
    assert plain.mix.samples.tobytes() == ahead.mix.samples.tobytes() == mix.samples.tobytes()
    assert plain.accompaniment.samples.tobytes() == ahead.accompaniment.samples.tobytes()
    assert (plain.params, plain.accompaniment_params) == (ahead.params, ahead.accompaniment_params)
    longer = Audio(np.pad(vocals.samples, ((0, SR), (0, 0))), vocals.sample_rate)  # a band of the wrong length is not used
    assert (mixer.mix_song(stems, vocals=longer, band=mixer.mix_band(stems)).mix.samples.tobytes()
            == mixer.mix_song(stems, vocals=longer).mix.samples.tobytes())


def test_mixer_edges():
    from renderers.mixer import MasteringMixer

    silent = StemSet({"piano": Audio(np.zeros((SR * 2, 2), np.float32), SR)})
    with pytest.raises(AudioInputError, match="silent"):
        MasteringMixer().mix(silent)
    # a short stem and a vocal at another rate, longer than the stem
    rng = np.random.default_rng(0)
    stem = StemSet({"pad": Audio((0.1 * rng.standard_normal((SR, 2))).astype(np.float32), SR)})
    out = MasteringMixer().mix(stem, vocals=sung_tone(22050 * 2, sample_rate=22050))
    assert out.samples.shape == (2 * SR, 2)
    assert abs(lufs(out.samples) + 14.0) <= 0.5 and dbtp(out.samples) <= -1.0


def test_meters_agree_with_references(rng):
    from renderers.mixer import integrated_lufs, true_peak_db

    x = (0.2 * rng.standard_normal((5 * SR, 2))).astype(np.float32)
    x[: 2 * SR] *= 0.05
    assert abs(integrated_lufs(x, SR) - lufs(x)) < 0.01
    t = np.arange(SR) / SR
    fade = np.minimum(1, np.minimum(t, t[::-1]) / 0.01)  # no edge overshoot
    s = (fade * np.sin(2 * np.pi * 11025 * t + np.pi / 4)).astype(np.float32)[:, None]  # samples miss the crests
    assert 20 * np.log10(np.abs(s).max()) < -2.9
    assert abs(true_peak_db(s)) < 0.1


def test_meters_give_the_same_values_with_a_thread_a_channel(monkeypatch):
    import renderers.mixer as mixer

    x = (0.3 * np.random.default_rng(1).standard_normal((mixer.THREADED_SAMPLES + 1000, 2))).astype(np.float32)
    threaded = mixer.k_weighted_power(x, SR), mixer.true_peak_envelope(x)
    monkeypatch.setattr(mixer, "THREADED_SAMPLES", 10 ** 12)
    alone = mixer.k_weighted_power(x, SR), mixer.true_peak_envelope(x)
    assert all(np.array_equal(a, b) for a, b in zip(threaded, alone))
