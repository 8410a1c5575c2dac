"""Batch throughput: songs per minute with 1 and 2 workers (and optionally as Ray tasks).

Renders the same few short songs (about 20-30 s each, made here in code) with
``pipeline.batch.run_batch`` into fresh folders, and prints songs per minute, audio minutes
rendered per wall minute, CPU seconds per song (this process and its worker processes; a figure
that does not depend on other work) and the load average before and after each run (the machine
may be shared: a load above the core count means other work took CPU time).
``--mandarin`` renders Mandarin songs instead (sung from Kokoro, the heavier voice model: how
the workers share the CPUs shows most there).
Run: .venv/bin/python benchmarks/batch_speed.py [--songs 5] [--workers 1 2] [--ray] [--mandarin]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

LINES = ["the river runs to the sea", "sing me home tonight", "lanterns drifting on the bay",
         "every road leads back to you", "morning light across the hill", "hold the quiet of the night"]
STYLES = ["folk, acoustic guitar, 110 BPM", "pop, piano, drums, bass, 100 BPM", "ballad, piano, strings, 80 BPM",
          "rock, electric guitar, drums, bass, 120 BPM", "country, acoustic guitar, harmonica, 104 BPM",
          "jazz, piano, upright bass, brushes, 96 BPM"]

LINES_ZH = ["夏天的晚风吹过我的脸", "星星在天上一闪一闪", "我们在春天的风里慢慢走", "花开的时候你会回来",
            "城市的灯光照亮夜空", "我在路上想起了你", "雨停了天空很蓝", "我们一起去看海", "山上的雪慢慢融化",
            "河水流向远方", "窗外的鸟儿在唱歌", "明天会更好"]
STYLES_ZH = ["流行, 钢琴, 女声", "民谣, 吉他, 男声", "抒情, 钢琴, 弦乐, 女声", "摇滚, 电吉他, 鼓, 男声",
             "流行, 吉他, 鼓, 贝斯, 女声", "爵士, 钢琴, 男声"]


def write_specs(folder: Path, n_songs: int, *, mandarin: bool = False) -> None:
    """``n_songs`` specs of one verse of two lines each (songs of about 20-30 s with intro and outro)."""
    lines, styles = (LINES_ZH, STYLES_ZH) if mandarin else (LINES, STYLES)
    step = 2 if mandarin else 1  # Mandarin: no line in two songs, so one worker's speech cache does not favour it
    for i in range(n_songs):
        a, b = lines[step * i % len(lines)], lines[(step * i + 1) % len(lines)]
        (folder / f"song{i + 1}.yaml").write_text(
            f"title: Batch {i + 1}\ntags: {styles[i % len(styles)]}\nseed: {i}\nlyrics: |\n  [Verse]\n  {a}\n  {b}\n",
            encoding="utf-8")


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its finished child processes."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(specs: Path, out: Path, *, workers: int, use_ray: bool) -> dict:
    from pipeline.batch import run_batch

    load_before = os.getloadavg()
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    results = run_batch(specs, out, workers=workers, use_ray=use_ray, progress=False)
    wall_s = time.perf_counter() - t0
    cpu_s = _cpu_s() - cpu0
    failed = [f"{Path(r.spec).name}: {r.reason}" for r in results if r.status != "ok"]
    if failed:
        raise SystemExit("batch failed: " + "; ".join(failed))
    audio_s = sum(json.loads((Path(r.folder) / "manifest.json").read_text())["duration_s"] for r in results)
    return {
        "mode": f"{'ray' if use_ray else 'processes'} x{workers}",
        "songs": len(results),
        "wall_s": round(wall_s, 1),
        "songs_per_min": round(len(results) * 60 / wall_s, 2),
        "audio_min_per_wall_min": round(audio_s / wall_s, 2),
        "mean_song_s": round(audio_s / len(results), 1),
        # CPU time of this process and its worker processes (Ray's workers are not our children)
        "cpu_s_per_song": None if use_ray else round(cpu_s / len(results), 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--songs", type=int, default=5, help="songs per run (4-6 is enough)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--ray", action="store_true", help="also run each worker count as Ray tasks")
    ap.add_argument("--mandarin", action="store_true", help="Mandarin songs instead of English ones")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) {[round(x, 2) for x in os.getloadavg()]}")
    os.environ["SONGWRIGHT_SPEECH_CACHE"] = "off"  # every run speaks its lines (the workers inherit this)
    with tempfile.TemporaryDirectory() as d:
        specs = Path(d) / "specs"
        specs.mkdir()
        write_specs(specs, args.songs, mandarin=args.mandarin)
        for use_ray in ([False, True] if args.ray else [False]):
            for w in args.workers:
                r = run(specs, Path(d) / f"out-{'ray' if use_ray else 'proc'}-{w}", workers=w, use_ray=use_ray)
                print(f"{r['mode']:<13} {r['songs']} songs ({r['mean_song_s']} s each) in {r['wall_s']} s: "
                      f"{r['songs_per_min']} songs/min, {r['audio_min_per_wall_min']} min of audio per minute; "
                      f"CPU {r['cpu_s_per_song']} s/song; load {r['load_before'][0]} -> {r['load_after'][0]}")
                print(json.dumps(r))


if __name__ == "__main__":
    main()
