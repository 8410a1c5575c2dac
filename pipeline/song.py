"""The song folder: what a render writes, and the :class:`Song` handle the API returns."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from representations.arrangement import Arrangement
from representations.errors import SongFolderError
from representations.leadsheet import LeadSheet
from representations.vocal_score import VocalScore

FOLDER_FORMAT = "songwright.song/1"

# file names inside a song folder (the output contract scripts depend on)
FILES = {
    "spec": "spec.yaml",
    "leadsheet": "leadsheet.json",
    "musicxml": "leadsheet.musicxml",
    "midi": "arrangement.mid",
    "arrangement": "arrangement.json",
    "vocal_score": "vocal_score.json",
    "lrc": "lyrics.lrc",
    "vocals": "vocals.wav",
    "accompaniment": "accompaniment.wav",
    "mix": "mix.wav",
    "manifest": "manifest.json",
    "stems": "stems",
}


@dataclass
class Song:
    """A rendered song: its folder, the paths of its files and its representations."""

    folder: Path
    lead_sheet: LeadSheet
    arrangement: Arrangement
    vocal_score: VocalScore | None
    manifest: dict = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """Path of one of the folder's files by its role name (see ``FILES``)."""
        return self.folder / FILES[name]

    @property
    def stems(self) -> dict[str, Path]:
        return {p.stem: p for p in sorted((self.folder / FILES["stems"]).glob("*.wav"))}

    @classmethod
    def open(cls, folder: str | Path) -> "Song":
        """Open an existing song folder; anything else raises :class:`SongFolderError`."""
        folder = Path(folder)
        manifest_path = folder / FILES["manifest"]
        if not manifest_path.is_file():
            raise SongFolderError(f"{folder}: not a song folder (no {FILES['manifest']}; valid: a folder written by 'songwright render')")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as e:
            raise SongFolderError(f"{manifest_path}: unreadable manifest ({e})") from None
        if manifest.get("format") != FOLDER_FORMAT:
            raise SongFolderError(
                f"{manifest_path}: song folder format {manifest.get('format')!r} is not supported (valid: {FOLDER_FORMAT}; re-render the spec)"
            )
        vs_path = folder / FILES["vocal_score"]
        return cls(
            folder=folder,
            lead_sheet=LeadSheet.load(folder / FILES["leadsheet"]),
            arrangement=Arrangement.load(folder / FILES["arrangement"]),
            vocal_score=VocalScore.load(vs_path) if vs_path.exists() else None,
            manifest=manifest,
        )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
