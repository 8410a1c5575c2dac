"""Batch rendering: many specs in parallel worker processes (or as Ray tasks), resumable.

A ledger (``OUT/ledger.jsonl``, one JSON line appended per finished song) records what was done;
a rerun skips songs whose folder is complete and whose spec has not changed, so a killed batch
continues where it stopped.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from representations.errors import SongwrightError, SpecError

LEDGER = "ledger.jsonl"


@dataclass
class BatchResult:
    spec: str
    folder: str
    status: str  # "ok" | "failed" | "skipped"
    seconds: float = 0.0
    reason: str = ""
    spec_hash: str = ""


def find_specs(specs_dir: Path) -> list[Path]:
    specs_dir = Path(specs_dir)
    if not specs_dir.is_dir():
        raise SpecError(f"{specs_dir}: not a folder of specs (valid: a folder holding .yaml files)")
    specs = sorted(p for p in specs_dir.rglob("*") if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
    if not specs:
        raise SpecError(f"{specs_dir}: no .yaml specs found")
    return specs


def folder_name(spec_path: Path, specs_dir: Path) -> str:
    rel = spec_path.relative_to(specs_dir).with_suffix("")
    return "__".join(rel.parts)


@functools.lru_cache(maxsize=1)
def _pipeline():
    """One pipeline per worker process, so its models load once for all its songs."""
    from .pipeline import SongPipeline

    return SongPipeline()


def render_one(spec_path: str, out_folder: str, threads: int | None = None) -> dict:
    """Render one spec (in a worker); never raises — failures come back as a result.

    ``threads``: this worker's share of the CPUs for Kokoro (unless the user chose a number):
    workers that each take every CPU wait on one another. Measured, four short Mandarin songs on
    two CPUs: one worker 20.7–21.2 s; two workers on two threads each 20.7–23.0 s, on one each
    17.6–18.3 s (the same bytes)."""
    if threads:
        from voice.speech import THREADS_ENV

        os.environ.setdefault(THREADS_ENV, str(threads))
    t0 = time.perf_counter()
    try:
        from .pipeline import spec_hash
        from .spec import SongSpec

        spec = SongSpec.from_yaml(spec_path)
        h = spec_hash(spec)
        _pipeline().render(spec, out_folder)
        return asdict(BatchResult(spec_path, out_folder, "ok", round(time.perf_counter() - t0, 2), "", h))
    except SongwrightError as e:
        reason = " ".join(str(e).split())
    except Exception as e:  # a crash in one song must not stop the batch
        reason = f"internal error: {type(e).__name__}: {e}".splitlines()[0]
        traceback.print_exc(file=sys.stderr)
    return asdict(BatchResult(spec_path, out_folder, "failed", round(time.perf_counter() - t0, 2), reason))


def read_ledger(out_dir: Path) -> dict[str, dict]:
    """The last ledger entry per spec path (lines cut short by a kill are ignored)."""
    last: dict[str, dict] = {}
    p = out_dir / LEDGER
    if p.exists():
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                last[entry["spec"]] = entry
            except (ValueError, KeyError):
                continue
    return last


def append_ledger(out_dir: Path, result: dict) -> None:
    with open(out_dir / LEDGER, "a", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def is_done(entry: dict | None, spec_path: Path) -> bool:
    """True when the ledger says ok, the folder is complete and the spec is unchanged."""
    if not entry or entry.get("status") != "ok":
        return False
    manifest = Path(entry["folder"]) / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        from .pipeline import spec_hash
        from .spec import SongSpec

        return json.loads(manifest.read_text())["spec_hash"] == spec_hash(SongSpec.from_yaml(spec_path))
    except (SongwrightError, ValueError, KeyError, OSError):
        return False


def run_batch(specs_dir: str | Path, out_dir: str | Path, *, workers: int = 1, ray_address: str | None = None,
              use_ray: bool = False, progress: bool = True) -> list[BatchResult]:
    """Render every spec under ``specs_dir`` into ``out_dir/<name>``; returns one result per spec."""
    specs_dir, out_dir = Path(specs_dir), Path(out_dir)
    specs = find_specs(specs_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ledger = read_ledger(out_dir)
    results: dict[str, BatchResult] = {}
    todo: list[tuple[str, str]] = []
    for p in specs:
        folder = str(out_dir / folder_name(p, specs_dir))
        if is_done(ledger.get(str(p)), p):
            e = ledger[str(p)]
            results[str(p)] = BatchResult(str(p), folder, "skipped", 0.0, "already rendered", e.get("spec_hash", ""))
        else:
            todo.append((str(p), folder))

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc="songs", file=sys.stderr)

    def done(res: dict) -> None:
        append_ledger(out_dir, res)
        results[res["spec"]] = BatchResult(**res)
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{Path(res['spec']).name}: {res['status']}")

    if todo:
        if use_ray or ray_address:
            _run_ray(todo, done, workers=workers, address=ray_address)
        elif workers <= 1:
            for spec, folder in todo:
                done(render_one(spec, folder))
        else:
            from voice.speech import available_cpus

            share = max(1, available_cpus() // workers)
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                futures = [pool.submit(render_one, spec, folder, share) for spec, folder in todo]
                for fut in as_completed(futures):
                    done(fut.result())
    if bar is not None:
        bar.close()
    return [results[str(p)] for p in specs]


def _run_ray(todo, done, *, workers: int, address: str | None) -> None:
    try:
        import ray
    except ImportError:
        from representations.errors import BackendUnavailable

        raise BackendUnavailable("batch --ray needs the 'ray' package (pip install 'songwright[ray]')") from None
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
        started = True
    try:
        task = ray.remote(num_cpus=1)(render_one)
        pending = [task.remote(spec, folder, 1) for spec, folder in todo]  # one CPU each
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                done(ray.get(ref))
    finally:
        if started:
            ray.shutdown()


def summary_table(results: list[BatchResult]) -> str:
    rows = [("spec", "status", "seconds", "reason")]
    rows += [(Path(r.spec).name, r.status, f"{r.seconds:.1f}", r.reason) for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}" for a, b, c, d in rows]
    n_ok = sum(r.status in ("ok", "skipped") for r in results)
    lines.append(f"{n_ok}/{len(results)} songs ok, {sum(r.status == 'failed' for r in results)} failed")
    return "\n".join(lines)
