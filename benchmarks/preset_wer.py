"""Each voice preset's words and pitch over several songs: the README's "English words missed" column.

For every preset and seed, the rule planner plans ``examples/pop.yaml`` (that seed, the preset's
range and centre) and the singer sings all of it; each lyric line is judged from its own clip
(Whisper tiny.en, ``vocal_quality.sung_line_wer``) and the song's raw pitch accuracy is read by
dio (``pipeline.quality.pitch_accuracy``). A single song's WER at high pitch varies a lot with
its melody, so judge on several (benchmarks/FINDINGS.md).

Run: .venv/bin/python benchmarks/preset_wer.py [--voices joe,alto] [--seeds 7,1,2,3,4,5,6]
(about 40 s a song on 2 cores)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]


def measure(voice: str, seed: int) -> tuple[float, float, float]:
    """(per-line WER, raw pitch accuracy, median sung note) of the pop example sung by ``voice``."""
    from pipeline import SongSpec
    from pipeline.quality import pitch_accuracy
    from vocal_quality import SR, plan_score, sung_line_wer
    from voice.world_singer import WorldSinger

    spec = SongSpec.from_yaml(ROOT / "examples/pop.yaml").model_copy(update={"seed": seed})
    _, score = plan_score(spec, voice=voice)
    mono = WorldSinger().sing(score).mono()
    wer = sung_line_wer(mono, score.lines)
    pitch = pitch_accuracy(mono, SR, [(n.start_s, n.end_s, n.pitch) for n in score.notes])["raw_pitch_accuracy"]
    return wer, pitch, float(np.median([n.pitch for n in score.notes]))


def main() -> None:
    from voice.presets import PRESETS

    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", default=",".join(PRESETS), help="comma-separated presets (default: all)")
    ap.add_argument("--seeds", default="7,1,2,3,4,5,6", help="comma-separated song seeds (7: the example's own)")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| preset | " + " | ".join(f"seed {s}" for s in seeds) + " | mean WER | mean pitch (worst) |")
    print("|---" * (len(seeds) + 3) + "|")
    for voice in args.voices.split(","):
        rows = [measure(voice, s) for s in seeds]
        cells = [f"{w:.3f} / {p:.3f} (note {m:.0f})" for w, p, m in rows]
        wers, pitches = [r[0] for r in rows], [r[1] for r in rows]
        print(f"| {voice} | " + " | ".join(cells) + f" | {np.mean(wers):.3f} | {np.mean(pitches):.3f} "
              f"({min(pitches):.3f}) |", flush=True)


if __name__ == "__main__":
    main()
