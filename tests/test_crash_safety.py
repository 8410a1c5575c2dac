"""Killing a render or an edit at random moments never leaves a half-written song folder."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import soundfile as sf

from folders import digests
from representations.atomic import recover_dir

ROOT = Path(__file__).resolve().parents[1]
SPEC = "title: Crash\ntags: folk, acoustic guitar, 120 BPM\nseed: {seed}\nlyrics: |\n  [Verse]\n  the river runs to the sea\n"


def complete(folder: Path) -> bool:
    """A folder whose manifest lists files that all exist and whose WAVs all read in full."""
    m = json.loads((folder / "manifest.json").read_text())
    for rel in m["files"]:
        p = folder / rel
        if not p.is_file():
            return False
        if p.suffix == ".wav":
            data, _ = sf.read(p)
            if len(data) == 0:
                return False
    return True


def seed_of(folder: Path) -> int:
    return json.loads((folder / "manifest.json").read_text())["seed"]


def kill_at(args, delay_s: float) -> int | None:
    p = subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return p.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return None


def test_killed_renders_leave_the_previous_folder_or_none(tmp_path):
    rng = random.Random(0)
    spec = tmp_path / "s.yaml"
    out = tmp_path / "song"
    spec.write_text(SPEC.format(seed=1))
    t0 = time.perf_counter()
    assert kill_at(["render", str(spec), "-o", str(out), "-q"], 600) == 0
    full_s = time.perf_counter() - t0
    kills = survived = 0
    for i in range(6):
        before = digests(out)
        spec.write_text(SPEC.format(seed=2 + i))
        rc = kill_at(["render", str(spec), "-o", str(out), "-q"], rng.uniform(0.3, full_s))
        kills += rc is None
        if rc is None:
            # what the next command finds: a kill between setting the old folder aside and moving
            # the new one in leaves the old one beside it, which every command puts back first
            recover_dir(out)
            after = digests(out)
            replaced = after != before
            assert not replaced or complete(out) and seed_of(out) == 2 + i, f"kill {i}: folder changed without completing"
        assert complete(out), f"run {i}: the folder is not whole"
        survived += 1
    assert kills >= 4 and survived == 6
    # a rerun completes and tidies what the killed runs left
    assert kill_at(["render", str(spec), "-o", str(out), "-q"], 600) == 0
    assert complete(out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_killed_edit_leaves_the_source_and_no_half_written_target(rendered_song, tmp_path):
    before = digests(rendered_song.folder)
    out = tmp_path / "edited"
    rng = random.Random(1)
    for i in range(3):
        rc = kill_at(["edit", str(rendered_song.folder), "--line", "1", "--text", "new words to sing", "-o", str(out)],
                     rng.uniform(0.5, 3.0))
        assert digests(rendered_song.folder) == before
        assert rc in (None, 0), f"edit {i}: exit code {rc}"
        # killed before its finished folder was moved in, there is none; killed after (while the
        # process was exiting), the folder is the whole edit
        recover_dir(out)
        assert (rc is None and not out.exists()) or complete(out), f"edit {i}: the folder is not whole"
        if out.exists():
            assert "new words to sing" in (out / "lyrics.lrc").read_text(encoding="utf-8"), f"edit {i}: not the edit"
