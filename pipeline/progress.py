"""Progress shown on the terminal: one bar per pipeline stage (silent when not wanted)."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable


class StageProgress:
    """Times each stage; draws a tqdm bar per stage on stderr when ``show`` is true and tells
    ``on_stage`` (a studio's progress display, say) when each stage starts."""

    def __init__(self, stages: list[str], *, show: bool = True,
                 on_stage: Callable[[str, int, int], None] | None = None):
        self.stages = stages
        self.show = show
        self.on_stage = on_stage  # called as on_stage(name, index from 1, number of stages)
        self.timings_s: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, *, total: int = 1):
        """Context for one stage; yields a callable ``advance(n=1)`` for stages with sub-steps."""
        bar = None
        if self.on_stage is not None:
            self.on_stage(name, self.stages.index(name) + 1 if name in self.stages else 0, len(self.stages))
        if self.show:
            from tqdm import tqdm

            i = self.stages.index(name) + 1 if name in self.stages else 0
            bar = tqdm(total=total, desc=f"[{i}/{len(self.stages)}] {name:<10}", file=sys.stderr,
                       bar_format="{desc} |{bar:24}| {n_fmt}/{total_fmt} {elapsed}", leave=True)
        t0 = time.perf_counter()

        def advance(n: int = 1) -> None:
            if bar is not None:
                bar.update(n)

        try:
            yield advance
            if bar is not None:
                bar.n = bar.total
                bar.refresh()
        finally:
            self.timings_s[name] = round(self.timings_s.get(name, 0.0) + time.perf_counter() - t0, 3)
            if bar is not None:
                bar.close()
