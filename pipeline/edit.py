"""Editing a rendered song on its representations: a lyric line re-sung, bars repainted.

Each edit changes the lead sheet (and, for a repaint, the arrangement) inside a range of bars,
re-sings only the lyric lines that changed, re-renders only the tracks that changed, splices the
new audio into the old files and re-mixes only that region with the gains of the original mix.
Outside the edited bars, ``vocals.wav`` and every stem stay sample-identical; ``mix.wav`` and
``accompaniment.wav`` too, except crossfades of ``XFADE_S`` at the edges of the region.
Extending and restyling, which move or replace everything, live in :mod:`pipeline.rework`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from representations.arrangement import Arrangement, Track, TrackNote
from representations.atomic import atomic_path
from representations.audio import StemSet
from representations.errors import SongFolderError, SpecError
from representations.leadsheet import LeadSheet
from representations.vocal_score import VocalScore

from . import backends
from .history import SongEdit
from .pipeline import write_symbolic
from .song import FILES, Song

XFADE_S = 0.02
HARMONY_STEM = f"{FILES['stems']}/harmony_vocals.wav"
LINE_GAP_S = 0.09  # silence that separates two lines' sound (longer than any pause inside a line's
# onset: the singer leaves 50 ms between a breath and the first consonant)
_POOL = ThreadPoolExecutor(max_workers=2)


# ---- reading -------------------------------------------------------------------------------------
def list_lyrics(song_dir: str | Path) -> list[dict]:
    """Lyric lines of a song: number (from 1), section label, start and end in seconds, text."""
    song = Song.open(song_dir)
    sheet, score = song.lead_sheet, song.vocal_score
    out = []
    for i, line in enumerate(sheet.lyrics):
        vl = next((l for l in score.lines if l.index == i), None) if score else None
        out.append({"line": i + 1, "section": sheet.sections[line.section].label if line.section < len(sheet.sections) else "",
                    "start_s": vl.start_s if vl else None, "end_s": vl.end_s if vl else None, "text": line.text})
    return out


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    """16-bit samples of a song-folder WAV as int16 ``(n, channels)`` (no float round trip)."""
    import soundfile as sf

    data, sr = sf.read(str(path), dtype="int16", always_2d=True)
    return data, sr


def write_pcm(path: Path, data: np.ndarray, sample_rate: int) -> None:
    import soundfile as sf

    with atomic_path(path) as tmp:
        sf.write(str(tmp), data, sample_rate, subtype="PCM_16", format="WAV")


def to_pcm(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to int16, as the song's files store them."""
    return np.clip(np.round(np.asarray(x, np.float64) * 32767.0), -32768, 32767).astype(np.int16)


# ---- pieces shared by the edits ------------------------------------------------------------------
class _Context:
    """An open song and the backends its manifest names."""

    def __init__(self, edit: SongEdit):
        self.edit = edit
        self.song = edit.song
        self.manifest = self.song.manifest
        self.names = self.manifest.get("backends", {})
        self._backends: dict = {}

    def backend(self, role: str):
        if role not in self._backends:
            self._backends[role] = backends.create(role, self.names.get(role))
        return self._backends[role]

    def line_converter(self):
        """The cloned voice's converter for re-sung lines (None for a preset voice), built once."""
        if "line_converter" not in self._backends:
            from .voice_jobs import song_line_converter

            self._backends["line_converter"] = song_line_converter(self.song)
        return self._backends["line_converter"]

    def warm_singer(self, language: str):
        """Start loading the singer's models in the background; returns the future."""
        return _POOL.submit(self.backend("singer").warm_up, language)

    @property
    def bar_s(self) -> float:
        sheet = self.song.lead_sheet
        return float(sheet.meter.bar_beats) * 60.0 / sheet.tempo_bpm

    def voice_range(self) -> tuple[int, int] | None:
        from voice.presets import PRESETS

        preset = PRESETS.get(self.manifest.get("voice") or "")
        return (preset.low, preset.high) if preset else None


