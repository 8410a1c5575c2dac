"""Sung Mandarin words: how many syllables of each lyric line a listener's model hears.

For every preset and seed, the rule planner plans ``examples/ballad_zh.yaml`` (that seed) and
the singer sings it (``--songs ballad``), or six songs of eight other lines each at 100 BPM
(``--songs more``: 48 lines; the first three songs chose Kokoro's speed, the last three did
not); each line is judged from its own clip by Whisper base, multilingual
(``voice.judges.whisper_zh_transcript``), as a syllable error rate against the lyrics
(``voice.judges.syllable_error_rate``: any reading of a heard character counts, so traditional
characters and homophones are heard). A line counts at most all of its syllables wrong: the
model sometimes repeats a phrase dozens of times over a held note. Raw pitch accuracy is read
by dio. The same lines spoken (Kokoro, espeak-ng) give the floor the judge itself sets.

``--source espeak`` sings from espeak-ng's pinyin voice instead of Kokoro, as a singer without
the Kokoro packages does.

Run: .venv/bin/python benchmarks/mandarin_words.py [--songs ballad|more] [--voices joe,alto] [--seeds 3,1,2]
     [--source kokoro|espeak]
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
MORE = [  # (verse, chorus): everyday lines of 5-12 characters, polyphonic ones among them
    (["我们在春天的风里慢慢走", "城市的灯光照亮夜空", "夏天的晚风吹过我的脸", "山上的雪慢慢融化"],
     ["我在路上想起了你", "窗外的鸟儿在唱歌", "花开的时候你会回来", "星星在天上一闪一闪"]),
    (["河水流向远方", "雨停了天空很蓝", "慢慢地走过大地", "我们一起去看海"],
     ["明天会更好", "月亮代表我的心", "你问我爱你有多深", "轻轻地唱着歌"]),
    (["月光洒在安静的河", "风吹过我长大的地方", "还有你唱过的那首歌", "留在心里慢慢发光"],
     ["我想你在每个夜晚", "音乐响起泪也温暖", "重新走过那条小路", "还是你的笑最明亮"]),
    (["小时候我住在海边", "每天听着浪花的声音", "妈妈总是叫我回家", "晚饭的香味飘满街"],
     ["那些日子像一首歌", "唱给长大的自己听", "不管走到多远的地方", "心里永远有个家"]),
    (["早上的咖啡有点苦", "地铁里挤满了陌生人", "我戴上耳机听着音乐", "假装自己在旅行"],
     ["你说生活不只是工作", "还有诗和远方的梦", "我们一起去追太阳", "追到世界的尽头"]),
    (["秋天的叶子落满地", "公园里没有人说话", "一只小猫躲在树下", "看着天上的白云"],
     ["时间走得这么快", "我还没有说再见", "如果明天下雨了", "请你记得带把伞"]),
]


def specs(songs: str, seed: int) -> list:
    """The songs to sing: the ballad example, or the six of ``MORE`` at 100 BPM, with ``seed``."""
    from pipeline import SongSpec

    from vocal_quality import verse_chorus_songs

    if songs == "ballad":
        return [SongSpec.from_yaml(ROOT / "examples/ballad_zh.yaml").model_copy(update={"seed": seed})]
    return verse_chorus_songs(MORE, tags="pop, piano, 100 BPM", seed=seed)


def sung(voice: str, spec) -> tuple[int, int, float]:
    """(syllables missed, syllables, raw pitch accuracy) of ``spec`` sung by ``voice``."""
    from pipeline.quality import pitch_accuracy
    from vocal_quality import SR, plan_score
    from voice import judges
    from voice.world_singer import WorldSinger

    _, score = plan_score(spec, voice=voice)
    mono = WorldSinger().sing(score).mono()
    spans = [(l.start_s - LINE_PAD_S, l.end_s + LINE_PAD_S) for l in score.lines]
    wrong, total = judges.mandarin_line_errors(mono, SR, spans, [l.text for l in score.lines])
    pitch = pitch_accuracy(mono, SR, [(n.start_s, n.end_s, n.pitch) for n in score.notes])["raw_pitch_accuracy"]
    return wrong, total, pitch


def lines_of(songs: str) -> list[str]:
    from vocal_quality import lyric_lines

    return lyric_lines(specs(songs, 0))


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
    ap.add_argument("--songs", choices=("ballad", "more"), default="more",
                    help="the ballad example (8 lines), or six songs of 48 other lines")
    ap.add_argument("--voices", default="joe,tenor,alto,soprano,child", help="comma-separated presets")
    ap.add_argument("--seeds", default=None, help="comma-separated song seeds (default: the ballad 3,1,2,4,5,6, "
                    "its own first; the six songs 1)")
    ap.add_argument("--source", choices=("kokoro", "espeak"), default="kokoro", help="the speech the singer sings from")
    ap.add_argument("--no-spoken", action="store_true", help="skip the spoken reference")
    args = ap.parse_args()
    if args.source == "espeak":
        import voice.kokoro

        voice.kokoro.kokoro_available = lambda: False
    if not args.no_spoken:
        texts = lines_of(args.songs)
        print(f"spoken lines, syllable error rate: Kokoro {spoken('kokoro', texts):.3f}, "
              f"espeak-ng {spoken('espeak', texts):.3f}")
    seeds = [int(s) for s in (args.seeds or ("3,1,2,4,5,6" if args.songs == "ballad" else "1")).split(",")]
    songs = [(seed, spec) for seed in seeds for spec in specs(args.songs, seed)]
    print(f"sung from {args.source}")
    print("| preset | " + " | ".join(f"{spec.title}, seed {s}" for s, spec in songs) + " | all lines | pitch (worst) |")
    print("|---" * (len(songs) + 3) + "|")
    for voice in args.voices.split(","):
        rows = [sung(voice, spec) for _, spec in songs]
        pitches = [r[2] for r in rows]
        print(f"| {voice} | " + " | ".join(f"{w / max(t, 1):.3f}" for w, t, _ in rows)
              + f" | {sum(r[0] for r in rows) / max(sum(r[1] for r in rows), 1):.3f} | "
              f"{np.mean(pitches):.3f} ({min(pitches):.3f}) |", flush=True)


if __name__ == "__main__":
    main()
