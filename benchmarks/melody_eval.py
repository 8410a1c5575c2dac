"""Figures of the learned melody model and the learned planner against baselines.

1. Test-set negative log-likelihood per note (nats) of the melody model, with and without its
   chord input, against interpolated Kneser-Ney n-grams over the same pitch tokens, trained on the
   same training split.
2. For the rule and the learned planner, over the examples and a set of generated specs:
   Jensen-Shannon distance (base 2, 0 = same, 1 = disjoint) of the pitch-class histogram (relative
   to the tonic, per mode) and of the interval distribution (semitones within a line, clipped to
   ±12) to the held-out test tunes; share of intervals that repeat a pitch; share of notes in the key (in minor the leading tone counts);
   share of stressed syllables on chord tones; share of repeated lyric lines sung to the same
   pitches; plan time per song.

    .venv/bin/python benchmarks/melody_eval.py [--data build/melody-data] [--checkpoint DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generators.melody_data import load_split  # noqa: E402
from generators.melody_model import BOS_PITCH, N_PITCH, note_features  # noqa: E402

VERSES = [
    ["The river bends around the mill", "the morning mist is lying still", "I walk the road my father knew",
     "and every stone remembers you"],
    ["We built a fire on the shore", "and sang the songs we sang before", "the tide came in and took the light",
     "and left us talking through the night"],
    ["My window faces to the east", "the city sleeps, the noise has ceased", "I count the lights across the bay",
     "and wait for you to find your way"],
]
CHORUSES = [
    ["Carry me home, carry me home", "over the hills where the wild winds roam", "sing me the song that we used to know",
     "carry me home before the snow"],
    ["Hold on tonight, hold on to me", "the stars are falling in the sea", "whatever comes we will be fine",
     "hold on tonight, your hand in mine"],
]
TAGS = ["pop, piano, female vocals", "folk, acoustic guitar, male vocals", "sad ballad, piano, strings",
        "folk waltz, accordion, violin", "rock, electric guitar, drums", "country, banjo, fiddle, upbeat"]


class KneserNey:
    """Interpolated Kneser-Ney n-gram over pitch indices (absolute discount ``d``)."""

    def __init__(self, order: int, d: float = 0.75):
        self.order, self.d = order, d
        self.tables: list[dict] = [defaultdict(Counter) for _ in range(order + 1)]

    def fit(self, seqs):
        top = self.tables[self.order]
        for s in seqs:
            padded = [BOS_PITCH] * (self.order - 1) + list(s)
            for i in range(self.order - 1, len(padded)):
                top[tuple(padded[i - self.order + 1:i])][padded[i]] += 1
        for k in range(self.order - 1, 0, -1):  # continuation counts: distinct left contexts
            for ctx, ws in self.tables[k + 1].items():
                for w in ws:
                    self.tables[k][ctx[1:]][w] += 1
        self.totals = [{c: (sum(ws.values()), len(ws)) for c, ws in t.items()} for t in self.tables]
        return self

    def prob(self, w: int, history: tuple) -> float:
        p = 1.0 / N_PITCH
        for k in range(1, self.order + 1):
            ctx = history[len(history) - (k - 1):] if k > 1 else ()
            tot = self.totals[k].get(ctx)
            if tot is None:
                continue
            total, types = tot
            p = max(self.tables[k][ctx].get(w, 0) - self.d, 0) / total + self.d * types / total * p
        return p

    def nll(self, seqs) -> float:
        total, n = 0.0, 0
        for s in seqs:
            padded = [BOS_PITCH] * (self.order - 1) + list(s)
            for i in range(self.order - 1, len(padded)):
                total -= math.log(self.prob(padded[i], tuple(padded[i - self.order + 1:i])))
                n += 1
        return total / n


def jsd(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2) of two histograms."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a, b):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / b[nz])))

    return math.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2))


def histograms(pitch_lines: list[tuple[str, list[int]]]) -> dict:
    """Per mode: pitch-class and interval histograms of ``(mode, pitches above the tonic)`` lines."""
    out = {m: {"pc": np.zeros(12), "iv": np.zeros(25)} for m in ("major", "minor")}
    for mode, ps in pitch_lines:
        for p in ps:
            out[mode]["pc"][p % 12] += 1
        for a, b in zip(ps, ps[1:]):
            out[mode]["iv"][max(-12, min(12, b - a)) + 12] += 1
    return out


def unison(h: dict) -> float:
    """Share of intervals (both modes) that repeat the previous pitch."""
    iv = h["major"]["iv"] + h["minor"]["iv"]
    return float(iv[12] / iv.sum())


def heldout_lines(tunes) -> list[tuple[str, list[int]]]:
    lines = []
    for t in tunes:
        cur = []
        for n in t.sounding():
            cur.append(n.pitch)
            if n.phrase_end:
                lines.append((t.mode, cur))
                cur = []
    return lines


def generated_specs():
    from pipeline.spec import SongSpec

    specs = [SongSpec.from_yaml(p) for p in sorted((ROOT / "examples").glob("*.yaml"))]
    for i, tags in enumerate(TAGS):
        for j in range(2):
            v, c = VERSES[(i + j) % 3], CHORUSES[(i + j) % 2]
            v2 = VERSES[(i + j + 1) % 3]
            body = "\n".join(["[Verse 1]", *v, "[Chorus]", *c, "[Verse 2]", *v2, "[Chorus]", *c])
            lyrics = "\n".join("  " + ln for ln in body.splitlines())
            text = f"title: Song {i}-{j}\ntags: {tags}\nseed: {10 * i + j}\nlyrics: |\n{lyrics}\n"
            specs.append(SongSpec.from_text(text, source=f"generated-{i}-{j}.yaml"))
    return specs


def planner_figures(name: str, specs, **kwargs) -> dict:
    from pipeline import backends

    planner = backends.create("planner", name, **kwargs)
    lines, in_key, n_notes, stressed, on_chord, same, repeats, secs = [], 0, 0, 0, 0, 0, 0, []
    for spec in specs:
        t0 = time.perf_counter()
        sheet = planner.plan(spec, seed=spec.seed or 0)
        secs.append(time.perf_counter() - t0)
        tonic, mode = sheet.key.tonic_pc, sheet.key.mode
        scale = set(sheet.key.scale_pcs()) | ({(tonic + 11) % 12} if mode == "minor" else set())
        first: dict[str, list[int]] = {}
        for li, line in enumerate(sheet.lyrics):
            notes = [n for n in sheet.sung_notes(li)]
            pitches = [n.pitch for n in notes]
            key = " ".join(line.text.lower().split())
            if key in first:
                repeats += 1
                same += first[key] == pitches
            else:
                first[key] = pitches
        by_line = defaultdict(list)
        for n in sheet.melody:
            by_line[n.syllable[0] if n.syllable else ("free", int(n.start_beats // (4 * sheet.meter.bar_beats)))].append(n)
        for li, notes in by_line.items():
            lines.append((mode, [n.pitch - tonic for n in notes]))
            for k, n in enumerate(notes):
                n_notes += 1
                in_key += n.pitch % 12 in scale
                if isinstance(li, int) and n.syllable is not None and not n.melisma:
                    syl = sheet.lyrics[li].syllables[n.syllable[1]]
                    if syl.stress == 1:
                        stressed += 1
                        chord = sheet.chord_at(n.start_beats)
                        on_chord += chord is not None and n.pitch % 12 in chord.parsed.pitch_classes()
    return {"lines": lines, "in_key": in_key / n_notes, "stressed_on_chord": on_chord / max(1, stressed),
            "repeat_same": same / max(1, repeats), "repeats": repeats, "plan_s": float(np.mean(secs)), "notes": n_notes}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "build" / "melody-data"))
    ap.add_argument("--checkpoint", default=None, help="melody model folder (default: the shipped one)")
    ap.add_argument("--max-test", type=int, default=None, help="evaluate on the first N test tunes only")
    ap.add_argument("--orders", type=lambda s: [int(x) for x in s.split(",")], default=[3, 4, 6, 8, 12, 16],
                    help="n-gram orders of the baselines, comma-separated")
    args = ap.parse_args(argv)
    import torch

    from generators.learned_planner import DEFAULT_CHECKPOINT
    from generators.melody_model import MelodyTransformer, nll_per_note

    torch.set_num_threads(1)
    folder = Path(args.checkpoint) if args.checkpoint else DEFAULT_CHECKPOINT
    model = MelodyTransformer.from_pretrained(folder)
    train, test = load_split(args.data, "train"), load_split(args.data, "test")[: args.max_test]
    rows = [note_features(t) for t in test]
    targets = [r["target"] for r in rows]
    n_test = sum(len(t) for t in targets)
    print(f"model {folder}: {model.n_parameters():,} parameters; test set {len(test)} tunes, {n_test} notes\n")
    print("| test NLL per note | nats | bits |\n|---|---|---|")
    train_seqs = [note_features(t)["target"] for t in train]
    figures = {}
    for order in args.orders:
        figures[f"{order}-gram Kneser-Ney"] = KneserNey(order, d=0.9).fit(train_seqs).nll(targets)
    figures["melody model, no chords"] = nll_per_note(model, rows, chords=False)
    figures["melody model, with chords"] = nll_per_note(model, rows, chords=True)
    for name, v in figures.items():
        print(f"| {name} | {v:.3f} | {v / math.log(2):.3f} |")

    held = histograms(heldout_lines(test))
    specs = generated_specs()
    print(f"\nplanners over {len(specs)} specs (4 examples + {len(specs) - 4} generated); distances to the "
          f"{len(test)} held-out tunes\n")
    print("| planner | JSD pitch class | JSD interval | same pitch again | in key | stressed on chord tone "
          "| repeated line same | s per plan |\n|---|---|---|---|---|---|---|---|")
    ref = heldout_lines(test)
    in_key_ref = np.mean([(p % 12) in ({0, 2, 4, 5, 7, 9, 11} if m == "major" else {0, 2, 3, 5, 7, 8, 10, 11})
                          for m, ps in ref for p in ps])
    print(f"| held-out tunes | 0 | 0 | {unison(held):.3f} | {in_key_ref:.3f} | | | |")
    for name, kwargs in (("rules", {}), ("learned", {"checkpoint": folder})):
        f = planner_figures(name, specs, **kwargs)
        h = histograms(f["lines"])
        weights = {m: h[m]["pc"].sum() for m in h}
        pc = sum(weights[m] * jsd(h[m]["pc"], held[m]["pc"]) for m in h if weights[m]) / sum(weights.values())
        iv = sum(weights[m] * jsd(h[m]["iv"], held[m]["iv"]) for m in h if weights[m]) / sum(weights.values())
        print(f"| {name} | {pc:.3f} | {iv:.3f} | {unison(h):.3f} | {f['in_key']:.3f} | {f['stressed_on_chord']:.3f} | "
              f"{f['repeat_same']:.3f} ({f['repeats']}) | {f['plan_s']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
