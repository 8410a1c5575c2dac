"""Training the learned melody model on the tokenised corpus, within a wall-clock budget.

Training windows of ``max_len`` notes are cut at random offsets from the training tunes laid end
to end (each tune starts with "no previous note"); a share of windows (``chord_dropout``) is shown
without chords, so the model also works, and can be measured, without them. AdamW with a linear
warm-up and a cosine decay over a number of steps fixed up front: given ``steps`` the run is
deterministic (seeded data order, ``torch.use_deterministic_algorithms``); given only minutes, the
step count is set from the speed of the first steps and recorded, so the run can be repeated
exactly with ``steps``. The weights with the best validation loss are kept.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from .melody_data import load_split
from .melody_model import FEATURE_SIZES, note_features


def _stream(rows: list[dict[str, list[int]]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([np.asarray(r[k], dtype=np.int64) for r in rows]) for k in (*FEATURE_SIZES, "target")}


def train_melody(data_dir, out_dir, *, config=None, minutes: float = 45.0, steps: int | None = None,
                 batch_size: int = 32, lr: float = 2e-3, warmup: int = 100, eval_every: int = 100,
                 max_valid: int = 400, threads: int | None = 1, log=print) -> dict:
    """Train a :class:`~generators.melody_model.MelodyTransformer` and save it in ``out_dir``.

    Parameters
    ----------
    data_dir : str or Path
        A data set written by :func:`generators.melody_data.build_dataset`.
    out_dir : str or Path
        Receives ``config.json``, ``model.safetensors`` and ``metrics.json``.
    config : MelodyModelConfig, optional
        Model size and seed (default: :class:`MelodyModelConfig()`).
    minutes : float
        Wall-clock budget (minutes) for the whole run, evaluation included.
    steps : int, optional
        Optimiser steps (default: as many as fit the budget, measured on the first 20 steps).
    threads : int, optional
        ``torch.set_num_threads`` (default 1: the machine is shared).

    Returns
    -------
    dict
        The metrics written to ``metrics.json``: steps, seconds, losses (nats per note), parameters.
    """
    import torch

    with torch.random.fork_rng(devices=[]):  # dropout draws from the global generator: seed it, then restore it
        torch.manual_seed((config.seed if config else 0) + 1)
        return _train(data_dir, out_dir, config=config, minutes=minutes, steps=steps, batch_size=batch_size, lr=lr,
                      warmup=warmup, eval_every=eval_every, max_valid=max_valid, threads=threads, log=log)


def _train(data_dir, out_dir, *, config, minutes, steps, batch_size, lr, warmup, eval_every, max_valid, threads,
           log) -> dict:
    import torch
    from torch.nn import functional as F

    from .melody_model import MelodyModelConfig, MelodyTransformer, nll_per_note

    t0 = time.perf_counter()
    budget_s = 60.0 * minutes
    if threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    config = config or MelodyModelConfig()
    train_rows = [note_features(t) for t in load_split(data_dir, "train")]
    valid_rows = [note_features(t) for t in load_split(data_dir, "valid")][:max_valid]
    stream = _stream(train_rows)
    n = len(stream["target"])
    log(f"{len(train_rows)} training tunes, {n} notes; {len(valid_rows)} validation tunes")
    model = MelodyTransformer(config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    rng = np.random.default_rng(config.seed)
    L = config.max_len
    planned = steps
    best, best_state, history = math.inf, None, []
    step, tokens, t_train = 0, 0, time.perf_counter()
    while planned is None or step < planned:
        offsets = rng.integers(0, n - L, size=batch_size)
        idx = offsets[:, None] + np.arange(L)[None]
        feats = {k: torch.from_numpy(stream[k][idx]) for k in FEATURE_SIZES}
        # a window may begin inside a tune: its first step still sees that tune's previous pitch
        no_chord = torch.from_numpy(rng.random(batch_size) < config.chord_dropout)
        feats["chord"] = torch.where(no_chord[:, None], torch.zeros_like(feats["chord"]), feats["chord"])
        target = torch.from_numpy(stream["target"][idx])
        if step < warmup or planned is None:  # the plan is fixed before the warm-up ends
            scale = min(1.0, (step + 1) / warmup)
        else:
            progress = min(1.0, (step - warmup) / max(1, planned - warmup))
            scale = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g["lr"] = lr * scale
        model.train()
        loss = F.cross_entropy(model(feats).reshape(-1, model.head.out_features), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += target.numel()
        if planned is None and step == min(20, warmup):
            per_step = (time.perf_counter() - t_train) / step
            evals = 1.06  # evaluation takes a few per cent of the time
            planned = max(step + 1, int((budget_s - (time.perf_counter() - t0)) / (per_step * evals)))
            log(f"{per_step:.2f} s per step: planning {planned} steps")
        if step % eval_every == 0 or step == planned:
            valid = nll_per_note(model, valid_rows)
            history.append({"step": step, "train_loss": round(float(loss.detach()), 4), "valid_nll": round(valid, 4),
                            "elapsed_s": round(time.perf_counter() - t0, 1)})
            log(f"step {step}/{planned}: train {float(loss.detach()):.3f}, valid {valid:.3f} nats/note, "
                f"{time.perf_counter() - t0:.0f} s")
            if valid < best:
                best, best_state = valid, {k: v.detach().clone() for k, v in model.state_dict().items()}
        if time.perf_counter() - t0 > budget_s:
            log(f"wall budget of {minutes:g} min reached at step {step}")
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    out = Path(out_dir)
    model.save_pretrained(out)
    metrics = {"minutes": minutes, "steps_planned": planned, "steps": step, "batch_size": batch_size, "max_len": L, "lr": lr,
               "notes_seen": tokens, "train_notes": int(n), "epochs": round(tokens / n, 2),
               "seconds": round(time.perf_counter() - t0, 1), "threads": threads, "parameters": model.n_parameters(),
               "best_valid_nll": round(best, 4), "history": history, "config": config.to_dict()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    return metrics


def write_model_card(out_dir, metrics: dict, *, data_dir) -> Path:
    """Write ``MODEL_CARD.md`` (data, corpus licence, training command, metrics) beside the weights."""
    out = Path(out_dir)
    manifest = json.loads((Path(data_dir) / "manifest.json").read_text(encoding="utf-8"))
    c = metrics["config"]
    rows = "\n".join(f"| {s} | " + " | ".join(f"{v['tunes']} / {v['notes']}" for v in manifest["counts"][s].values())
                     + " |" for s in manifest["counts"])
    names = " | ".join(manifest["counts"]["train"])
    last = metrics["history"][-1] if metrics["history"] else {}
    planned, done = metrics["steps_planned"], metrics["steps"]
    repeat = (f"--steps {done}" if planned == done else
              f"--minutes {metrics.get('minutes', 45):g}  # stopped by the wall budget at step {done} of {planned}")
    text = f"""# Songwright melody model

