"""The shortcuts that make a lyric edit fast give the same result as the long way round."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.edit import edit_lyric_line, read_pcm
from representations.dsp import resample_poly
from representations.midi import replace_vocals, write_midi

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("up,down", [(2, 1), (1, 2), (4, 1), (3, 2), (2, 3), (160, 147), (147, 160)])
@pytest.mark.parametrize("n", [1, 7, 1000, 44101])
def test_resampler_matches_scipy(up, down, n):
    from scipy.signal import resample_poly as scipy_resample

    x = np.random.default_rng(n).standard_normal((n, 2))
    want, got = scipy_resample(x, up, down, axis=0), resample_poly(x, up, down, axis=0)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.max(np.abs(got - want)) < 1e-12
    assert resample_poly(x[:, 0].astype(np.float32), up, down).dtype == np.float32


def test_midi_vocals_splice_equals_a_full_write(tmp_path, rendered_song):
    arr, score = rendered_song.arrangement, rendered_song.vocal_score
    moved = replace(score, notes=[replace(n, pitch=n.pitch + 2) if n.line == 1 else n for n in score.notes])
    write_midi(tmp_path / "old.mid", arr, vocals=score)
    write_midi(tmp_path / "full.mid", arr, vocals=moved)
    replace_vocals(tmp_path / "old.mid", tmp_path / "spliced.mid", moved)
    assert (tmp_path / "spliced.mid").read_bytes() == (tmp_path / "full.mid").read_bytes()
    assert (tmp_path / "full.mid").read_bytes() != (tmp_path / "old.mid").read_bytes()


def test_clearing_a_lone_line_equals_singing_it_out(rendered_song, tmp_path, monkeypatch):
    """Where silence parts the old line's sound from its neighbours', an edit clears its samples
    instead of singing it again: the result must equal the long way (old vocals - old line + new
    line), which also shows that no breath or consonant of the old line is left behind."""
    from voice.world_singer import WorldSinger

    sung = []
    sing = WorldSinger.sing
    monkeypatch.setattr(WorldSinger, "sing", lambda self, score: sung.append(1) or sing(self, score))
    fast = edit_lyric_line(rendered_song.folder, 2, "silver rivers wander far away", tmp_path / "fast")
    assert len(sung) == 1  # only the new line was sung
    monkeypatch.setattr("pipeline.edit._lone_span", lambda *args: None)
    slow = edit_lyric_line(rendered_song.folder, 2, "silver rivers wander far away", tmp_path / "slow")
    assert len(sung) == 3  # the old line was sung too
    a, _ = read_pcm(fast.path("vocals"))
    b, _ = read_pcm(slow.path("vocals"))
    # the long way rounds twice (the stored old line is 16-bit, the subtracted one is not)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 2
    assert fast.manifest["last_edit"]["bars"] == slow.manifest["last_edit"]["bars"]


def test_a_lyric_edit_imports_no_heavy_libraries(rendered_song, tmp_path):
    """A lyric edit loads none of the libraries that take a large part of a second to import."""
    code = ("import sys; from pipeline.edit import edit_lyric_line; "
            f"edit_lyric_line({str(rendered_song.folder)!r}, 1, 'morning light', {str(tmp_path / 'out')!r}); "
            "print(sorted(m for m in ('scipy.signal', 'scipy.ndimage', 'music21', 'pronouncing') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("sigma", [0.7, 3.0, 12.5])
def test_gaussian_smoothing_matches_scipy(sigma):
    from scipy.ndimage import gaussian_filter1d as scipy_gaussian

    from representations.dsp import gaussian_filter1d

    x = np.random.default_rng(3).standard_normal((40, 513))
    for axis in (0, 1):
        want = scipy_gaussian(x, sigma, axis=axis, mode="nearest")
        assert np.max(np.abs(gaussian_filter1d(x, sigma, axis=axis) - want)) < 1e-12


@pytest.mark.parametrize("n", [1, 4, 1001, 30000])
@pytest.mark.parametrize("size", [1, 5, 883])
def test_running_filters_match_scipy(n, size):
    from scipy.ndimage import minimum_filter1d as scipy_minimum
    from scipy.ndimage import uniform_filter1d as scipy_uniform

    from representations.dsp import minimum_filter1d, uniform_filter1d

    x = np.random.default_rng(n).random(n)
    assert np.array_equal(minimum_filter1d(x, size), scipy_minimum(x, size, mode="nearest"))
    assert np.max(np.abs(uniform_filter1d(x, size) - scipy_uniform(x, size, mode="nearest"))) < 1e-9