def _line_score(score: VocalScore, lines: set[int]) -> VocalScore:
    """Only the notes of ``lines``; every line's span is kept (the singer places a line's breath
    after the end of the line before)."""
    return VocalScore([n for n in score.notes if n.line in lines], score.lines, score.language, score.voice,
                      score.duration_s, score.extras)


def _sing_lines(ctx: _Context, old: VocalScore, new: VocalScore, lines: set[int], vocals: np.ndarray
                ) -> tuple[np.ndarray, int, int]:
    """The int16 vocal track ``vocals`` with ``lines`` re-sung, and the changed sample range
    ``[a, b)`` (see :func:`_splice`). A cloned voice's lines are converted as the whole song was."""
    n = vocals.shape[0]
    singer = ctx.backend("singer")
    convert = ctx.line_converter()

    def sung(score: VocalScore) -> np.ndarray:
        part = _fit(singer.sing(_line_score(score, lines)).mono(), n)
        return convert(part) if convert is not None else part

    return _splice(vocals, sung(new)[:, None], lambda: sung(old)[:, None], _lone_span(old, lines, vocals, 44100))


def _sing_harmony(ctx: _Context, old: VocalScore, new: VocalScore, old_sheet: LeadSheet, new_sheet: LeadSheet,
                  lines: set[int]) -> tuple[np.ndarray, int, int] | None:
    """The backing-vocal stem (when the song has one) with the parts of ``lines`` re-sung, and the
    changed sample range; None when the song has no backing vocals."""
    from voice.harmony import harmony_scores, harmony_stem

    path = ctx.song.folder / HARMONY_STEM
    if not path.is_file():
        return None
    stem, sr = read_pcm(path)
    whole = harmony_scores(old, old_sheet)  # the song's own choice of harmony above or below the lead
    above = whole[1].extras.get("above") if len(whole) > 1 else None
    singer = ctx.backend("singer")

    def sung(score: VocalScore, sheet: LeadSheet) -> np.ndarray:
        out = np.zeros((stem.shape[0], 2))
        parts = [(p, singer.sing(p)) for p in harmony_scores(score, sheet, lines=lines, above=above) if p.notes]
        if parts:
            x = harmony_stem(parts).samples[: len(out), :2]
            out[: len(x)] = x
        return out

    return _splice(stem, sung(new, new_sheet), lambda: sung(old, old_sheet), _lone_span(old, lines, stem, sr))


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[: min(n, len(x))] = x[:n]
    return out


def _splice(track: np.ndarray, new_part: np.ndarray, sing_old, span: tuple[int, int] | None
            ) -> tuple[np.ndarray, int, int]:
    """``track`` (int16, ``(n, channels)``) with some lines' sound replaced by ``new_part`` (float,
    same shape), and the changed sample range ``[a, b)``.

    The singer sings each line independently of the others, so old track minus the old lines plus
    the new ones equals singing the whole new score. When silence parts the old lines' sound from
    every other line's (``span``), their samples are simply cleared; otherwise the old lines are
    sung again (``sing_old()``) and subtracted.
    """
    if span is None:
        old_part = sing_old()
        changed = np.any(old_part != 0, axis=1) | np.any(new_part != 0, axis=1)
    else:
        lo, hi = span
        changed = np.any(new_part != 0, axis=1)
        changed[lo:hi] |= np.any(track[lo:hi] != 0, axis=1)
    where = np.flatnonzero(changed)
    if where.size == 0:
        return track, 0, 0
    a, b = int(where[0]), int(where[-1]) + 1
    out = track[a:b].astype(np.float64) / 32767.0  # only the changed range is touched
    if span is None:
        out -= old_part[a:b]
    else:
        out[max(lo, a) - a: max(min(hi, b) - a, 0)] = 0.0
    out += new_part[a:b]
    track = track.copy()
    track[a:b] = to_pcm(out)
    return track, a, b


