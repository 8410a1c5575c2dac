"""SongPipeline: the one place that chains the stages, spec → song folder.

plan (LeadSheet) → arrange (Arrangement) → render (stems) → sing (vocals) → mix → write.
Everything is written into a staging folder beside the target and moved into place at the end,
so a failed or killed render leaves the previous folder (or none), never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from importlib import metadata
from pathlib import Path

import numpy as np
import yaml

from representations.atomic import atomic_write_text, replace_dir
from representations.audio import Audio, StemSet
from representations.errors import SpecError

from . import backends
from .progress import StageProgress
from .song import FILES, FOLDER_FORMAT, Song
from .spec import SongSpec

STAGES = ["plan", "arrange", "render", "sing", "mix", "write"]
SAMPLE_RATE = 44100


def spec_hash(spec: SongSpec) -> str:
    blob = json.dumps(spec.spec_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("songwright", "numpy", "pyworld", "piper-tts", "pyfluidsynth", "pedalboard", "music21", "pyloudnorm"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


class SongPipeline:
    """Renders song specs into song folders.

    Parameters
    ----------
    backends : dict, optional
        Backend name per role (planner, arranger, renderer, singer, mixer); the defaults are the
        weight-free CPU path. A spec's own ``backends`` field overrides these.
    progress : bool
        Draw a progress bar per stage on stderr.
    """

    def __init__(self, *, backends: dict[str, str] | None = None, progress: bool = False):
        self.backend_names = dict(globals()["backends"].default_names()) | dict(backends or {})
        self.progress = progress
        self._cache: dict[tuple[str, str], object] = {}

    def _backend(self, role: str, spec: SongSpec):
        name = spec.backends.get(role, self.backend_names[role])
        key = (role, name)
        if key not in self._cache:
            self._cache[key] = backends.create(role, name)
        return self._cache[key]

    # ---- stages -------------------------------------------------------------------------------
    def plan(self, spec: SongSpec):
        """The lead sheet of ``spec``: planned, or read from its MusicXML ``leadsheet``."""
        if spec.leadsheet:
            from .leadsheet_import import lead_sheet_from_file

            return lead_sheet_from_file(spec)
        return self._backend("planner", spec).plan(spec, seed=spec.seed)

    def voice_name(self, spec: SongSpec, lead_sheet) -> str:
        from generators.style import parse_style
        from voice.presets import resolve_voice

        return resolve_voice(spec.voice, parse_style(lead_sheet.style_tags).vocal).name

    def render(self, spec: SongSpec, out_dir: str | Path) -> Song:
        """Render ``spec`` into the song folder ``out_dir`` (created or replaced atomically)."""
        out_dir = Path(out_dir)
        progress = StageProgress(STAGES, show=self.progress)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        try:
            song = self._render_into(spec, staging, progress)
            replace_dir(staging, out_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        song.folder = out_dir
        return song

    def _render_into(self, spec: SongSpec, folder: Path, progress: StageProgress) -> Song:
        with progress.stage("plan"):
            lead_sheet = self.plan(spec)
        with progress.stage("arrange"):
            arrangement = self._backend("arranger", spec).arrange(lead_sheet, seed=spec.seed)
        with progress.stage("render"):
            stems = self._backend("renderer", spec).render(arrangement)
        n_samples = max(a.samples.shape[0] for a in stems.stems.values())
        with progress.stage("sing"):
            vocal_score, vocals = self.sing(spec, lead_sheet, n_samples)
        with progress.stage("mix"):
            mixer = self._backend("mixer", spec)
            if vocal_score is not None:
                mix, accompaniment = mixer.mix_with_accompaniment(stems, vocals=vocals)
            else:
                mix = accompaniment = mixer.mix(stems)
        with progress.stage("write", total=4) as advance:
            self._write(folder, spec, lead_sheet, arrangement, vocal_score, stems, vocals, mix, accompaniment, advance)
            manifest = {
                "format": FOLDER_FORMAT,
                "title": lead_sheet.title,
                "spec_hash": spec_hash(spec),
                "seed": spec.seed,
                "key": str(lead_sheet.key),
                "tempo_bpm": lead_sheet.tempo_bpm,
                "meter": str(lead_sheet.meter),
                "duration_s": round(n_samples / SAMPLE_RATE, 3),
                "language": lead_sheet.language,
                "voice": vocal_score.voice if vocal_score is not None else None,
                "backends": {role: spec.backends.get(role, n) for role, n in self.backend_names.items()},
                "versions": _versions(),
                "timings_s": progress.timings_s,
                "files": sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) + [FILES["manifest"]],
            }
        manifest["timings_s"] = dict(progress.timings_s)
        atomic_write_text(folder / FILES["manifest"], json.dumps(manifest, indent=1, ensure_ascii=False))
        return Song(folder, lead_sheet, arrangement, vocal_score, manifest)

    def sing(self, spec: SongSpec, lead_sheet, n_samples: int):
        """Vocal score and vocal audio (mono, ``n_samples`` long); silence for instrumentals."""
        if not lead_sheet.sung_notes():
            return None, Audio(np.zeros((n_samples, 1), np.float32), SAMPLE_RATE)
        from voice.score import vocal_score_from_leadsheet

        score = vocal_score_from_leadsheet(lead_sheet, voice=self.voice_name(spec, lead_sheet))
        audio = self._backend("singer", spec).sing(score)
        if audio.sample_rate != SAMPLE_RATE:
            raise SpecError(f"singer returned {audio.sample_rate} Hz audio (valid: {SAMPLE_RATE})")
        samples = np.zeros((n_samples, 1), np.float32)
        m = audio.mono()[:n_samples]
        samples[: len(m), 0] = m
        return score, Audio(samples, SAMPLE_RATE)

    # ---- files --------------------------------------------------------------------------------
    def _write(self, folder, spec, lead_sheet, arrangement, vocal_score, stems: StemSet, vocals, mix, accompaniment, advance):
        from representations.lrc import write_lrc
        from representations.midi import write_midi
        from representations.musicxml import write_musicxml

        atomic_write_text(folder / FILES["spec"], yaml.safe_dump(spec.spec_dict(), allow_unicode=True, sort_keys=False))
        lead_sheet.save(folder / FILES["leadsheet"])
        arrangement.save(folder / FILES["arrangement"])
        write_musicxml(lead_sheet, folder / FILES["musicxml"])
        write_midi(folder / FILES["midi"], arrangement, vocals=vocal_score)
        if vocal_score is not None:
            vocal_score.save(folder / FILES["vocal_score"])
            write_lrc(folder / FILES["lrc"], vocal_score, title=lead_sheet.title)
        else:
            atomic_write_text(folder / FILES["lrc"], f"[ti:{lead_sheet.title}]\n")
        advance()
        stems.save(folder / FILES["stems"])
        advance()
        vocals.save(folder / FILES["vocals"])
        accompaniment.save(folder / FILES["accompaniment"])
        advance()
        mix.save(folder / FILES["mix"])
        advance()
