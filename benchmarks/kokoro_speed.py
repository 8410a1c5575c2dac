"""Kokoro's speed with its int8 convolutions as onnxruntime runs them (``ConvInteger``) and as
integer matrix products (``voice.onnx_graph``, as shipped), on the same lines, and whether the
samples are the same; then all the lines one after another on every thread against several at
once on single-threaded sessions, one line each (``voice.kokoro.speak_ahead``, as a song's lines
are spoken).

Per line: the median of ``--runs`` runs of each session, spoken at the singer's speed.

Run: .venv/bin/python benchmarks/kokoro_speed.py [--lines 6] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]


def lines(n: int) -> list[list]:
    """``n`` random lines of 6–12 common characters (pypinyin's phrase list), as Kokoro phones."""
    from kokoro_envelope import random_line

    return [random_line(20000 + k, (6, 13))[1] for k in range(n)]


def timed(fn, runs: int) -> float:
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=6)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from voice.kokoro import GENERATOR, KOKORO_RATE, KOKORO_SPEED, KOKORO_VOICE, line_inputs, model_bytes
    from voice.onnx_graph import convs_as_matmuls, onnx_with_extra_output
    from voice.speech import inference_threads, onnx_session

    model = onnx_with_extra_output(model_bytes(), op_type=b"Clip")
    t = time.perf_counter()
    fast, count = convs_as_matmuls(model, within=GENERATOR)
    rewrite_s = time.perf_counter() - t
    threads = inference_threads()
    t = time.perf_counter()
    plain = onnx_session(model, threads=threads)
    plain_load = time.perf_counter() - t
    t = time.perf_counter()
    rewritten = onnx_session(fast, threads=threads)
    fast_load = time.perf_counter() - t
    print(f"{count} convolutions rewritten in {rewrite_s:.2f} s; session made in {plain_load:.2f} s as shipped "
          f"by the package, {fast_load:.2f} s rewritten; {threads} threads")
    print("| line | audio | ConvInteger | matrix products | same samples |")
    print("|---|---|---|---|---|")
    totals = [0.0, 0.0, 0.0]
    for k, syllables in enumerate(lines(args.lines)):
        feed = line_inputs(syllables, KOKORO_SPEED, KOKORO_VOICE)[0]
        a, b = plain.run(None, feed), rewritten.run(None, feed)
        same = np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        ta = timed(lambda: plain.run(None, feed), args.runs)
        tb = timed(lambda: rewritten.run(None, feed), args.runs)
        dur = a[0].size / KOKORO_RATE
        totals = [totals[0] + dur, totals[1] + ta, totals[2] + tb]
        print(f"| {k} ({len(syllables)} syllables) | {dur:.1f} s | {ta:.3f} s | {tb:.3f} s | "
              f"{'yes' if same else 'NO'} |", flush=True)
    saved = 1 - totals[2] / totals[1]
    print(f"| all | {totals[0]:.1f} s | {totals[1]:.2f} s | {totals[2]:.2f} s ({saved:.0%} less) | |")
    side_by_side(rewritten, [onnx_session(fast, threads=1) for _ in range(threads)],
                 [line_inputs(s, KOKORO_SPEED, KOKORO_VOICE)[0] for s in lines(args.lines)], args.runs)


def side_by_side(session, singles: list, feeds: list[dict], runs: int) -> None:
    """All the lines one after another on ``session``, against ``singles`` speaking one line
    each at a time (the lines in order, as ``speak_ahead`` queues them); both alternating."""
    import queue
    from concurrent.futures import ThreadPoolExecutor

    idle = queue.Queue()
    for s in singles:
        idle.put(s)

    def on_a_single(feed):
        s = idle.get()
        try:
            return s.run(None, feed)
        finally:
            idle.put(s)

    seq, par = [], []
    with ThreadPoolExecutor(len(singles)) as pool:
        for _ in range(runs):
            t = time.perf_counter()
            a = [session.run(None, f) for f in feeds]
            seq.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = list(pool.map(on_a_single, feeds))
            par.append(time.perf_counter() - t)
    same = all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    print(f"{len(feeds)} lines one after another on {len(singles)} threads: {min(seq):.2f}–{max(seq):.2f} s; "
          f"{len(singles)} at once on one thread each: {min(par):.2f}–{max(par):.2f} s "
          f"({1 - np.median(par) / np.median(seq):.0%} less, median); same samples: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