def _lone_span(score: VocalScore, lines: set[int], vocals: np.ndarray, sr: int) -> tuple[int, int] | None:
    """Samples ``[lo, hi)`` of a sung track ``vocals`` (int16, ``(n, channels)``) holding all the
    sound of ``lines`` and no other line's.

    A line's sound (its breath, consonants before the beat, its release) is bounded by digital
    silence of at least ``LINE_GAP_S`` on both sides, found between its notes and its neighbours'.
    None when there is no such silence (the lines run into each other, or the track is not exactly
    silent between lines, e.g. after a voice conversion).
    """
    mono = np.any(vocals != 0, axis=1)  # sounding samples
    lo = hi = None
    for li in lines:
        mine = [n for n in score.notes if n.line == li]
        if not mine:
            continue
        first, last = min(n.start_s for n in mine), max(n.end_s for n in mine)
        before = [n.end_s for n in score.notes if n.line not in lines and n.end_s <= first]
        after = [n.start_s for n in score.notes if n.line not in lines and n.start_s >= last]
        if any(n.line not in lines and n.end_s > first and n.start_s < last for n in score.notes):
            return None
        a, b = int(max(before, default=0.0) * sr), int(first * sr)
        run = _silent_runs(mono[a:b], int(LINE_GAP_S * sr))
        start = a + run[-1][1] if run else (0 if not before and not mono[:b].any() else None)
        a, b = int(np.ceil(last * sr)), int(np.ceil(min(after, default=len(mono) / sr) * sr))
        run = _silent_runs(mono[a:b], int(LINE_GAP_S * sr))
        end = a + run[0][0] if run else (len(mono) if not after and not mono[a:].any() else None)
        if start is None or end is None:
            return None
        lo, hi = (start, end) if lo is None else (min(lo, start), max(hi, end))
    return None if lo is None else (lo, hi)


def _silent_runs(sounding: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """``[start, end)`` of the runs of at least ``min_len`` silent samples (``sounding`` false)."""
    z = np.concatenate([[0], (~sounding).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(z))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2]) if e - s >= min_len]


