"""The command line: validate, render, and bad input that exits 2 with one line and writes nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.yaml")))
def test_examples_validate(example):
    r = run("validate", f"examples/{example}")
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


def test_bad_spec_exits_2_with_one_line_and_writes_nothing(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("title: Bad\ntempo: fast please\nlyrics: la la\n")
    out = tmp_path / "out"
    r = run("render", str(spec), "-o", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"songwright: error: {spec}:2: tempo:"), r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [spec]


def test_unsingable_characters_name_the_lyric_line(tmp_path):
    spec = tmp_path / "emoji.yaml"
    spec.write_text("title: Party\nlyrics: |\n  [Verse]\n  we dance all night\n  party time 🎉🎉\n")
    r = run("validate", str(spec))
    assert r.returncode == 2
    assert r.stderr.startswith(f"songwright: error: {spec}:5: lyrics:"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_file_and_unknown_voice(tmp_path):
    r = run("validate", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "no such file" in r.stderr
    spec = tmp_path / "v.yaml"
    spec.write_text("title: V\nvoice: darth\nlyrics: hello world\n")
    r = run("validate", str(spec))
    assert r.returncode == 2
    assert r.stderr.strip() == (f"songwright: error: {spec}:2: voice: not a voice preset, got 'darth' "
                                "(valid: joe, tenor, alto, soprano, child)")


def test_bad_command_line_options_name_the_option(tmp_path):
    spec = tmp_path / "v.yaml"
    spec.write_text("title: V\nlyrics: hello world\n")
    out = tmp_path / "out"
    for option, value, message in (("--voice", "darth", "not a voice preset, got 'darth' (valid: joe,"),
                                   ("--seed", "-5", "greater than or equal to 0, got -5 (valid: an integer")):
        r = run("render", str(spec), option, value, "-o", str(out))
        assert r.returncode == 2 and not out.exists()
        assert r.stderr.startswith(f"songwright: error: command line: {option}: ") and message in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_voices_lists_presets_with_ranges():
    r = run("voices")
    assert r.returncode == 0
    assert len(r.stdout.strip().splitlines()) >= 4
