"""Rendering with harmonies and in a reference voice, through the whole pipeline."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from representations.audio import Audio

ROOT = Path(__file__).resolve().parents[1]
SPEC = "title: Harmony\ntags: pop, piano, harmonies, 110 BPM\nlyrics: |\n  [Chorus]\n  sing it out sing it loud\n"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "ref.wav"
    subprocess.run(["espeak-ng", "-v", "en+f3", "-p", "70", "-w", str(path),
                    "This is a short recording of my voice, so that the song can be sung by me. "
                    "I like to sing in the morning."], check=True)
    return path


def run(*args):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_harmonies_and_reference_voice(tmp_path, reference):
    spec = tmp_path / "h.yaml"
    spec.write_text(SPEC)
    r = run("render", str(spec), "-o", str(tmp_path / "song"), "-q", "--voice-reference", str(reference))
    assert r.returncode == 0, r.stderr
    song = tmp_path / "song"
    harmony = Audio.load(song / "stems" / "harmony_vocals.wav")
    assert np.sqrt(np.mean(harmony.samples ** 2)) > 1e-3  # the backing parts are sung
    m = json.loads((song / "manifest.json").read_text())
    assert m["voice"] == "reference:ref.wav" and m["voice_conversion"]["backend"] == "world"
    assert len(m["voice_reference"]["sha256"]) == 64


def test_bad_reference_is_refused_before_rendering(tmp_path):
    spec = tmp_path / "h.yaml"
    spec.write_text(SPEC)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    r = run("render", str(spec), "-o", str(tmp_path / "song"), "--voice-reference", str(bad))
    assert r.returncode == 2 and "bad.wav" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "song").exists()