def _bar_range(ctx: _Context, a: int, b: int, sr: int) -> tuple[int, int]:
    """Bars (0-based, end exclusive) that hold samples ``[a, b)``."""
    bar = ctx.bar_s * sr
    return int(a // bar), int(np.ceil(b / bar))


def _stem_window(folder: Path, lo: int, hi: int) -> StemSet:
    """Samples ``[lo, hi)`` of every stem in ``folder`` (only that part is read)."""
    import soundfile as sf

    from representations.audio import Audio

    out = {}
    for p in sorted(folder.glob("*.wav")):
        data, sr = sf.read(str(p), start=lo, stop=hi, dtype="float32", always_2d=True)
        out[p.stem] = Audio(data, sr)
    return StemSet(out)


def _remix(ctx: _Context, vocals_pcm: np.ndarray | None, bars: tuple[int, int], sr: int, *,
           accompaniment: bool, preroll_s: float = 3.0) -> None:
    """Re-mix bars ``[bars[0], bars[1])`` of mix.wav (and of accompaniment.wav when asked: the
    stems changed) with the original gains, crossfading into the old audio inside the region's
    edges. ``vocals_pcm`` are the new vocals, None to use the song's own."""
    from representations.audio import Audio

    mixer = ctx.backend("mixer")
    params = ctx.manifest.get("mix_params")
    if params is None:
        raise SongFolderError(f"{ctx.edit.source}: the manifest has no mix_params (valid: a song rendered by this version; re-render it)")
    from renderers.base import MixParams

    sung = params.get("vocal_gain") is not None
    targets = [("mix", MixParams.from_dict(params), vocals_pcm)]
    if accompaniment and sung:
        targets.append(("accompaniment", MixParams.from_dict(ctx.manifest["accompaniment_params"]), None))
    for name, p, voc in targets:
        old, _ = read_pcm(ctx.song.path(name))
        lo = int(round(bars[0] * ctx.bar_s * sr))
        hi = min(len(old), int(round(bars[1] * ctx.bar_s * sr)))
        if hi <= lo:
            continue
        lo0 = max(0, lo - int(preroll_s * sr))  # effects settle over the preroll
        stems = _stem_window(ctx.song.folder / FILES["stems"], lo0, hi)
        vocals = None
        if name == "mix" and p.vocal_gain is not None:
            v = voc if voc is not None else read_pcm(ctx.song.path("vocals"))[0]
            vocals = Audio(v[lo0:hi].astype(np.float32) / 32767.0, sr)
        seg = mixer.remix_region(stems, vocals=vocals, start=lo - lo0, stop=hi - lo0, params=p, preroll_s=preroll_s)
        x = min(int(XFADE_S * sr), (hi - lo) // 2)
        ramp = np.linspace(0.0, 1.0, x, dtype=np.float64)[:, None]
        old_f = old[lo:hi].astype(np.float64) / 32767.0
        seg = seg.astype(np.float64)
        seg[:x] = old_f[:x] * (1 - ramp) + seg[:x] * ramp
        seg[-x:] = seg[-x:] * (1 - ramp) + old_f[-x:] * ramp
        out = old.copy()
        out[lo:hi] = to_pcm(seg)
        write_pcm(ctx.edit.path_for_write(FILES[name]), out, sr)
        if name == "mix" and accompaniment and not sung:  # an instrumental's accompaniment is its mix
            write_pcm(ctx.edit.path_for_write(FILES["accompaniment"]), out, sr)


# ---- the edits -----------------------------------------------------------------------------------
def edit_lyric_line(song_dir: str | Path, line: int, text: str, out_dir: str | Path | None = None, *,
                    in_place: bool = False) -> Song:
    """Sing lyric line ``line`` (from 1) with the words ``text``; nothing else moves.

    The new syllables get a rhythm inside the line's bars and a melody along the old one's
    contour; only that line is sung again, and only its bars are re-mixed.
    """
    return edit_lyrics(song_dir, {line: text}, out_dir, in_place=in_place)


def edit_lyrics(song_dir: str | Path, changes: dict[int, str], out_dir: str | Path | None = None, *,
                in_place: bool = False) -> Song:
    """Sing several lyric lines with new words in one edit (one history entry, the voice model
    loaded once): ``changes`` maps line numbers (from 1) to their new words. Each line is
    re-planned inside its own bars and re-sung; only the bars around each line are re-mixed."""
    from generators.replan import replan_line
    from representations.musicxml import write_musicxml
    from voice.score import vocal_score_from_leadsheet

    changes = {int(k): " ".join(str(v).split()) for k, v in sorted(changes.items())}
    if not changes:
        raise SpecError("no lyric line to edit (valid: at least one --line N --text WORDS)")
    args = ({"line": next(iter(changes)), "text": next(iter(changes.values()))} if len(changes) == 1
            else {"lines": {str(k): v for k, v in changes.items()}})
    with SongEdit(song_dir, out_dir, op="lyrics", args=args, in_place=in_place) as e:
        ctx = _Context(e)
        sheet = ctx.song.lead_sheet
        if not sheet.lyrics:
            raise SpecError(f"{song_dir}: the song has no lyrics to edit (it is instrumental)")
        for line in changes:
            if not 1 <= line <= len(sheet.lyrics):
                raise SpecError(f"--line {line} is out of range (valid: 1-{len(sheet.lyrics)})")
        warm = ctx.warm_singer(sheet.language)  # the voice model loads while the lines are planned
        try:
            new_sheet = sheet
            for line, text in changes.items():
                new_sheet = replan_line(new_sheet, line - 1, text, seed=ctx.manifest.get("seed", 0),
                                        voice_range=ctx.voice_range())
            old_score = ctx.song.vocal_score
            new_score = vocal_score_from_leadsheet(new_sheet, voice=old_score.voice)
            new_score = replace(new_score, duration_s=old_score.duration_s)
            write_musicxml(new_sheet, e.path_for_write(FILES["musicxml"]))
            write_symbolic(e.path_for_write, new_sheet, None, new_score, arrangement_changed=False, musicxml=False,
                           midi_source=ctx.song.path("midi"))
            vocals, sr = read_pcm(ctx.song.path("vocals"))
        finally:
            wait([warm])  # never leave it running into a failed edit's error
        warm.result()
        regions, backing_changed = [], False
        for line in changes:
            vocals, a, b = _sing_lines(ctx, old_score, new_score, {line - 1}, vocals)
            backing = _sing_harmony(ctx, old_score, new_score, sheet, new_sheet, {line - 1})
            if backing is not None and backing[2] > backing[1]:
                write_pcm(e.path_for_write(HARMONY_STEM), backing[0], sr)
                backing_changed = True
                a, b = (backing[1], backing[2]) if b <= a else (min(a, backing[1]), max(b, backing[2]))
            if b > a:
                regions.append((a, b))
        write_pcm(e.path_for_write(FILES["vocals"]), vocals, sr)
        bars = _merged_bars(ctx, regions, sr)
        for span in bars:
            _remix(ctx, vocals, span, sr, accompaniment=backing_changed)
        seconds = [min((a for a, _ in regions), default=0) / sr, max((b for _, b in regions), default=0) / sr]
        first, last = (bars[0][0] + 1, bars[-1][1]) if bars else (0, 0)
        details = {"bars": [first, last], "seconds_range": seconds, "regions": [[lo + 1, hi] for lo, hi in bars]}
        return e.commit(details | ({"line": next(iter(changes))} if len(changes) == 1 else {"lines": list(changes)}))


def _merged_bars(ctx: _Context, regions: list[tuple[int, int]], sr: int) -> list[tuple[int, int]]:
    """Bar ranges (0-based, end exclusive) holding sample ranges ``regions``, touching ones merged."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(_bar_range(ctx, a, b, sr) for a, b in regions):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _merge_tracks(old: Arrangement, new: Arrangement, lo: Fraction, hi: Fraction) -> tuple[Arrangement, set[str]]:
    """Old notes outside ``[lo, hi)`` beats, new notes starting inside it (cut at ``hi``)."""
    out, changed = [], set()
    new_by = {t.name: t for t in new.tracks}
    names = [t.name for t in old.tracks] + [t.name for t in new.tracks if t.name not in {x.name for x in old.tracks}]
    old_by = {t.name: t for t in old.tracks}
    for name in names:
        base = old_by.get(name) or replace(new_by[name], notes=[])
        keep = [nt for nt in base.notes if not lo <= nt.start_beats < hi]
        fresh = [TrackNote(nt.start_beats, min(nt.duration_beats, hi - nt.start_beats), nt.pitch, nt.velocity)
                 for nt in (new_by[name].notes if name in new_by else []) if lo <= nt.start_beats < hi]
        track = Track(base.name, base.program, keep + fresh, base.is_drum, base.gain_db, base.pan)
        if sorted((n.start_beats, n.pitch, n.duration_beats, n.velocity) for n in track.notes) != \
                sorted((n.start_beats, n.pitch, n.duration_beats, n.velocity) for n in base.notes) or name not in old_by:
            changed.add(name)
        if track.notes or name in old_by:
            out.append(track)
    return Arrangement(old.tempo_bpm, old.meter, old.total_beats, out), changed


def repaint_bars(song_dir: str | Path, bars: tuple[int, int], out_dir: str | Path | None = None, *,
                 seed: int | None = None, tags: str | None = None, in_place: bool = False) -> Song:
    """Regenerate melody and accompaniment inside bars ``bars`` (from 1, inclusive).

    The range is widened to whole lyric lines (a line is sung in one breath). With ``tags``, the
    repainted bars are arranged in that style. Returns the edited song.
    """
    from generators.replan import line_bars_span, repaint_melody
    from generators.style import tag_list
    from voice.score import vocal_score_from_leadsheet

    first, last = bars
    with SongEdit(song_dir, out_dir, op="repaint", args={"bars": [first, last], "seed": seed, "tags": tags},
                  in_place=in_place) as e:
        ctx = _Context(e)
        sheet: LeadSheet = ctx.song.lead_sheet
        if not (1 <= first <= last <= sheet.n_bars):
            raise SpecError(f"--bars {first}-{last} is outside the song (valid: within 1-{sheet.n_bars})")
        seed = ctx.manifest.get("seed", 0) + 1 if seed is None else seed
        lo_bar, hi_bar = first - 1, last
        touched = {n.syllable[0] for n in sheet.sung_notes() if lo_bar <= n.start_beats // sheet.meter.bar_beats < hi_bar}
        for li in touched:
            a, b = line_bars_span(sheet, li)
            lo_bar, hi_bar = min(lo_bar, a), max(hi_bar, b)
        new_sheet = repaint_melody(sheet, (lo_bar, hi_bar), seed=seed, voice_range=ctx.voice_range())
        lo, hi = lo_bar * sheet.meter.bar_beats, hi_bar * sheet.meter.bar_beats
        arr_sheet = replace(new_sheet, style_tags=tag_list(tags)) if tags else new_sheet
        fresh = ctx.backend("arranger").arrange(arr_sheet, seed=seed)
        arrangement, changed = _merge_tracks(ctx.song.arrangement, fresh, lo, hi)

        sr = 44100
        old_vocals = read_pcm(ctx.song.path("vocals"))[0]
        n = old_vocals.shape[0]
        a_s, b_s = int(round(float(lo) * 60 / sheet.tempo_bpm * sr)), int(round(float(hi) * 60 / sheet.tempo_bpm * sr))
        if changed:
            renderer = ctx.backend("renderer")
            x = int(XFADE_S * sr)
            ramp = np.linspace(0.0, 1.0, x)[:, None]
            for track in arrangement.tracks:
                if track.name not in changed:
                    continue
                rel = f"{FILES['stems']}/{track.name}.wav"
                old = read_pcm(ctx.song.folder / rel)[0] if (ctx.song.folder / rel).exists() else np.zeros((n, 2), np.int16)
                new = to_pcm(renderer.render_track(track, arrangement.tempo_bpm, n))
                out = old.copy()
                out[a_s:b_s] = new[a_s:b_s]
                tail = slice(b_s - x, b_s)
                out[tail] = to_pcm(new[tail] / 32767.0 * (1 - ramp) + old[tail] / 32767.0 * ramp)
                write_pcm(e.path_for_write(rel), out, sr)
        old_score = ctx.song.vocal_score
        new_score, vocals = old_score, None
        if old_score is not None and touched:
            new_score = replace(vocal_score_from_leadsheet(new_sheet, voice=old_score.voice), duration_s=old_score.duration_s)
            vocals, va, vb = _sing_lines(ctx, old_score, new_score, touched, old_vocals)
            write_pcm(e.path_for_write(FILES["vocals"]), vocals, sr)
            if vb > va:
                a_s, b_s = min(a_s, va), max(b_s, vb)
            backing = _sing_harmony(ctx, old_score, new_score, sheet, new_sheet, touched)
            if backing is not None and backing[2] > backing[1]:
                write_pcm(e.path_for_write(HARMONY_STEM), backing[0], sr)
                a_s, b_s = min(a_s, backing[1]), max(b_s, backing[2])
                changed.add("harmony_vocals")
        write_symbolic(e.path_for_write, new_sheet, arrangement, new_score)
        region = _bar_range(ctx, a_s, b_s, sr)
        _remix(ctx, vocals, region, sr, accompaniment=bool(changed))
        return e.commit({"bars": [region[0] + 1, region[1]], "seconds_range": [a_s / sr, b_s / sr],
                         "tracks": sorted(changed), "lines": sorted(i + 1 for i in touched)})
