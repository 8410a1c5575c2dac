"""Wall time and peak memory of a full render: a ~30-second and a ~3-minute song, and a ~3-minute
song in Mandarin (sung from Kokoro).

Each render runs in its own process so peak RSS is that render's alone, with an empty speech
store (``voice.speech_store``): a first render. The Mandarin song is then rendered again with
another seed (another melody and arrangement of the same lyrics), its lines read back from the
store the first render filled ("again").
Run: .venv/bin/python benchmarks/render_speed.py [--only 30s|3min|3min-zh]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSE = ["Walking down the empty road tonight", "counting every star above the hill",
         "all the words I never said to you", "echo in the quiet of the still"]
CHORUS = ["Hold me now and never let me go", "we are shining brighter than the sun",
          "every heartbeat tells me what I know", "you and I have only just begun"]
BRIDGE = ["When the morning comes", "I will still be here", "when the music fades", "you will hold me near"]
VERSE_ZH = ["月光洒在安静的河", "风吹过我长大的地方", "还有你唱过的那首歌", "留在心里慢慢发光"]
CHORUS_ZH = ["我想你在每个夜晚", "音乐响起泪也温暖", "重新走过那条小路", "还是你的笑最明亮"]
BRIDGE_ZH = ["天亮以后", "我还在这里", "歌声停下", "你还在身边"]


def spec_text(kind: str) -> str:
    verse, chorus, bridge = (VERSE_ZH, CHORUS_ZH, BRIDGE_ZH) if kind.endswith("zh") else (VERSE, CHORUS, BRIDGE)
    if kind == "30s":
        sections = [("Verse", verse[:2]), ("Chorus", chorus[:2])]
    else:
        sections = [("Verse 1", verse), ("Chorus", chorus), ("Verse 2", verse[::-1]), ("Chorus", chorus),
                    ("Bridge", bridge), ("Chorus", chorus), ("Verse 3", verse), ("Chorus", chorus)]
    lyrics = "\n".join(f"  [{name}]\n" + "".join(f"  {l}\n" for l in lines) for name, lines in sections)
    return f"title: Benchmark {kind}\ntags: pop, piano, acoustic guitar, strings, drums, bass, 100 BPM\nseed: 1\nlyrics: |\n{lyrics}"


def child(kind: str, out: str) -> None:
    from pipeline import SongPipeline, SongSpec

    text = spec_text(kind.removesuffix("-again"))
    if kind.endswith("-again"):
        text = text.replace("seed: 1", "seed: 2")
    t0 = time.perf_counter()
    song = SongPipeline().render(SongSpec.from_text(text, source=f"{kind}.yaml"), out)
    wall = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"song": kind, "duration_s": song.manifest["duration_s"], "wall_s": round(wall, 2),
                      "peak_rss_mb": round(rss_mb), "stages_s": song.manifest["timings_s"]}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["30s", "3min", "3min-zh"])
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    for kind in ([args.only] if args.only else ["30s", "3min", "3min-zh"]):
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, SONGWRIGHT_SPEECH_CACHE=str(Path(d) / "speech"))
            for run in [kind] + ([kind + "-again"] if kind.endswith("zh") else []):
                r = subprocess.run([sys.executable, __file__, "--child", run, str(Path(d) / run)],
                                   capture_output=True, text=True, env=env)
                if r.returncode:
                    sys.exit(r.stderr)
                res = json.loads(r.stdout.strip().splitlines()[-1])
                print(f"{run:>5}: {res['duration_s']:6.1f} s of song in {res['wall_s']:5.1f} s wall "
                      f"(RTF {res['wall_s'] / res['duration_s']:.3f}), peak RSS {res['peak_rss_mb']} MB; "
                      f"stages {res['stages_s']}")


if __name__ == "__main__":
    main()
