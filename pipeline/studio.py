"""The studio's jobs: create, edit and re-voice songs inside one work folder.

This is the part of the web studio that knows nothing about Gradio (the app is
:mod:`pipeline.studio_app`). Every song the studio makes is a *job*: a folder
``<workdir>/<job id>/`` holding the song folder ``song/``, the lead-sheet picture
``leadsheet.png`` and, when one was given, the checked voice reference ``reference.wav``.
Job ids are made here (time + random hex) and checked on the way back in, so nothing a user
types can make a path that leaves the work folder.

Limits (see also ``songwright studio --help``): an upload is at most :data:`MAX_UPLOAD_BYTES`
(50 MB); a voice reference holds :data:`MIN_REFERENCE_S` to :data:`MAX_REFERENCE_S` seconds of
sound (3-30 s, after trimming silence).
"""

from __future__ import annotations

import functools
import importlib
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

from representations.errors import AudioInputError, BackendUnavailable, SongwrightError

from .pipeline import SongPipeline
from .song import FILES, Song

DEFAULT_WORKDIR = Path("~/.cache/songwright/studio")
MAX_UPLOAD_BYTES = 50 * 2**20
MIN_REFERENCE_S = 3.0
MAX_REFERENCE_S = 30.0
SONG = "song"
PICTURE = "leadsheet.png"
REFERENCE = "reference.wav"
_JOB_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{8}$")

# operations written beside the pipeline; the studio offers them where this version has them
EDIT_LINE = ("pipeline.edit", ("edit_lyric_line",))
REPAINT = ("pipeline.edit", ("repaint_bars",))
CLONE = ("pipeline.voice_jobs", ("clone_voice", "convert_voice"))

def find_operation(op: tuple[str, tuple[str, ...]]) -> Callable | None:
    """The function of an optional operation (module, candidate names), or None when absent."""
    module, names = op
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    return None


def require_operation(op: tuple[str, tuple[str, ...]], what: str) -> Callable:
    fn = find_operation(op)
    if fn is None:
        raise BackendUnavailable(f"{what} is not available in this version of Songwright ({op[0]}.{op[1][0]} is missing)")
    return fn


class Workspace:
    """The studio's work folder: one sub-folder per job, nothing written outside it."""

    def __init__(self, root: str | Path = DEFAULT_WORKDIR):
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def new_job(self) -> str:
        """Make a new, empty job folder; returns its id (``YYYYmmdd-HHMMSS-<8 hex>``)."""
        job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
        (self.root / job_id).mkdir()
        return job_id

    def job_dir(self, job_id: str) -> Path:
        """The folder of an existing job; an id not made by :meth:`new_job` is refused."""
        job_id = (job_id or "").strip()
        if not _JOB_ID.match(job_id):
            raise SongwrightError(f"song id {job_id[:40]!r} is not valid (valid: an id the studio gave, like 20260101-120000-1a2b3c4d)")
        path = (self.root / job_id).resolve()
        if path.parent != self.root or not path.is_dir():
            raise SongwrightError(f"song id {job_id}: no such song in {self.root}")
        return path

    def song(self, job_id: str) -> Song:
        return Song.open(self.job_dir(job_id) / SONG)

    def discard(self, job_id: str) -> None:
        path = (self.root / job_id).resolve()
        if path.parent == self.root and _JOB_ID.match(job_id):
            shutil.rmtree(path, ignore_errors=True)

    def jobs(self) -> list[str]:
        """Ids of the finished songs, newest first (to the second)."""
        return sorted((p.name for p in self.root.iterdir() if _JOB_ID.match(p.name) and (p / SONG / FILES["manifest"]).is_file()),
                      reverse=True)


class StudioPipeline(SongPipeline):
    """The studio's SongPipeline: one render at a time, backends loaded once and kept.

    It draws the pipeline's per-stage tqdm bars (``progress=True``); the app's ``gr.Progress``
    tracks those bars, so the browser shows each stage as it runs.
    """

    def __init__(self, **kwargs):
        super().__init__(**({"progress": True} | kwargs))
        self._lock = threading.Lock()

    def render(self, spec, out_dir, *args, **kwargs) -> Song:
        with self._lock:
            return super().render(spec, out_dir, *args, **kwargs)


@functools.lru_cache(maxsize=1)
def default_pipeline() -> StudioPipeline:
    """The process's studio pipeline (its backends are loaded on the first render and kept)."""
    return StudioPipeline()


def make_spec(*, lyrics: str, title: str = "", tags: str = "", key: str | None = None, tempo: float | None = None,
              meter: str | None = None, voice: str | None = None, seed: int = 0, instrumental: bool = False):
    """A SongSpec from the studio's form, validated like a YAML file (messages name the field)."""
    import yaml

    from .spec import SongSpec

    data = {"title": (title or "").strip() or "Untitled", "tags": tags or "", "seed": int(seed or 0)}
    for name, value in (("key", key), ("tempo", tempo), ("meter", meter), ("voice", voice)):
        if value not in (None, "", "auto", 0):
            data[name] = value
    if instrumental:
        data["instrumental"] = True
    data["lyrics"] = lyrics or ""
    return SongSpec.from_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), source="form")


