"""Speed of a one-line lyric edit of a 3-minute song, against a full render of it.

Prints: full render time; a lyric edit cold (a fresh `songwright edit` process: interpreter,
imports and the voice model's set-up included; median of three) and warm (in one process, the
way the studio, a batch or a script calling pipeline.edit does; median of three), then a profile
of one warm edit. Targets (issue "edit a song in place"): at most 2 s, and at most 10% of a full
render. The machine's load is printed: the figures are only meaningful on an idle machine.

Run: .venv/bin/python benchmarks/edit_speed.py [--song DIR]  (DIR: an existing 3-minute song
folder to reuse instead of rendering one)
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
from render_speed import spec_text  # noqa: E402

TEXTS = ["all the stories that we never told", "every word I never said to you", "echo softly in the night",
         "all the things I wanted you to know"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--song", help="an existing 3-minute song folder (skips the full render)")
    args = ap.parse_args()
    from pipeline import SongPipeline, SongSpec
    from pipeline.edit import edit_lyric_line

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        full = None
        if args.song:
            src = Path(args.song)
        else:
            src = Path(d) / "song"
            t0 = time.perf_counter()
            song = SongPipeline().render(SongSpec.from_text(spec_text("3min"), source="3min.yaml"), src)
            full = time.perf_counter() - t0
            print(f"full render: {song.manifest['duration_s']:.1f} s of song in {full:.1f} s")

        cold = []
        for i, text in enumerate(TEXTS[:3]):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "pipeline.cli", "edit", str(src), "--line", "3", "--text", text,
                                "-o", str(Path(d) / f"cold{i}")], capture_output=True, text=True, cwd=ROOT)
            cold.append(time.perf_counter() - t0)
            if r.returncode:
                sys.exit(r.stderr)
        c = statistics.median(cold)
        share = f" ({100 * c / full:.1f}% of the full render)" if full else ""
        print(f"edit, cold process: median {c:.2f} s{share}; runs {['%.2f' % t for t in cold]}")

        edit_lyric_line(src, 4, TEXTS[3], Path(d) / "warmup")  # loads the models once
        warm = []
        for i, text in enumerate(TEXTS[:3]):
            t0 = time.perf_counter()
            edit_lyric_line(src, 3, text, Path(d) / f"warm{i}")
            warm.append(time.perf_counter() - t0)
        w = statistics.median(warm)
        share = f" ({100 * w / full:.1f}% of the full render)" if full else ""
        print(f"edit, warm (models loaded): median {w:.2f} s{share}; runs {['%.2f' % t for t in warm]}")

        prof = cProfile.Profile()
        prof.enable()
        edit_lyric_line(src, 5, TEXTS[0], Path(d) / "profiled")
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(r"(pipeline|voice|renderers|representations|generators)/.*\.py", 16)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
