"""The song folder: what a render writes, and the :class:`Song` handle the API returns."""

from __future__ import annotations

import hashlib
import json
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
    "voice_reference": "voice/reference.flac",  # a cloned voice: the reference as analysed ...
    "voice_plan": "voice/conversion.json",  # ... and the frozen conversion, for converting edited lines
}


class Song:
    """A rendered song: its folder, the paths of its files and its representations.

    Opened from a folder, the representations are read when first used (an edit that needs only
    the lead sheet does not parse the arrangement).
    """

    def __init__(self, folder: str | Path, lead_sheet: LeadSheet | None = None, arrangement: Arrangement | None = None,
                 vocal_score: VocalScore | None = None, manifest: dict | None = None, *, lazy: bool = False):
        self.folder = Path(folder)
        self.manifest = manifest if manifest is not None else {}
        self._loaded: dict = {} if lazy else {"lead_sheet": lead_sheet, "arrangement": arrangement,
                                              "vocal_score": vocal_score}

    def _get(self, name: str, loader):
        if name not in self._loaded:
            self._loaded[name] = loader()
        return self._loaded[name]

    @property
    def lead_sheet(self) -> LeadSheet:
        return self._get("lead_sheet", lambda: LeadSheet.load(self.path("leadsheet")))

    @property
    def arrangement(self) -> Arrangement:
        return self._get("arrangement", lambda: Arrangement.load(self.path("arrangement")))

    @property
    def vocal_score(self) -> VocalScore | None:
        path = self.path("vocal_score")
        return self._get("vocal_score", lambda: VocalScore.load(path) if path.exists() else None)

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
        if not (folder / FILES["leadsheet"]).is_file():
            raise SongFolderError(f"{folder / FILES['leadsheet']}: missing (valid: a folder written by 'songwright render')")
        return cls(folder, manifest=manifest, lazy=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
