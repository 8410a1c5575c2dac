"""Edits of a song folder as transactions: a staging copy, the previous version of every file the
edit replaces kept under ``history/``, and an atomic move into place; ``undo`` restores them.

The staging copy hard-links the source's files, and every write replaces a file by renaming a
new one over it, so the source folder is never modified (unless the edit is in place, when the
finished staging folder replaces it in one rename).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from representations.atomic import atomic_write_text, recover_dir, replace_dir
from representations.errors import SongFolderError

from .song import FILES, Song

HISTORY = "history"


def _link_tree(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst``, hard-linking files where the file system allows."""
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if f.startswith("."):
                continue
            try:
                os.link(Path(root) / f, dst / rel / f)
            except OSError:
                shutil.copy2(Path(root) / f, dst / rel / f)


class SongEdit:
    """One edit of a song folder: ``with SongEdit(src, out, op=..., args=...) as e: ...``.

    Inside, write through :meth:`path_for_write` (which keeps the old file in the history
    entry) and finish with :meth:`commit`. An exception leaves no trace: the staging folder is
    removed and the source and target stay as they were.
    """

    def __init__(self, source: str | Path, out_dir: str | Path | None, *, op: str, args: dict, in_place: bool = False):
        self.source = Path(source)
        recover_dir(self.source)
        Song.open(self.source)  # refuses anything that is not a song folder
        if out_dir is None or Path(out_dir).resolve() == self.source.resolve():
            if not in_place:
                raise SongFolderError(f"{self.source}: editing the source folder needs --in-place (valid: -o OUT_DIR, or --in-place)")
            out_dir = self.source
        elif in_place:
            raise SongFolderError("--in-place and -o OUT_DIR name different folders (valid: one of them)")
        self.out = Path(out_dir)
        recover_dir(self.out)
        self.op, self.args = op, args
        self.staging = self.out.with_name(f".{self.out.name}.edit-{os.getpid()}")
        self.changed: list[str] = []
        self.added: list[str] = []
        self.entry: Path | None = None
        self.t0 = time.perf_counter()

    def __enter__(self) -> "SongEdit":
        if self.staging.exists():
            shutil.rmtree(self.staging)
        _link_tree(self.source, self.staging)
        hist = self.staging / HISTORY
        hist.mkdir(exist_ok=True)
        n = 1 + max((int(p.name.split("-", 1)[0]) for p in hist.iterdir() if p.name.split("-", 1)[0].isdigit()), default=0)
        self.entry = hist / f"{n:04d}-{self.op}"
        (self.entry / "before").mkdir(parents=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)

    @property
    def song(self) -> Song:
        return Song.open(self.staging)

    def path_for_write(self, rel: str) -> Path:
        """The staging path of ``rel`` to write; its current version is kept for undo."""
        target = self.staging / rel
        if rel in self.changed or rel in self.added:
            return target
        if target.exists():
            keep = self.entry / "before" / rel
            keep.parent.mkdir(parents=True, exist_ok=True)
            os.link(target, keep)
            self.changed.append(rel)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.added.append(rel)
        return target

    def remove(self, rel: str) -> None:
        """Remove ``rel`` from the song (kept in the history entry)."""
        target = self.staging / rel
        if target.exists():
            self.path_for_write(rel)
            target.unlink()

    def commit(self, details: dict) -> Song:
        """Record the edit in ``history/`` and update the manifest, then move the folder into place."""
        manifest_rel = FILES["manifest"]
        manifest_path = self.path_for_write(manifest_rel)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.setdefault("edits", []).append(self.entry.name)
        manifest["files"] = sorted(str(p.relative_to(self.staging)) for p in self.staging.rglob("*")
                                   if p.is_file() and not str(p.relative_to(self.staging)).startswith(HISTORY))
        record = {
            "op": self.op,
            "args": self.args,
            "source": str(self.source),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "seconds": round(time.perf_counter() - self.t0, 3),
            "changed": sorted(self.changed),
            "added": sorted(self.added),
        } | details
        manifest["last_edit"] = {k: record[k] for k in ("op", "args", "seconds")} | {
            k: v for k, v in details.items() if k in ("bars", "seconds_range")}
        atomic_write_text(manifest_path, json.dumps(manifest, indent=1, ensure_ascii=False))
        atomic_write_text(self.entry / "edit.json", json.dumps(record, indent=1, ensure_ascii=False))
        replace_dir(self.staging, self.out)
        return Song.open(self.out)


def history(song_dir: str | Path) -> list[dict]:
    """The edits recorded in a song folder, oldest first."""
    hist = Path(song_dir) / HISTORY
    out = []
    for entry in sorted(hist.iterdir()) if hist.is_dir() else []:
        f = entry / "edit.json"
        if f.is_file():
            out.append(json.loads(f.read_text(encoding="utf-8")) | {"entry": entry.name})
    return out


def undo(song_dir: str | Path) -> dict:
    """Restore the song folder to its state before its latest edit (atomically); returns that edit."""
    song_dir = Path(song_dir)
    recover_dir(song_dir)
    Song.open(song_dir)
    entries = history(song_dir)
    if not entries:
        raise SongFolderError(f"{song_dir}: no edits to undo (history/ is empty)")
    last = entries[-1]
    staging = song_dir.with_name(f".{song_dir.name}.undo-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        _link_tree(song_dir, staging)
        entry = staging / HISTORY / last["entry"]
        for rel in last["added"]:
            p = staging / rel
            if p.exists():
                p.unlink()
        for rel in last["changed"]:
            os.replace(entry / "before" / rel, staging / rel)
        shutil.rmtree(entry)
        replace_dir(staging, song_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return last
