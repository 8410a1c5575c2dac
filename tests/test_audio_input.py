"""Hostile audio inputs give one clear AudioInputError line; good ones are normalised."""

import numpy as np
import pytest
import soundfile as sf

from representations.audio_input import read_audio_input
from representations.errors import AudioInputError


def tone(sr, seconds, channels=1, freq=220.0):
    t = np.arange(int(sr * seconds)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t)
    return np.repeat(x[:, None], channels, axis=1)


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)), "not an audio file"),
        (lambda p: sf.write(p, np.zeros((16000, 1)), 16000), "silent"),
        (lambda p: sf.write(p, tone(16000, 1.0), 16000), "too short"),
    ],
)
def test_bad_inputs_one_line(tmp_path, make, problem):
    p = tmp_path / "in.wav"
    make(p)
    with pytest.raises(AudioInputError) as e:
        read_audio_input(p, min_s=3.0)
    assert problem in str(e.value) and str(p) in str(e.value) and "\n" not in str(e.value)


def test_truncated_wav(tmp_path):
    p = tmp_path / "t.wav"
    sf.write(p, tone(16000, 5.0), 16000)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])
    try:
        a = read_audio_input(p, min_s=3.0)
    except AudioInputError as e:  # either refused, or read as what is there (shorter than 3 s)
        assert "too short" in str(e) or "damaged" in str(e)
    else:
        pytest.fail(f"truncated file accepted with {a.duration_s:.2f} s")


def test_nan_samples(tmp_path):
    p = tmp_path / "nan.wav"
    x = tone(16000, 4.0).astype(np.float32)
    x[100] = np.nan
    sf.write(p, x, 16000, subtype="FLOAT")
    with pytest.raises(AudioInputError, match="NaN"):
        read_audio_input(p)


def test_long_file_refused_from_header(tmp_path):
    p = tmp_path / "long.wav"
    with sf.SoundFile(p, "w", 8000, 1, subtype="PCM_U8") as f:  # 11 minutes, 5 MB
        block = np.zeros((8000 * 60, 1))
        for _ in range(11):
            f.write(block)
    with pytest.raises(AudioInputError, match="too long"):
        read_audio_input(p)


def test_any_rate_and_channels_normalised(tmp_path):
    p = tmp_path / "six.flac"
    sf.write(p, tone(96000, 4.0, channels=6), 96000)
    a = read_audio_input(p, sample_rate=16000, min_s=3.0)
    assert a.sample_rate == 16000 and a.n_channels == 1
    assert abs(a.duration_s - 4.0) < 0.01


def test_trim_silence(tmp_path):
    p = tmp_path / "pad.wav"
    x = np.concatenate([np.zeros((16000 * 2, 1)), tone(16000, 4.0), np.zeros((16000 * 3, 1))])
    sf.write(p, x, 16000)
    a = read_audio_input(p, trim_silence=True)
    assert abs(a.duration_s - 4.0) < 0.02
