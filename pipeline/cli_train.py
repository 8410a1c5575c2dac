"""Commands that build the melody data set and train the learned planner's melody model.

``songwright train data`` reads music21's corpus into a tokenised data set;
``songwright train melody`` trains the model on it within a wall-clock budget.
"""

from __future__ import annotations

import os
from pathlib import Path

from representations.errors import SongwrightError


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/songwright`` (default ``~/.cache/songwright``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "songwright"


def cmd_train_data(args) -> int:
    from generators.melody_data import build_dataset

    if args.workers < 1:
        raise SongwrightError(f"--workers {args.workers}: must be at least 1")
    out = Path(args.output) if args.output else cache_dir() / "melody-data"
    build_dataset(out, workers=args.workers, max_files=args.max_files)
    return 0


def cmd_train_melody(args) -> int:
    data = Path(args.data) if args.data else cache_dir() / "melody-data"
    if not (data / "manifest.json").is_file():
        raise SongwrightError(f"--data {data}: no melody data set there (valid: a folder written by "
                              f"'songwright train data -o {data}')")
    if not args.minutes > 0:
        raise SongwrightError(f"--minutes {args.minutes}: must be more than 0")
    if args.steps is not None and args.steps < 1:
        raise SongwrightError(f"--steps {args.steps}: must be at least 1")
    from generators.melody_model import MelodyModelConfig
    from generators.melody_train import train_melody, write_model_card

    config = MelodyModelConfig.tiny(seed=args.seed) if args.tiny else MelodyModelConfig(seed=args.seed)
    out = Path(args.output) if args.output else cache_dir() / "melody-model"
    metrics = train_melody(data, out, config=config, minutes=args.minutes, steps=args.steps,
                           threads=args.threads or None)
    write_model_card(out, metrics, data_dir=data)
    print(f"{out}: {metrics['parameters']} parameters, {metrics['steps']} steps in {metrics['seconds']:.0f} s, "
          f"validation {metrics['best_valid_nll']:.3f} nats per note")
    return 0


def add_commands(sub) -> None:
    """Add ``train data`` and ``train melody`` to the ``songwright`` subcommands."""
    t = sub.add_parser("train", help="build the melody data set and train the learned planner's model")
    tsub = t.add_subparsers(dest="train_command", required=True)
    d = tsub.add_parser("data", help="tokenise music21's folk songs and chorales into a data set")
    d.add_argument("-o", "--output", help="data set folder (default: ~/.cache/songwright/melody-data)")
    d.add_argument("--workers", type=int, default=2, help="processes reading the corpus")
    d.add_argument("--max-files", type=int, help="read only the first N files of each collection")
    d.set_defaults(func=cmd_train_data)
    m = tsub.add_parser("melody", help="train the melody model within a wall-clock budget")
    m.add_argument("--minutes", type=float, default=45.0, help="wall-clock budget in minutes (default 45)")
    m.add_argument("--steps", type=int, help="optimiser steps (default: as many as fit the budget)")
    m.add_argument("--data", help="data set folder (default: ~/.cache/songwright/melody-data)")
    m.add_argument("-o", "--output", help="checkpoint folder (default: ~/.cache/songwright/melody-model)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    m.add_argument("--tiny", action="store_true", help="the tiny test size (2 layers, width 16)")
    m.set_defaults(func=cmd_train_melody)
