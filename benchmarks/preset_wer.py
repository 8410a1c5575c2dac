"""Each voice preset's words and pitch over several songs: the README's "English words missed" column.

For every preset and seed, the rule planner plans ``examples/pop.yaml`` (that seed, the preset's
range and centre; ``--songs pop``) or six songs of eight other lines each at 96 BPM (``--songs
more``: 48 lines, each song to two melodies; the first three songs chose the speech's pace, the
last three check it), and the singer sings all of it; each lyric line is judged from its own
clip (Whisper tiny.en, ``vocal_quality.sung_line_wer``) and the song's raw pitch accuracy is
read by dio (``pipeline.quality.pitch_accuracy``). A single song's WER at high pitch varies a
lot with its melody, and the pop example has only 16 distinct lines, so judge on several
(benchmarks/FINDINGS.md). The same lines spoken by the bundled voice give the judge's floor.

Run: .venv/bin/python benchmarks/preset_wer.py [--songs pop|more] [--voices joe,alto] [--seeds 7,1,2,3,4,5,6]
     [--only 0,1,2] [--no-spoken]
(about 40 s a pop song, 10 s one of the six, on 2 cores)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

MORE = [  # (verse, chorus): everyday lyric lines of 5-10 words
    (["I left the porch light burning", "in case you found your way", "the radio was playing",
      "a song we used to play"],
     ["Come back before the winter", "before the river freezes", "I kept your coat beside the door",
      "and every note you wrote me"]),
    (["She drives along the coastline", "with the windows rolled down low", "counting every mile marker",
      "on the long road home"],
     ["We are young and we are running", "through the fields of gold", "nobody can stop us now",
      "the story's not been told"]),
    (["Rain is falling on the rooftops", "coffee's cold upon the table", "you were laughing in the kitchen",
      "like we had all the time"],
     ["Hold me close and say you'll stay", "tell me that we'll be okay", "when the morning comes around",
      "I want you by my side"]),
    (["The train pulls out at seven", "my suitcase by my feet", "I wave goodbye to mother",
      "standing in the street"],
     ["Far away from all I know", "I will find a place to grow", "but every time I close my eyes",
      "I see the garden where we played"]),
    (["Dancing in the kitchen light", "music playing soft and low", "your hand is resting on my shoulder",
      "we don't have anywhere to go"],
     ["This is where I want to be", "just you and me and the melody", "time can wait outside the door",
      "we don't need anything more"]),
    (["Old man sitting by the harbor", "watching all the ships come in", "he remembers every sailor",
      "every storm and every wind"],
     ["Sing a song of the open sea", "sing it loud and sing it free", "the waves will carry every word",
      "to the shore where it is heard"]),
]


def specs(songs: str, seed: int, only: list[int] | None = None) -> list:
    """The songs to sing: the pop example, or those of ``MORE`` (``only``: their indices) at 96 BPM."""
    from pipeline import SongSpec

    from vocal_quality import verse_chorus_songs

    if songs == "pop":
        return [SongSpec.from_yaml(ROOT / "examples/pop.yaml").model_copy(update={"seed": seed})]
    return verse_chorus_songs(MORE, tags="pop, piano, 96 BPM", seed=seed, only=only)


def measure(voice: str, spec) -> tuple[float, float, float, int]:
    """(per-line WER, raw pitch accuracy, median sung note, words) of ``spec`` sung by ``voice``."""
    from pipeline.quality import pitch_accuracy
    from vocal_quality import SR, plan_score, sung_line_wer
    from voice.judges import normalise_words
    from voice.world_singer import WorldSinger

    _, score = plan_score(spec, voice=voice)
    mono = WorldSinger().sing(score).mono()
    wer = sung_line_wer(mono, score.lines)
    pitch = pitch_accuracy(mono, SR, [(n.start_s, n.end_s, n.pitch) for n in score.notes])["raw_pitch_accuracy"]
    words = sum(len(normalise_words(l.text)) for l in score.lines)
    return wer, pitch, float(np.median([n.pitch for n in score.notes])), words


def spoken(songs: str, only: list[int] | None) -> float:
    """Per-line WER of the songs' distinct lines spoken by the bundled voice at its own rate."""
    from vocal_quality import lyric_lines, per_line_wer, spoken_reference

    lines = list(dict.fromkeys(lyric_lines(specs(songs, 0, only))))
    audio, spans = spoken_reference(lines)
    return per_line_wer(audio, spans, lines)


def main() -> None:
    from voice.presets import PRESETS

    ap = argparse.ArgumentParser()
    ap.add_argument("--songs", choices=("pop", "more"), default="pop",
                    help="the pop example (24 lines), or six songs of 48 other lines")
    ap.add_argument("--voices", default=",".join(PRESETS), help="comma-separated presets (default: all)")
    ap.add_argument("--seeds", default=None,
                    help="comma-separated song seeds (default: the pop example 7,1,2,3,4,5,6, its own first; the six 1,2)")
    ap.add_argument("--only", default=None, help="with --songs more: which of the six (0-5, comma-separated)")
    ap.add_argument("--no-spoken", action="store_true", help="skip the spoken reference")
    args = ap.parse_args()
    seeds = [int(s) for s in (args.seeds or ("7,1,2,3,4,5,6" if args.songs == "pop" else "1,2")).split(",")]
    only = [int(k) for k in args.only.split(",")] if args.only else None
    if not args.no_spoken:
        print(f"spoken lines (the bundled voice, its own rate), per-line WER {spoken(args.songs, only):.3f}")
    songs = [(seed, spec) for seed in seeds for spec in specs(args.songs, seed, only)]
    print("| preset | " + " | ".join(f"{spec.title}, seed {s}" for s, spec in songs) + " | WER (mean of songs) "
          "| WER (all words) | mean pitch (worst) |")
    print("|---" * (len(songs) + 4) + "|")
    for voice in args.voices.split(","):
        rows = [measure(voice, spec) for _, spec in songs]
        cells = [f"{w:.3f} / {p:.3f} (note {m:.0f})" for w, p, m, _ in rows]
        wers, pitches = [r[0] for r in rows], [r[1] for r in rows]
        pooled = sum(r[0] * r[3] for r in rows) / max(sum(r[3] for r in rows), 1)
        print(f"| {voice} | " + " | ".join(cells) + f" | {np.mean(wers):.3f} | {pooled:.3f} | {np.mean(pitches):.3f} "
              f"({min(pitches):.3f}) |", flush=True)


if __name__ == "__main__":
    main()
