"""Voice jobs: a song folder re-sung in a reference voice, and any recording converted.

* :func:`clone_voice` — copy a song folder (hard links where possible) into a staging folder,
  convert ``vocals.wav``, re-mix ``mix.wav``, update ``manifest.json`` and move the result into
  place atomically; every other file stays byte-identical and the source folder is untouched.
* :func:`convert_file` — convert an a cappella recording (or the vocals separated from a full
  mix, :mod:`voice.separation`) and write a WAV file.
* :func:`apply_voice_reference` — converted vocals plus manifest entries, for a render whose
  spec names a ``voice_reference``.
* :func:`song_line_converter` — for a song whose vocals were converted, a function that converts
  re-sung lines the same way (lyric edits and repaints keep the cloned voice).

Converting a song's vocals keeps the reference (16-bit, as analysed) and the frozen conversion plan
in the song folder (``FILES["voice_reference"]``, ``FILES["voice_plan"]``), so that later lines
are converted with the same shift, envelope changes, silence floor and level gain.

Reference recordings are checked first (3-30 s of sound after trimming silence, not clipped,
with a voice in it), so a bad reference writes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from representations.atomic import atomic_path, atomic_write_text, recover_dir, replace_dir
from representations.audio import Audio, StemSet
from representations.audio_input import read_audio_input
from representations.errors import SongFolderError, SongwrightError

from .song import FILES, Song, sha256_file

REFERENCE_MIN_S = 3.0
REFERENCE_MAX_S = 30.0
CONVERTER_MODULES = ("voice.conversion", "voice.conversion_neural")
SEPARATE_CHOICES = ("auto", "always", "never")
PLAN_FORMAT = "songwright.voice-conversion/1"


def read_reference(path: str | Path) -> Audio:
    """A voice reference as mono audio at the converter's rate; :class:`AudioInputError` for a
    missing, empty, corrupt, non-audio, silent, clipped, too short or too long file."""
    from voice.conversion_synth import WORK_RATE

    return read_audio_input(path, min_s=REFERENCE_MIN_S, max_s=REFERENCE_MAX_S, trim_silence=True,
                            check_clipping=True, sample_rate=WORK_RATE)


def make_converter(backend: str = "world", **kwargs):
    """The voice converter ``backend`` ("world", "neural"); unknown names list the valid ones."""
    import importlib

    from voice.base import VOICE_CONVERTERS

    for m in CONVERTER_MODULES:
        importlib.import_module(m)
    return VOICE_CONVERTERS.create(backend, **kwargs)


def median_sung_pitch(vocal_score) -> float | None:
    """Duration-weighted median MIDI pitch of a vocal score's notes; None without notes."""
    if vocal_score is None or not vocal_score.notes:
        return None
    pitches = np.array([n.pitch for n in vocal_score.notes], dtype=np.float64)
    weights = np.array([n.duration_s for n in vocal_score.notes])
    order = np.argsort(pitches)
    cum = np.cumsum(weights[order])
    return float(pitches[order][np.searchsorted(cum, cum[-1] / 2)])


def _convert(converter, vocals: Audio, reference: Audio, reference_name: str, source_midi: float | None) -> Audio:
    from voice.conversion import WorldConverter, reference_profile

    if isinstance(converter, WorldConverter):
        return converter.convert_with_profile(vocals, reference_profile(reference, name=reference_name),
                                              source_midi=source_midi)
    return converter.convert(vocals, reference, source_midi=source_midi)


def _plan_info(converter) -> dict:
    plan = getattr(converter, "last_plan", None)
    if plan is None:
        return {}
    return plan.info() if hasattr(plan, "info") else dict(plan)


