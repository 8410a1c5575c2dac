"""SongPipeline: the one place that chains the stages, spec → song folder.

plan (LeadSheet) → arrange (Arrangement) → render (stems) → sing (vocals) → mix → write.
Everything is written into a staging folder beside the target and moved into place at the end,
so a failed or killed render leaves the previous folder (or none), never a half-written one.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import platform
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from representations.atomic import atomic_write_text, recover_dir, replace_dir
from representations.audio import Audio, StemSet
from representations.errors import SpecError
from voice.speech import inference_threads

from . import backends
from .progress import StageProgress
from .song import FILES, FOLDER_FORMAT, Song
from .spec import SongSpec

STAGES = ["plan", "arrange", "render", "sing", "mix", "write"]
SAMPLE_RATE = 44100
_BAND_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="band")  # the band mixed while vocals are sung
WAV_WRITERS = 3


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
        from .models import spec_base_dir

        name = spec.backends.get(role, self.backend_names[role])
        base_dir = spec_base_dir(spec)
        key = (role, name, json.dumps(spec.models, sort_keys=True), str(base_dir))
        if key not in self._cache:
            self._cache[key] = backends.create(role, name, models=spec.models or None, base_dir=base_dir)
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

    def render(self, spec: SongSpec, out_dir: str | Path, *,
               on_stage: Callable[[str, int, int], None] | None = None) -> Song:
        """Render ``spec`` into the song folder ``out_dir`` (created or replaced atomically);
        ``on_stage(name, index, n_stages)`` is called as each stage starts."""
        out_dir = Path(out_dir)
        progress = StageProgress(STAGES, show=self.progress, on_stage=on_stage)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        recover_dir(out_dir)
        if spec.voice_reference:  # a bad reference is refused before anything is rendered
            from .voice_jobs import read_reference

            read_reference(spec.voice_reference)
        staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        try:
            with progress.stage("plan"):
                lead_sheet = self.plan(spec)
            song = self.render_lead_sheet(spec, lead_sheet, lambda rel: staging / rel, progress=progress)
            replace_dir(staging, out_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        song.folder = out_dir
        return song

    def render_lead_sheet(self, spec: SongSpec, lead_sheet, path_for: Callable[[str], Path], *,
                          progress: StageProgress | None = None, vocals: Audio | None = None,
                          vocal_score=None) -> Song:
        """Arrange, render, sing, mix and write ``lead_sheet``; ``path_for(rel)`` gives the path
        each song-folder file is written to. ``vocals`` (with its ``vocal_score``) are used as
        they are instead of singing (a restyle keeps the sung take)."""
        progress = progress or StageProgress(STAGES, show=False)
        with progress.stage("arrange"):
            arrangement = self._backend("arranger", spec).arrange(lead_sheet, seed=spec.seed)
        with progress.stage("render"):
            renderer = self._backend("renderer", spec)
            if "lead_sheet" in inspect.signature(renderer.render).parameters:  # renderers that use style and melody
                stems = renderer.render(arrangement, lead_sheet=lead_sheet)
            else:
                stems = renderer.render(arrangement)
        n_samples = max(a.samples.shape[0] for a in stems.stems.values())
        voice_info: dict = {}
        mixer = self._backend("mixer", spec)
        band = self._mix_band_ahead(mixer, stems, lead_sheet) if vocals is None else None
        with progress.stage("sing"):
            if vocals is None:
                vocal_score, vocals = self.sing(spec, lead_sheet, n_samples)
                if vocal_score is not None and spec.voice_reference:
                    from .voice_jobs import apply_voice_reference

                    vocals, voice_info = apply_voice_reference(vocals, spec.voice_reference, vocal_score=vocal_score,
                                                               keep=path_for)
                    vocals = fit_length(vocals, n_samples)
                if vocal_score is not None:
                    harmony = self.sing_harmonies(spec, lead_sheet, vocal_score, n_samples)
                    if harmony is not None:
                        stems = StemSet(dict(stems.stems) | {"harmony_vocals": harmony})
            else:
                vocals = fit_length(vocals, n_samples)
        with progress.stage("mix"):
            extra = {"band": band.result()} if band is not None else {}
            result = mixer.mix_song(stems, vocals=vocals if vocal_score is not None else None, **extra)
        with progress.stage("write", total=4) as advance:
            self._write(path_for, spec, lead_sheet, arrangement, vocal_score, stems, vocals, result, advance)
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
                "mix_params": result.params.to_dict() if result.params else None,
                "accompaniment_params": result.accompaniment_params.to_dict() if result.accompaniment_params else None,
                "versions": _versions(),
            } | voice_info
        manifest["timings_s"] = dict(progress.timings_s)
        manifest["threads"] = inference_threads()  # what Kokoro ran on, for the timings
        manifest_path = path_for(FILES["manifest"])
        folder = manifest_path.parent
        manifest["files"] = sorted({str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                                    and not p.name.startswith(".") and not str(p.relative_to(folder)).startswith("history")}
                                   | {FILES["manifest"]})
        atomic_write_text(manifest_path, json.dumps(manifest, indent=1, ensure_ascii=False))
        return Song(folder, lead_sheet, arrangement, vocal_score, manifest)

    @staticmethod
    def _mix_band_ahead(mixer, stems: StemSet, lead_sheet) -> Future | None:
        """Start processing and mastering the band alone in a thread, while the vocals are sung
        (the singer leaves a CPU idle part of the time): the mix's own work, so the same bytes.
        None for an instrumental, a song with harmonies (a stem of the band is sung), or a mixer
        that cannot take the band in advance."""
        from generators.style import parse_style

        if (not lead_sheet.sung_notes() or parse_style(lead_sheet.style_tags).harmonies
                or "band" not in inspect.signature(mixer.mix_song).parameters):
            return None
        return _BAND_POOL.submit(mixer.mix_band, stems)

    def sing(self, spec: SongSpec, lead_sheet, n_samples: int):
        """Vocal score and vocal audio (mono, ``n_samples`` long); silence for instrumentals."""
        if not lead_sheet.sung_notes():
            return None, Audio(np.zeros((n_samples, 1), np.float32), SAMPLE_RATE)
        from voice.score import vocal_score_from_leadsheet

        score = vocal_score_from_leadsheet(lead_sheet, voice=self.voice_name(spec, lead_sheet))
        audio = self._backend("singer", spec).sing(score)
        if audio.sample_rate != SAMPLE_RATE:
            raise SpecError(f"singer returned {audio.sample_rate} Hz audio (valid: {SAMPLE_RATE})")
        return score, fit_length(audio, n_samples)

    def sing_harmonies(self, spec: SongSpec, lead_sheet, vocal_score, n_samples: int) -> Audio | None:
        """A stereo backing-vocal stem (a doubling and a third/sixth line) when the tags ask for
        harmonies or a choir; None otherwise."""
        from generators.style import parse_style
        from voice.harmony import harmony_scores, harmony_stem

        if not parse_style(lead_sheet.style_tags).harmonies:
            return None
        singer = self._backend("singer", spec)
        parts = [(score, singer.sing(score)) for score in harmony_scores(vocal_score, lead_sheet) if score.notes]
        if not parts:
            return None
        stem = harmony_stem(parts)
        out = np.zeros((n_samples, 2), np.float32)
        out[: min(n_samples, len(stem.samples))] = stem.samples[:n_samples, :2]
        return Audio(out, stem.sample_rate)

    # ---- files --------------------------------------------------------------------------------
    def _write(self, path_for, spec, lead_sheet, arrangement, vocal_score, stems: StemSet, vocals, result, advance):
        """Every file of the song; the WAV files in threads (their encoding runs outside the
        GIL), beside the lead sheet's and the score's files."""
        with ThreadPoolExecutor(max_workers=WAV_WRITERS) as pool:
            def save(files: list[tuple[str, Audio]]) -> list[Future]:
                return [pool.submit(audio.save, path_for(rel)) for rel, audio in files]

            waves = [save([(f"{FILES['stems']}/{name}.wav", audio) for name, audio in stems.stems.items()]),
                     save([(FILES["vocals"], vocals), (FILES["accompaniment"], result.accompaniment)]),
                     save([(FILES["mix"], result.mix)])]
            atomic_write_text(path_for(FILES["spec"]), yaml.safe_dump(spec.spec_dict(), allow_unicode=True, sort_keys=False))
            write_symbolic(path_for, lead_sheet, arrangement, vocal_score)
            advance()
            for files in waves:
                for written in files:
                    written.result()
                advance()


def fit_length(audio: Audio, n_samples: int) -> Audio:
    """``audio`` as mono, cut or padded with silence to ``n_samples``."""
    samples = np.zeros((n_samples, 1), np.float32)
    m = audio.mono()[:n_samples]
    samples[: len(m), 0] = m
    return Audio(samples, audio.sample_rate)


def write_symbolic(path_for, lead_sheet, arrangement, vocal_score, *, arrangement_changed: bool = True,
                   musicxml: bool = True, midi_source: Path | None = None) -> None:
    """Write the lead sheet (JSON, and MusicXML unless ``musicxml`` is false), the arrangement
    (JSON when it changed; MIDI with the sung notes), the vocal score and the timed lyrics;
    ``path_for(rel)`` gives each file's path. With ``midi_source`` (the song's MIDI file, when
    only the vocals changed) the MIDI file is that one with its vocals track replaced, and
    ``arrangement`` is not used."""
    from representations.lrc import write_lrc
    from representations.midi import replace_vocals, write_midi

    lead_sheet.save(path_for(FILES["leadsheet"]))
    if arrangement_changed:
        arrangement.save(path_for(FILES["arrangement"]))
    if musicxml:
        from representations.musicxml import write_musicxml

        write_musicxml(lead_sheet, path_for(FILES["musicxml"]))
    if midi_source is not None and not arrangement_changed and vocal_score is not None:
        replace_vocals(midi_source, path_for(FILES["midi"]), vocal_score)
    else:
        write_midi(path_for(FILES["midi"]), arrangement, vocals=vocal_score)
    if vocal_score is not None:
        vocal_score.save(path_for(FILES["vocal_score"]))
        write_lrc(path_for(FILES["lrc"]), vocal_score, title=lead_sheet.title)
    else:
        atomic_write_text(path_for(FILES["lrc"]), f"[ti:{lead_sheet.title}]\n")
