"""Speed of a one-line lyric edit of a 3-minute song, against a full render of it.

Prints: full render time; edit time cold (a fresh `songwright edit` process, model loading
included) and warm (in one process, the way the studio or a batch calls it), with stages.
Run: .venv/bin/python benchmarks/edit_speed.py
"""

from __future__ import annotations

import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_speed import spec_text  # noqa: E402


def main() -> None:
    from pipeline import SongPipeline, SongSpec
    from pipeline.edit import edit_lyric_line

    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "song"
        t0 = time.perf_counter()
        song = SongPipeline().render(SongSpec.from_text(spec_text("3min"), source="3min.yaml"), src)
        full = time.perf_counter() - t0
        print(f"full render: {song.manifest['duration_s']:.1f} s of song in {full:.1f} s")

        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "pipeline.cli", "edit", str(src), "--line", "3", "--text",
                            "all the stories that we never told", "-o", str(Path(d) / "cold")], capture_output=True, text=True)
        cold = time.perf_counter() - t0
        if r.returncode:
            sys.exit(r.stderr)
        print(f"edit, cold process: {cold:.2f} s ({100 * cold / full:.1f}% of the full render)")

        texts = ["every word I never said to you", "all the things I wanted you to know", "echo softly in the night"]
        edit_lyric_line(src, 4, texts[0], Path(d) / "warmup")  # loads the models once
        prof = cProfile.Profile()
        times = []
        for i, text in enumerate(texts[1:]):
            t0 = time.perf_counter()
            prof.enable()
            edit_lyric_line(src, 3, text, Path(d) / f"warm{i}")
            prof.disable()
            times.append(time.perf_counter() - t0)
        warm = min(times)
        print(f"edit, warm (models loaded): {warm:.2f} s ({100 * warm / full:.1f}% of the full render); runs {['%.2f' % t for t in times]}")
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(r"(pipeline|voice|renderers|representations)/.*\.py", 14)


if __name__ == "__main__":
    main()