def as_stored(audio: Audio) -> Audio:
    """``audio`` (mixed to mono) as a 16-bit song file gives it back (:meth:`Audio.save`, then
    :meth:`Audio.load`); audio read from such a file comes back unchanged."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(audio.mono(), -1.0, 1.0), audio.sample_rate, subtype="PCM_16", format="WAV")
    buf.seek(0)
    data, _ = sf.read(buf, dtype="float32")
    return Audio(data[:, None], audio.sample_rate)


def _pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x, np.float64) * 32767.0), -32768, 32767).astype(np.int16)


def _keep_conversion(keep: Callable[[str], Path], reference_pcm: np.ndarray, converter, *, sample_rate: int,
                     reference_sha256: str) -> None:
    """Write the reference (FLAC) and the frozen plan (JSON) through ``keep(rel)``."""
    import soundfile as sf

    from voice.conversion_synth import WORK_RATE

    ref_path = keep(FILES["voice_reference"])
    with atomic_path(ref_path) as tmp:
        sf.write(str(tmp), reference_pcm, WORK_RATE, subtype="PCM_16", format="FLAC")
    state = {"format": PLAN_FORMAT, "backend": converter.name, "converter": converter.config(),
             "sample_rate": int(sample_rate),
             "reference": {"file": FILES["voice_reference"], "sha256": sha256_file(ref_path),
                           "source_sha256": reference_sha256},
             "plan": converter.last_plan.to_dict()}
    atomic_write_text(keep(FILES["voice_plan"]), json.dumps(state, ensure_ascii=False))


def apply_voice_reference(vocals: Audio, reference_path: str | Path, *, vocal_score=None, backend: str = "world",
                          converter=None, keep: Callable[[str], Path] | None = None) -> tuple[Audio, dict]:
    """Vocals converted to the voice of ``reference_path``, and what to record in the manifest.

    Parameters
    ----------
    vocals : Audio
        The dry lead vocal (mono, any rate); the result has the same rate and length.
    reference_path : path
        3-30 s of the target voice (wav, flac, ogg, mp3; any rate and channel count).
    vocal_score : VocalScore, optional
        The sung notes: their median pitch decides the octave move exactly.
    backend : str
        Voice converter backend name, when ``converter`` is not given.
    converter : VoiceConverter, optional
        A converter to use (e.g. one built once for many songs).
    keep : callable, optional
        ``keep(rel)`` gives the path of song-folder file ``rel`` to write (e.g. in a staging
        folder). With it, the vocals are converted as their 16-bit file holds them and, for the
        "world" backend, the reference (16-bit, as analysed) and the frozen plan are written to
        ``FILES["voice_reference"]`` and ``FILES["voice_plan"]`` for :func:`song_line_converter`.

    Returns
    -------
    (Audio, dict)
        The converted vocals, and manifest entries: ``voice`` ("reference:<file name>"),
        ``voice_reference`` (file, sha256, duration_s) and ``voice_conversion`` (backend,
        shift_semitones, warp_ratio, ...).
    """
    from voice.conversion import WorldConverter

    reference_path = Path(reference_path)
    reference = read_reference(reference_path)
    converter = converter if converter is not None else make_converter(backend)
    reference_pcm = _pcm16(reference.mono())
    if keep is not None:  # convert exactly what can be converted again later
        reference = Audio(reference_pcm / 32768.0, reference.sample_rate)
        vocals = as_stored(vocals)
    t0 = time.perf_counter()
    out = _convert(converter, vocals, reference, str(reference_path), median_sung_pitch(vocal_score))
    sha = sha256_file(reference_path)
    info = {
        "voice": f"reference:{reference_path.name}",
        "voice_reference": {"file": reference_path.name, "sha256": sha, "duration_s": round(reference.duration_s, 3)},
        "voice_conversion": {"backend": getattr(converter, "name", backend)} | _plan_info(converter)
        | {"seconds": round(time.perf_counter() - t0, 3)},
    }
    if keep is not None and isinstance(converter, WorldConverter):
        _keep_conversion(keep, reference_pcm, converter, sample_rate=vocals.sample_rate, reference_sha256=sha)
    return out, info


def song_line_converter(song: Song) -> Callable[[np.ndarray], np.ndarray] | None:
    """For a song whose vocals were converted to a reference voice, the conversion of re-sung lines.

    Returns
    -------
    callable or None
        ``convert(x)``: ``x`` is mono float audio at the song's rate, as long as the song,
        zeros except one or more sung lines; the result (float32, same shape) is those
        samples as the song's conversion turned them (the kept plan, silence floor and level
        gain; only the sounding span is analysed). None for a song sung by a preset voice, or
        one converted without a kept plan (another backend, or an older version).
    """
    import soundfile as sf

    from voice.conversion import ConversionPlan, reference_profile

    path = song.path("voice_plan")
    manifest = song.manifest
    if not str(manifest.get("voice") or "").startswith("reference:") or not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("format") != PLAN_FORMAT:
            raise ValueError(f"format {state.get('format')!r} is not {PLAN_FORMAT}")
        if state["reference"]["source_sha256"] != manifest.get("voice_reference", {}).get("sha256"):
            return None  # kept for other vocals (the song was converted again since)
        ref_path = song.folder / state["reference"]["file"]
        if sha256_file(ref_path) != state["reference"]["sha256"]:
            raise ValueError(f"{ref_path.name} is not the reference the plan was made with")
        pcm, rate = sf.read(str(ref_path), dtype="int16")
        converter = make_converter(state["backend"], **state["converter"])
        plan = ConversionPlan.from_dict(state["plan"], reference=reference_profile(Audio(pcm / 32768.0, rate)))
        sample_rate = int(state["sample_rate"])
    except (ValueError, KeyError, TypeError, OSError, RuntimeError) as e:
        raise SongFolderError(f"{path}: unusable voice conversion ({e}); valid: as written by clone-voice or "
                              f"render --voice-reference (convert the song's voice again)") from None

    def convert(x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=np.float32)
        sounding = np.flatnonzero(x)
        if sounding.size:  # the 16-bit samples the song's vocals file held (zeros stay zeros)
            lo, hi = sounding[0], sounding[-1] + 1
            x[lo:hi] = as_stored(Audio(x[lo:hi, None], sample_rate)).mono()
        return converter.convert_with_plan(Audio(x[:, None], sample_rate), plan).mono()

    return convert


# ---- clone-voice ------------------------------------------------------------------------------
def _remix(song: Song, vocals: Audio) -> tuple[Audio, dict | None]:
    """The song's stems mixed again with new lead ``vocals`` by the song's own mixer backend, and
    the gains the mix was mastered with (None when the mixer does not report them)."""
    import inspect

    from . import backends

    mixer = backends.create("mixer", song.manifest.get("backends", {}).get("mixer"))
    stems = StemSet.load(song.path("stems"))
    takes_flag = "with_accompaniment" in inspect.signature(mixer.mix_song).parameters
    kwargs = {"with_accompaniment": False} if takes_flag else {}
    result = mixer.mix_song(stems, vocals=vocals, **kwargs)
    return result.mix, (result.params.to_dict() if result.params is not None else None)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _check_target(source: Path, out_dir: Path, *, in_place: bool) -> None:
    same = out_dir.exists() and out_dir.resolve() == source.resolve()
    if same and not in_place:
        raise SongFolderError(f"{out_dir}: the output folder is the song folder itself (valid: another folder, or "
                              f"--in-place to replace the song's vocals)")
    if out_dir.exists() and not same:
        if not out_dir.is_dir():
            raise SongFolderError(f"{out_dir}: exists and is not a folder (valid: a new folder or a song folder)")
        if any(out_dir.iterdir()) and not (out_dir / FILES["manifest"]).is_file():
            raise SongFolderError(f"{out_dir}: a folder that is not a song folder is in the way (valid: a new "
                                  f"folder, an empty one, or a song folder to replace)")


def clone_voice(song_dir: str | Path, reference_path: str | Path, out_dir: str | Path | None = None, *,
                in_place: bool = False, backend: str = "world", converter=None) -> Song:
    """The song in ``song_dir`` re-sung in the voice of ``reference_path``, written to ``out_dir``.

    Parameters
    ----------
    song_dir : path
        A song folder written by ``songwright render``.
    reference_path : path
        3-30 s of the target voice.
    out_dir : path, optional
        Folder to write (created, or replaced atomically when it is a song folder); with
        ``in_place`` it may be ``song_dir`` itself (the default then).
    in_place : bool
        Allow replacing ``song_dir``.
    backend, converter
        As for :func:`apply_voice_reference`.

    Returns
    -------
    Song
        The new folder: ``vocals.wav`` and ``mix.wav`` rewritten, ``manifest.json`` updated
        (voice, voice_reference, voice_conversion, mix_params, files, timings), the reference and
        the frozen plan added (``FILES["voice_reference"]``, ``FILES["voice_plan"]``; not for
        vocals converted before, nor other backends than "world"), everything else
        byte-identical (stems, a harmony stem included, stay as they were).
    """
    song = Song.open(song_dir)
    source = Path(song_dir)
    if out_dir is None:
        if not in_place:
            raise SongFolderError(f"{source}: no output folder (valid: -o OUT_DIR, or --in-place)")
        out_dir = source
    out_dir = Path(out_dir)
    _check_target(source, out_dir, in_place=in_place)
    if not song.path("vocals").is_file():
        raise SongFolderError(f"{song.path('vocals')}: missing (valid: a song folder with sung vocals)")
    if song.vocal_score is None or not song.vocal_score.notes:
        raise SongFolderError(f"{source}: the song is instrumental; there are no vocals to re-sing")
    t0 = time.perf_counter()
    vocals = Audio.load(song.path("vocals"))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    recover_dir(out_dir)
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        shutil.copytree(source, staging, copy_function=_link_or_copy)
        for name in ("voice_reference", "voice_plan"):  # a plan kept for the vocals being replaced
            (staging / FILES[name]).unlink(missing_ok=True)
        # vocals sung by a preset: keep the plan (vocals already converted cannot be re-sung alike)
        sung = not str(song.manifest.get("voice") or "").startswith("reference:")
        # atomic writes replace the hard links with new files: the source keeps its own
        converted, info = apply_voice_reference(vocals, reference_path, vocal_score=song.vocal_score, backend=backend,
                                                converter=converter, keep=(lambda rel: staging / rel) if sung else None)
        mix, mix_params = _remix(song, converted)
        converted.save(staging / FILES["vocals"])
        mix.save(staging / FILES["mix"])
        manifest = dict(song.manifest) | info
        if mix_params is not None:  # edits re-mix regions with the gains the mix was made with
            manifest["mix_params"] = mix_params
        manifest["timings_s"] = dict(song.manifest.get("timings_s", {})) | {
            "clone_voice": round(time.perf_counter() - t0, 3)}
        if "files" in manifest:
            manifest["files"] = sorted({str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()
                                        and not p.name.startswith(".") and p.relative_to(staging).parts[0] != "history"}
                                       | {FILES["manifest"]})
        atomic_write_text(staging / FILES["manifest"], json.dumps(manifest, indent=1, ensure_ascii=False))
        replace_dir(staging, out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Song.open(out_dir)


# ---- convert-voice ----------------------------------------------------------------------------
def convert_file(input_path: str | Path, reference_path: str | Path, output_path: str | Path, *,
                 separate: str = "auto", demucs_dir: str | Path | None = None, backend: str = "world",
                 converter=None) -> dict:
    """Convert the voice in ``input_path`` to that of ``reference_path`` and write ``output_path``.

    Parameters
    ----------
    input_path : path
        An a cappella recording, or a full mix (any common format, up to 10 minutes).
    reference_path : path
        3-30 s of the target voice.
    output_path : path
        WAV file to write (16-bit, mono, at the input's sample rate).
    separate : str
        "auto" (separate when the input sounds like a full mix), "always" or "never".
    demucs_dir : path, optional
        Local Demucs checkpoint folder (default ``$SONGWRIGHT_MODELS_DIR/demucs``).

    Returns
    -------
    dict
        ``separation`` (how vocals were separated, or None), ``mix_floor_db`` when measured,
        ``voice_conversion`` and ``voice_reference`` entries, ``seconds`` and ``duration_s``.
    """
    from voice.separation import MIX_FLOOR_DB, mix_floor_db, separate_vocals

    if separate not in SEPARATE_CHOICES:
        raise SongwrightError(f"--separate {separate!r} is not valid (valid: {', '.join(SEPARATE_CHOICES)})")
    output_path = Path(output_path)
    if output_path.suffix.lower() != ".wav":
        raise SongwrightError(f"{output_path}: the output must be a .wav file")
    if output_path.exists() and output_path.is_dir():
        raise SongwrightError(f"{output_path}: is a folder (valid: a .wav file path)")
    audio = read_audio_input(input_path, min_s=0.5, mono=False)
    read_reference(reference_path)  # a bad reference fails before any work
    t0 = time.perf_counter()
    info: dict = {"separation": None}
    if separate == "auto":
        info["mix_floor_db"] = round(mix_floor_db(audio), 1)
    if separate == "always" or (separate == "auto" and info["mix_floor_db"] > MIX_FLOOR_DB):
        audio, info["separation"] = separate_vocals(audio, demucs_folder=demucs_dir)
    mono = Audio(audio.mono()[:, None], audio.sample_rate)
    converted, conv = apply_voice_reference(mono, reference_path, backend=backend, converter=converter)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    converted.save(output_path)
    info |= {k: v for k, v in conv.items() if k != "voice"}
    info |= {"seconds": round(time.perf_counter() - t0, 3), "duration_s": round(mono.duration_s, 3)}
    return info
