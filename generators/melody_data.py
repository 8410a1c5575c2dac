"""The tokenised melody data set of the learned planner, built from music21's corpus.

A tune (:class:`Tune`) is key-normalised: pitches are semitones above the tonic (C major or A
minor once transposed; the mode is kept), the tonic placed so that the tune's median pitch lies
in the octave above it. Time is counted in ticks of a twelfth of a quarter note (a sixteenth is 3
ticks, an eighth of 6/8 is 6, a triplet eighth 4). Each note carries a chord estimated from the
music (per half bar in 4/4, 2/2, 6/4 and 12/8, per bar otherwise; from all four voices in the
Bach chorales) and a phrase-end flag (Essen's lines, Bach's fermatas; otherwise rests, section
ends and long notes).

Tokens, one string each, in order::

    mode:major meter:6/8 bar chord:0:maj pos:0 dur:6 pitch:4 pos:6 rest:6 ... phrase bar ... end

The split into train / valid / test (90 / 5 / 5 %) is by a hash of the tune id, the same on every
machine. :func:`build_dataset` reads the corpus (:mod:`generators.melody_corpus`) and writes one
JSON line per tune and a manifest of counts.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_QUARTER = 12
PITCH_RANGE = (-15, 27)  # semitones above the tonic that tokens may hold
QUALITIES = ("maj", "min", "dim")
CHORDS_BY_MODE = {"major": ((0, "maj"), (2, "min"), (4, "min"), (5, "maj"), (7, "maj"), (9, "min")),
                  "minor": ((0, "min"), (3, "maj"), (5, "min"), (7, "min"), (7, "maj"), (8, "maj"), (10, "maj"))}
_CHORD_PRIOR = {0: 0.15, 7: 0.10, 5: 0.08}
_MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
_MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
SPLITS = ("train", "valid", "test")
FORMAT = "songwright.melody_data/1"


@dataclass(frozen=True)
class TuneNote:
    """A note (``pitch`` in semitones above the tonic) or a rest (``pitch`` None), in ticks."""

    onset: int
    dur: int
    pitch: int | None
    chord: str | None = None  # "root:quality", root in semitones above the tonic
    phrase_end: bool = False


@dataclass(frozen=True)
class Tune:
    """A key-normalised melody: mode (``"major"``/``"minor"``), meter (``"6/8"``) and notes."""

    id: str
    source: str
    mode: str
    meter: str
    notes: tuple[TuneNote, ...]

    @property
    def bar_ticks(self) -> int:
        n, d = map(int, self.meter.split("/"))
        return n * 4 * TICKS_PER_QUARTER // d

    def sounding(self) -> list[TuneNote]:
        return [n for n in self.notes if n.pitch is not None]


def tune_tokens(tune: Tune) -> list[str]:
    """The tokens of ``tune`` (see the module docstring)."""
    out = [f"mode:{tune.mode}", f"meter:{tune.meter}"]
    bar, chord = -1, None
    for n in tune.notes:
        b = n.onset // tune.bar_ticks
        new_bar = b > bar
        while bar < b:
            out.append("bar")
            bar += 1
        if n.pitch is not None and (new_bar or n.chord != chord) and n.chord is not None:
            out.append(f"chord:{n.chord}")
            chord = n.chord
        out.append(f"pos:{n.onset - b * tune.bar_ticks}")
        out += [f"rest:{n.dur}"] if n.pitch is None else [f"dur:{n.dur}", f"pitch:{n.pitch}"]
        if n.phrase_end:
            out.append("phrase")
    return out + ["end"]


def tokens_tune(tokens: list[str], *, id: str = "", source: str = "") -> Tune:
    """The tune written by :func:`tune_tokens` (ValueError on a malformed sequence)."""
    if len(tokens) < 3 or not tokens[0].startswith("mode:") or not tokens[1].startswith("meter:") or tokens[-1] != "end":
        raise ValueError(f"{id}: not a melody token sequence (valid: mode:, meter:, ..., end)")
    mode, meter = tokens[0][5:], tokens[1][6:]
    probe = Tune(id, source, mode, meter, ())
    notes: list[TuneNote] = []
    bar, chord, pos, dur = -1, None, None, None
    for tok in tokens[2:-1]:
        name, _, value = tok.partition(":")
        if name == "bar":
            bar += 1
        elif name == "chord":
            chord = value
        elif name == "pos":
            pos = int(value)
        elif name == "dur":
            dur = int(value)
        elif name in ("pitch", "rest"):
            onset = bar * probe.bar_ticks + pos
            pitch = int(value) if name == "pitch" else None
            length = dur if name == "pitch" else int(value)
            notes.append(TuneNote(onset, length, pitch, chord if pitch is not None else None))
        elif name == "phrase" and notes:
            notes[-1] = TuneNote(notes[-1].onset, notes[-1].dur, notes[-1].pitch, notes[-1].chord, True)
        else:
            raise ValueError(f"{id}: unknown melody token {tok!r}")
    return Tune(id, source, mode, meter, tuple(notes))


def split_of(tune_id: str) -> str:
    """``"train"``, ``"valid"`` or ``"test"`` by a SHA-256 hash of the id (90 / 5 / 5 %)."""
    h = int(hashlib.sha256(tune_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "train" if h < 90 else "valid" if h < 95 else "test"


def estimate_key(weights: list[float], final_pc: int) -> tuple[int, str]:
    """Tonic pitch class and mode: the final note's key unless a key profile fits far better.

    ``weights`` is a duration-weighted pitch-class histogram (12 values).
    """
    import numpy as np

    h = np.asarray(weights, dtype=float)

    def corr(tonic: int, mode: str) -> float:
        prof = np.roll(np.array(_MAJOR_PROFILE if mode == "major" else _MINOR_PROFILE), tonic)
        return float(np.corrcoef(h, prof)[0, 1]) if h.std() > 0 else 0.0

    mode = "major" if h[(final_pc + 4) % 12] >= h[(final_pc + 3) % 12] else "minor"
    best = max((corr(t, m), t, m) for t in range(12) for m in ("major", "minor"))
    return (final_pc, mode) if corr(final_pc, mode) >= best[0] - 0.1 else (best[1], best[2])


def chord_region_ticks(meter: str) -> int:
    """Ticks per estimated chord: half a bar in 4/4, 2/2, 6/4 and 12/8, a bar otherwise."""
    n, d = map(int, meter.split("/"))
    bar = n * 4 * TICKS_PER_QUARTER // d
    return bar // 2 if bar >= 4 * TICKS_PER_QUARTER and (n % 2 == 0) else bar


def fit_chords(notes: list[tuple[int, int, int]], *, mode: str, region: int, n_regions: int) -> list[str]:
    """A diatonic triad per region that best covers ``notes`` ``(onset, dur, pitch above tonic)``.

    Chord tones score their overlap with the region (double at the region's start), other tones
    count against; ties go to I, V, IV; an empty region keeps the chord before it.
    """
    scores = [dict.fromkeys(CHORDS_BY_MODE[mode], 0.0) for _ in range(n_regions)]
    for onset, dur, pitch in notes:
        for r in range(max(0, onset // region), min(n_regions, (onset + dur - 1) // region + 1)):
            w = min(onset + dur, (r + 1) * region) - max(onset, r * region)
            w *= 2.0 if onset == r * region else 1.0
            for (root, q) in scores[r]:
                ivs = (0, 4, 7) if q == "maj" else (0, 3, 7) if q == "min" else (0, 3, 6)
                scores[r][(root, q)] += w if (pitch - root) % 12 in ivs else -0.6 * w
    out, prev = [], f"0:{'maj' if mode == 'major' else 'min'}"
    for r, sc in enumerate(scores):
        if any(sc.values()):
            root, q = max(sc, key=lambda c: sc[c] + _CHORD_PRIOR.get(c[0], 0.0) * region / TICKS_PER_QUARTER)
            prev = f"{root}:{q}"
        out.append(prev)
    return out


def _sequence_key(tune: Tune) -> str:
    return hashlib.sha256(repr([(n.pitch, n.dur) for n in tune.sounding()]).encode()).hexdigest()


def build_dataset(out_dir, *, workers: int = 2, collections=None, max_files: int | None = None,
                  log=print) -> dict:
    """Read the corpus, normalise, deduplicate and split it; write ``<split>.jsonl`` and ``manifest.json``.

    Parameters
    ----------
    out_dir : str or Path
    workers : int
        Processes reading corpus files in parallel.
    collections : sequence of str, optional
        Any of ``essen``, ``oneills``, ``ryans``, ``bach`` (default: all).
    max_files : int, optional
        Read only the first files of each collection (a deterministic subset).

    Returns
    -------
    dict
        The manifest: counts of tunes and notes per split and collection, dropped tunes, parse time (s).
    """
    import multiprocessing

    from .melody_corpus import COLLECTIONS, corpus_files, normalise, read_file

    names = tuple(collections or COLLECTIONS)
    files = []
    for name in names:
        files += corpus_files((name,))[:max_files] if max_files else corpus_files((name,))
    t0 = time.perf_counter()
    items = [(c, str(p)) for c, p in files]
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            raws = [t for tunes in pool.imap(read_file, items, chunksize=4) for t in tunes]
    else:
        raws = [t for it in items for t in read_file(it)]
    parse_s = time.perf_counter() - t0
    dropped = {"irregular or out of range": 0, "duplicate": 0}
    seen, rows = set(), {s: [] for s in SPLITS}
    for raw in raws:
        tune = normalise(raw)
        if tune is None:
            dropped["irregular or out of range"] += 1
            continue
        key = _sequence_key(tune)
        if key in seen:
            dropped["duplicate"] += 1
            continue
        seen.add(key)
        rows[split_of(tune.id)].append(tune)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, tunes in rows.items():
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for t in tunes:
                f.write(json.dumps({"id": t.id, "source": t.source, "tokens": " ".join(tune_tokens(t))}) + "\n")
        counts[split] = {name: {"tunes": sum(t.source == name for t in tunes),
                                "notes": sum(len(t.sounding()) for t in tunes if t.source == name)} for name in names}
    import music21

    manifest = {"format": FORMAT, "music21": music21.__version__, "collections": list(names),
                "files_read": len(files), "tunes_read": len(raws), "dropped": dropped, "counts": counts,
                "parse_s": round(parse_s, 1), "workers": workers, "max_files": max_files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    log(f"{out}: {sum(len(v) for v in rows.values())} tunes "
        f"({', '.join(f'{s} {len(v)}' for s, v in rows.items())}), parsed in {parse_s:.0f} s")
    return manifest


def load_split(data_dir, split: str) -> list[Tune]:
    """The tunes of one split written by :func:`build_dataset`."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not valid (valid: {', '.join(SPLITS)})")
    path = Path(data_dir) / f"{split}.jsonl"
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            out.append(tokens_tune(row["tokens"].split(), id=row["id"], source=row["source"]))
    return out


__all__ = ["Tune", "TuneNote", "tune_tokens", "tokens_tune", "split_of", "estimate_key", "fit_chords",
           "chord_region_ticks", "build_dataset", "load_split", "TICKS_PER_QUARTER", "PITCH_RANGE", "QUALITIES",
           "SPLITS", "FORMAT"]
