"""Kill renders and edits with SIGKILL at random moments, many times; count how many left the
song folder either absent or exactly the previous complete one, and whether a rerun completes.

Run: .venv/bin/python benchmarks/crash_safety.py [--kills N]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_crash_safety import SPEC, complete, kill_at, snapshot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=20)
    args = ap.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        spec, out = d / "s.yaml", d / "song"
        spec.write_text(SPEC.format(seed=1))
        t0 = time.perf_counter()
        assert kill_at(["render", str(spec), "-o", str(out), "-q"], 900) == 0
        full = time.perf_counter() - t0
        results = {"render": [0, 0, 0], "edit": [0, 0, 0]}  # tries, killed, intact
        for i in range(args.kills):
            job = "render" if i % 2 == 0 else "edit"
            before = snapshot(out)
            if job == "render":
                spec.write_text(SPEC.format(seed=2 + i))
                cmd = ["render", str(spec), "-o", str(out), "-q"]
            else:
                cmd = ["edit", str(out), "--line", "1", "--text", f"words number {i} to sing", "--in-place"]
            rc = kill_at(cmd, rng.uniform(0.2, full * 1.1))
            after = snapshot(out)
            r = results[job]
            r[0] += 1
            r[1] += rc is None
            r[2] += (after == before or rc == 0) and complete(out)
        final = kill_at(["render", str(spec), "-o", str(out), "-q"], 900) == 0 and complete(out)
        leftovers = [p.name for p in d.iterdir() if p.name.startswith(".")]
        for job, (tries, killed, intact) in results.items():
            print(f"{job:>6}: {tries} runs, {killed} killed mid-way, {intact}/{tries} left a complete folder "
                  f"(the previous one when killed)")
        print(f"rerun after the kills completes: {final}; leftovers after it: {leftovers or 'none'}; full render {full:.1f} s")


if __name__ == "__main__":
    main()