A decoder-only transformer that picks the pitch of each sung note for the `learned` planner
(`generators/learned_planner.py`), given the previous pitches, each note's duration and place in
the bar, meter, mode, chord, stress and place in the phrase. Code: `generators/melody_model.py`.

- Size: {metrics['parameters']:,} parameters; {c['n_layers']} layers, width {c['d_model']}, {c['n_heads']} heads,
  feed-forward {c['d_ff']}, context {c['max_len']} notes; seed {c['seed']}.
- Output: pitch in semitones above the tonic, {metrics.get('pitch_range', '-15 to +27')}.

## Data

music21 {manifest['music21']} corpus, tokenised by `songwright train data` (`generators/melody_data.py`):
Essen folk song collection (ABC), O'Neill's Music of Ireland (1850), Ryan's Mammoth Collection and
the Bach chorales (soprano, harmony from all voices). Key-normalised, one chord per half bar or bar
estimated from the notes. {manifest['tunes_read']} tunes read, {manifest['dropped']['irregular or out of range']}
dropped as irregular or out of range, {manifest['dropped']['duplicate']} as duplicates; split by a hash of the tune id.

| split (tunes / notes) | {names} |
|---|{'---|' * len(manifest['counts']['train'])}
{rows}

Licence: the corpus ships inside music21 (software BSD-3-Clause); by music21's corpus/license.txt
its encodings are distributed with the encoders' permission, may carry restrictions on commercial
use, and the music21 creators assume no copyright or change in licensing. The Essen collection's
legal status is called unclear in its own license.txt (encoded under Helmut Schaffrath). The
compositions (folk songs, O'Neill 1850, Ryan 1883, Bach) are in the public domain. These weights
are a statistical summary of that data; check the corpus terms before commercial use.

## Training

```sh
songwright train data -o build/melody-data
nice -n 19 songwright train melody --data build/melody-data {repeat} -o generators/models/melody
```
{metrics['steps']} steps of {metrics['batch_size']} windows of {metrics['max_len']} notes ({metrics['epochs']} epochs of
{metrics['train_notes']:,} training notes) in {metrics['seconds'] / 60:.1f} min on one thread of a shared 2-core CPU;
AdamW, learning rate {metrics['lr']}, warm-up and cosine decay; {c['chord_dropout']:.0%} of windows without chords.

## Metrics (nats per note)

- validation NLL, best: {metrics['best_valid_nll']}; last training loss {last.get('train_loss')}
- test-set figures against an n-gram baseline: `benchmarks/melody_eval.py`.
"""
    (out / "MODEL_CARD.md").write_text(text, encoding="utf-8")
    return out / "MODEL_CARD.md"
