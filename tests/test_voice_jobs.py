"""clone-voice and convert-voice as jobs and commands: which files change, which stay
byte-identical, the source folder untouched, bad references and bad targets writing nothing.

A two-line song is rendered once for the module; references are voices built in code (a
formant envelope on a speech-like F0 contour), written as stereo 48 kHz files.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from folders import digests
from representations.audio import Audio
from representations.errors import AudioInputError, SongFolderError

ROOT = Path(__file__).resolve().parents[1]
TINY_SPEC = """\
title: Tiny Clone
tags: pop, piano, 110 BPM
seed: 2
lyrics: |
  [Verse]
  Sing me home tonight
  under silver light
"""


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)



def write_reference(path: Path, *, median_hz: float = 220.0, seconds: float = 6.0, formant_scale: float = 1.2) -> Path:
    """A speech-like voice as a stereo 48 kHz WAV file."""
    import soundfile as sf
    from scipy.signal import resample_poly

    from voice.conversion_synth import HOP, N_FFT, WORK_RATE, WorldParams, synthesize

    rng = np.random.default_rng(3)
    n = int(seconds * WORK_RATE / HOP)
    t = np.arange(n) * HOP / WORK_RATE
    f0 = median_hz * 2 ** ((2 * np.sin(2 * np.pi * 0.6 * t) + np.cumsum(rng.normal(0, 0.1, n))) / 12)
    f0[(t % 1.2) > 1.0] = 0.0
    f = np.linspace(0, WORK_RATE / 2, N_FFT // 2 + 1)
    log_env = -f / 3000.0
    for i, fc in enumerate((700, 1200, 2600)):
        log_env += (3.0 - 0.5 * i) * np.exp(-0.5 * ((f - fc * formant_scale) / 80.0) ** 2)
    sp = np.tile(np.exp(2 * log_env - 12), (n, 1))
    ap = np.tile(np.clip(f / 8000.0, 0.02, 0.9), (n, 1))
    y = synthesize(WorldParams(f0, sp, ap, f0 > 0, n * HOP))
    y = resample_poly(0.3 * y / np.abs(y).max(), 320, 147)
    sf.write(str(path), np.stack([y, 0.9 * y], axis=1), 48000)
    return path


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    from pipeline import SongPipeline, SongSpec

    out = tmp_path_factory.mktemp("voice") / "tiny"
    return SongPipeline().render(SongSpec.from_text(TINY_SPEC, source="tiny.yaml"), out)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return write_reference(tmp_path_factory.mktemp("ref") / "singer ref.wav")


def test_clone_voice_rewrites_vocals_mix_manifest_only(song, reference, tmp_path):
    before = digests(song.folder)
    out = tmp_path / "cloned"
    r = run_cli("clone-voice", song.folder, "--reference", reference, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "reference:singer ref.wav" in r.stdout
    assert digests(song.folder) == before  # the source folder is untouched
    after = digests(out)
    assert set(after) == set(before) | {"voice/reference.flac", "voice/conversion.json"}
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"vocals.wav", "mix.wav", "manifest.json"}
    m = json.loads((out / "manifest.json").read_text())
    old = json.loads((song.folder / "manifest.json").read_text())
    assert set(m["files"]) == set(old["files"]) | {"voice/reference.flac", "voice/conversion.json"}
    assert m["voice"] == "reference:singer ref.wav"
    assert m["voice_reference"]["sha256"] == hashlib.sha256(reference.read_bytes()).hexdigest()
    assert 5.0 <= m["voice_reference"]["duration_s"] <= 6.0
    conv = m["voice_conversion"]
    assert conv["backend"] == "world" and conv["shift_semitones"] % 12 == 0
    kept = ("voice", "voice_reference", "voice_conversion", "timings_s", "mix_params", "files")
    assert {k: v for k, v in m.items() if k not in kept} == {k: v for k, v in old.items() if k not in kept}
    vocals, old_vocals = Audio.load(out / "vocals.wav"), Audio.load(song.folder / "vocals.wav")
    assert vocals.samples.shape == old_vocals.samples.shape and vocals.sample_rate == old_vocals.sample_rate
    mix, old_mix = Audio.load(out / "mix.wav"), Audio.load(song.folder / "mix.wav")
    assert mix.samples.shape == old_mix.samples.shape
    assert not list(tmp_path.glob(".*staging*"))


def test_clone_voice_refuses_the_source_unless_in_place(song, reference, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(song.folder, copy)
    before = digests(copy)
    r = run_cli("clone-voice", copy, "--reference", reference, "-o", copy)
    assert r.returncode == 2 and "--in-place" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert digests(copy) == before
    from pipeline.voice_jobs import clone_voice

    clone_voice(copy, reference, in_place=True)
    after = digests(copy)
    assert {k for k in before if before[k] != after[k]} == {"vocals.wav", "mix.wav", "manifest.json"}


@pytest.mark.parametrize("kind", ["short", "silent", "missing"])
def test_bad_reference_exits_2_and_writes_nothing(song, tmp_path, kind):
    import soundfile as sf

    ref = tmp_path / f"{kind}.wav"
    if kind == "short":
        write_reference(ref, seconds=1.5)
    elif kind == "silent":
        sf.write(str(ref), np.zeros(48000 * 5), 48000)
    out = tmp_path / "out"
    for args in (("clone-voice", song.folder, "--reference", ref, "-o", out),
                 ("convert-voice", song.path("vocals"), "--reference", ref, "-o", out / "x.wav")):
        r = run_cli(*args)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("songwright: error: ") and str(ref) in lines[0], r.stderr
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ([ref.name] if kind != "missing" else [])


def test_not_a_song_folder(tmp_path, reference):
    (tmp_path / "stuff").mkdir()
    with pytest.raises(SongFolderError):
        from pipeline.voice_jobs import clone_voice

        clone_voice(tmp_path / "stuff", reference, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def excerpt(path: Path, out: Path, seconds: float) -> Path:
    """The first ``seconds`` of a WAV file, written to ``out``."""
    a = Audio.load(path)
    Audio(a.samples[: int(seconds * a.sample_rate)], a.sample_rate).save(out)
    return out


def test_convert_voice_a_cappella_and_full_mix(song, reference, tmp_path):
    out = tmp_path / "a.wav"
    r = run_cli("convert-voice", song.path("vocals"), "--reference", reference, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "separation: none" in r.stdout
    a, src = Audio.load(out), Audio.load(song.path("vocals"))
    assert a.sample_rate == src.sample_rate and a.samples.shape == (src.samples.shape[0], 1)
    from pipeline.voice_jobs import convert_file

    mix = excerpt(song.path("mix"), tmp_path / "mix.wav", 6.0)
    info = convert_file(mix, reference, tmp_path / "m.wav")
    assert info["separation"].startswith("repet-sim") and info["mix_floor_db"] > -35
    assert Audio.load(tmp_path / "m.wav").samples.shape[0] == Audio.load(mix).samples.shape[0]


def test_convert_voice_with_a_tiny_demucs(song, reference, tmp_path):
    pytest.importorskip("demucs")
    from pipeline.voice_jobs import convert_file
    from voice.demucs_separation import DemucsSeparator

    ckpt = DemucsSeparator.make_tiny(tmp_path / "demucs")
    mix = excerpt(song.path("mix"), tmp_path / "mix.wav", 3.0)
    info = convert_file(mix, reference, tmp_path / "d.wav", separate="always", demucs_dir=ckpt)
    assert info["separation"].startswith("demucs")


def test_apply_voice_reference_for_the_pipeline(song, reference):
    from pipeline.voice_jobs import apply_voice_reference

    vocals = Audio.load(song.path("vocals"))
    out, info = apply_voice_reference(vocals, reference, vocal_score=song.vocal_score)
    assert out.sample_rate == vocals.sample_rate and out.samples.shape == vocals.samples.shape
    assert info["voice"] == "reference:singer ref.wav"
    assert set(info) == {"voice", "voice_reference", "voice_conversion"}
    # the melody moves by whole octaves only: the accompaniment's key still fits
    assert info["voice_conversion"]["shift_semitones"] % 12 == 0
    with pytest.raises(AudioInputError):
        apply_voice_reference(vocals, reference.with_name("nope.wav"))
