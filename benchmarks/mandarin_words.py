"""Sung Mandarin words: how many syllables of each lyric line a listener's model hears.

For every preset and seed, the rule planner plans ``examples/ballad_zh.yaml`` (that seed) and
the singer sings it; each line is judged from its own clip by Whisper base, multilingual
(``voice.judges.whisper_zh_transcript``), as a syllable error rate against the lyrics
(``voice.judges.syllable_error_rate``: any reading of a heard character counts, so traditional
characters and homophones are heard). A line counts at most all of its syllables wrong: the
model sometimes repeats a phrase dozens of times over a held note. Raw pitch accuracy is read
by dio. The same lines spoken (Kokoro, espeak-ng) give the floor the judge itself sets.

``--source espeak`` sings from espeak-ng's pinyin voice instead of Kokoro, as a singer without
the Kokoro packages does.

Run: .venv/bin/python benchmarks/mandarin_words.py [--voices joe,alto] [--seeds 3,1,2] [--source kokoro|espeak]
(about 25 s a song on 2 cores; the judge needs the ``quality`` extra)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

LINE_PAD_S = 0.25


def sung(voice: str, seed: int) -> tuple[float, float]:
    """(syllable error rate, raw pitch accuracy) of the ballad sung by ``voice``."""
    from pipeline import SongSpec
    from pipeline.quality import pitch_accuracy
    from vocal_quality import SR, plan_score
    from voice import judges
    from voice.world_singer import WorldSinger

    spec = SongSpec.from_yaml(ROOT / "examples/ballad_zh.yaml").model_copy(update={"seed": seed})
    _, score = plan_score(spec, voice=voice)
    mono = WorldSinger().sing(score).mono()
    spans = [(l.start_s - LINE_PAD_S, l.end_s + LINE_PAD_S) for l in score.lines]
    wrong, total = judges.mandarin_line_errors(mono, SR, spans, [l.text for l in score.lines])
    pitch = pitch_accuracy(mono, SR, [(n.start_s, n.end_s, n.pitch) for n in score.notes])["raw_pitch_accuracy"]
    return wrong / max(total, 1), pitch


def ballad_lines() -> list[str]:
    from pipeline import SongSpec

    spec = SongSpec.from_yaml(ROOT / "examples/ballad_zh.yaml")
    return [l.strip() for l in spec.lyrics.splitlines() if l.strip() and not l.strip().startswith("[")]


def spoken(source: str, texts: list[str]) -> float:
    """Syllable error rate of ``texts`` spoken (each line alone) by ``source`` (kokoro, espeak)."""
    from pypinyin import Style, lazy_pinyin

    from voice import judges
    from voice.kokoro import KOKORO_RATE, pinyin_phones, synthesize_kokoro
    from voice.speech import _espeak_wav

    wrong = total = 0
    for text in texts:
        pinyins = lazy_pinyin(judges._hanzi(text), style=Style.TONE3, neutral_tone_with_five=True)
        if source == "kokoro":
            audio, sr = synthesize_kokoro([pinyin_phones(p) for p in pinyins], speed=1.0).audio, KOKORO_RATE
        else:
            audio, sr = _espeak_wav(" ".join(pinyins))
        w, t = judges.mandarin_line_errors(audio, sr, [(0.0, len(audio) / sr)], [text])
        wrong, total = wrong + w, total + t
    return wrong / max(total, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", default="joe,tenor,alto,soprano,child", help="comma-separated presets")
    ap.add_argument("--seeds", default="3,1,2,4,5,6", help="comma-separated song seeds (3: the example's own)")
    ap.add_argument("--source", choices=("kokoro", "espeak"), default="kokoro", help="the speech the singer sings from")
    ap.add_argument("--no-spoken", action="store_true", help="skip the spoken reference")
    args = ap.parse_args()
    if args.source == "espeak":
        import voice.kokoro

        voice.kokoro.kokoro_available = lambda: False
    if not args.no_spoken:
        texts = ballad_lines()
        print(f"spoken lines, syllable error rate: Kokoro {spoken('kokoro', texts):.3f}, "
              f"espeak-ng {spoken('espeak', texts):.3f}")
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"sung from {args.source}")
    print("| preset | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | pitch (worst) |")
    print("|---" * (len(seeds) + 3) + "|")
    for voice in args.voices.split(","):
        rows = [sung(voice, s) for s in seeds]
        errs, pitches = [r[0] for r in rows], [r[1] for r in rows]
        print(f"| {voice} | " + " | ".join(f"{e:.3f}" for e in errs) + f" | {np.mean(errs):.3f} | "
              f"{np.mean(pitches):.3f} ({min(pitches):.3f}) |", flush=True)


if __name__ == "__main__":
    main()