def check_upload(path: str | Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """An uploaded file's path, refused when missing, empty or over ``max_bytes``."""
    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"{path.name}: the upload did not arrive")
    size = path.stat().st_size
    if size > max_bytes:
        raise AudioInputError(f"{path.name}: {size / 2**20:.1f} MB is too large (valid: at most {max_bytes / 2**20:g} MB)")
    return path


def save_reference(upload: str | Path, job_dir: Path) -> Path:
    """Check an uploaded voice reference and store it in the job as mono 44.1 kHz WAV (3-30 s of sound)."""
    from representations.audio_input import read_audio_input

    audio = read_audio_input(check_upload(upload), min_s=MIN_REFERENCE_S, max_s=MAX_REFERENCE_S, sample_rate=44100,
                             mono=True, trim_silence=True, check_clipping=True)
    out = job_dir / REFERENCE
    audio.save(out)
    return out


def _finish(workspace: Workspace, job_id: str, song: Song) -> str:
    from .studio_plot import plot_lead_sheet

    plot_lead_sheet(song.lead_sheet, workspace.job_dir(job_id) / PICTURE)
    return job_id


def _job(workspace: Workspace, work: Callable[[str, Path], Song]) -> str:
    """Run ``work(job_id, job_dir)`` in a new job; a failed job leaves no folder behind."""
    job_id = workspace.new_job()
    try:
        song = work(job_id, workspace.job_dir(job_id))
        return _finish(workspace, job_id, song)
    except BaseException:
        workspace.discard(job_id)
        raise


def create_song(workspace: Workspace, spec, *, reference: str | Path | None = None,
                pipeline: SongPipeline | None = None) -> str:
    """Render ``spec`` into a new job; with ``reference``, the vocal is then converted to that voice.

    Returns the job id.
    """
    pipeline = pipeline or default_pipeline()
    clone = require_operation(CLONE, "singing in an uploaded voice") if reference else None

    def work(job_id: str, job_dir: Path) -> Song:
        ref = save_reference(reference, job_dir) if reference else None
        if clone is None:
            return pipeline.render(spec, job_dir / SONG)
        preset = pipeline.render(spec, job_dir / "preset")
        song = clone(preset.folder, ref, job_dir / SONG)
        shutil.rmtree(job_dir / "preset", ignore_errors=True)
        return song

    return _job(workspace, work)


def edit_line(workspace: Workspace, job_id: str, line: int, text: str) -> str:
    """A new job: song ``job_id`` with lyric line ``line`` (1-based) sung with the words ``text``."""
    fn = require_operation(EDIT_LINE, "editing lyrics")
    src = workspace.job_dir(job_id) / SONG
    if not (text or "").strip():
        raise SongwrightError("new words: empty (valid: the words to sing on the line)")
    return _job(workspace, lambda _id, job_dir: fn(src, int(line), text.strip(), job_dir / SONG))


def repaint(workspace: Workspace, job_id: str, first_bar: int, last_bar: int, *, seed: int | None = None,
            tags: str | None = None) -> str:
    """A new job: song ``job_id`` with bars ``first_bar``..``last_bar`` (1-based, inclusive) made anew."""
    fn = require_operation(REPAINT, "repainting bars")
    src = workspace.job_dir(job_id) / SONG
    return _job(workspace, lambda _id, job_dir: fn(src, (int(first_bar), int(last_bar)), job_dir / SONG,
                                                   seed=seed, tags=(tags or None)))


def convert_voice(workspace: Workspace, job_id: str, reference: str | Path) -> str:
    """A new job: song ``job_id`` sung in the voice of the uploaded ``reference``."""
    fn = require_operation(CLONE, "voice conversion")
    src = workspace.job_dir(job_id) / SONG

    def work(_id: str, job_dir: Path) -> Song:
        return fn(src, save_reference(reference, job_dir), job_dir / SONG)

    return _job(workspace, work)


def song_files(workspace: Workspace, job_id: str) -> dict:
    """What the studio shows of a job: paths of the mix, vocal, stems, picture and downloads, and the lyric lines."""
    job_dir = workspace.job_dir(job_id)
    song = Song.open(job_dir / SONG)
    downloads = [song.path(n) for n in ("mix", "vocals", "musicxml", "midi", "lrc")]
    lines = [line.text for line in song.lead_sheet.lyrics]
    return {
        "song": song,
        "mix": song.path("mix"),
        "vocals": song.path("vocals") if song.vocal_score is not None else None,
        "stems": song.stems,
        "picture": job_dir / PICTURE,
        "downloads": [p for p in downloads if p.is_file()],
        "lines": lines,
    }
