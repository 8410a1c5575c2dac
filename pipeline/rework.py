"""Edits that rework the whole song from its lead sheet: extending it with sections, and
restyling it (a cover: same lead sheet and vocals, new arrangement and mix).

Both re-render through :meth:`SongPipeline.render_lead_sheet` into an edit transaction
(:class:`pipeline.history.SongEdit`), so they are recorded in ``history/`` and can be undone.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from representations.audio import Audio
from representations.errors import SpecError
from representations.leadsheet import LeadSheet

from .history import SongEdit
from .pipeline import SongPipeline
from .song import FILES, Song
from .spec import SongSpec, parse_lyrics


def song_spec(song: Song, **changes) -> SongSpec:
    """The spec a song folder was rendered from (its spec.yaml), with ``changes`` applied."""
    data = yaml.safe_load((song.folder / FILES["spec"]).read_text(encoding="utf-8")) or {}
    data.update(changes)
    return SongSpec.model_validate(data | {"source": str(song.folder / FILES["spec"])})


def _planned_fragment(sheet: LeadSheet, text: str, *, seed: int, voice: str | None):
    """Sections from lyric text, planned by the rule planner in the song's key, tempo, meter and style."""
    from generators.extend import concat, copy_section
    from generators.rule_planner import RulePlanner

    asked = parse_lyrics(text, where="--add")
    spec = SongSpec(title=sheet.title, lyrics=text, tags=list(sheet.style_tags), key=str(sheet.key),
                    tempo=sheet.tempo_bpm, meter=str(sheet.meter), language=sheet.language, seed=seed,
                    voice=voice, source="--add")
    part = RulePlanner().plan(spec, seed=seed)
    keep = list(range(len(part.sections)))
    if part.sections[0].kind == "intro" and asked[0].kind != "intro":
        keep = keep[1:]
    if part.sections[keep[-1]].kind == "outro" and asked[-1].kind != "outro":
        keep = keep[:-1]
    return concat([copy_section(part, i) for i in keep], sheet)


def extension(sheet: LeadSheet, *, add: str | None, bars: int | None, at: str, seed: int, voice: str | None):
    """The fragment to insert: sections from ``add`` (lyric text with tags; a tag alone repeats
    that section of the song, or adds 4 instrumental bars), or ``bars`` instrumental bars."""
    from generators.extend import concat, copy_section, instrumental_fragment

    if (add is None) == (bars is None):
        raise SpecError("extend: give either --add \"[Section]\" (with lyric lines if new) or --bars N")
    if at not in ("start", "end"):
        raise SpecError(f"--at {at!r} is not valid (valid: start, end)")
    if bars is not None:
        if not 1 <= bars <= 64:
            raise SpecError(f"--bars {bars} is not valid (valid: 1-64)")
        kind = "outro" if at == "end" else "intro"
        return instrumental_fragment(sheet, kind, f"{kind.title()} (extended)", bars, from_end=at == "end")
    asked = parse_lyrics(add.replace("\\n", "\n"), where="--add")
    if not asked:
        raise SpecError(f"--add {add!r}: no section (valid: e.g. \"[Chorus]\" or \"[Verse]\\nnew words\")")
    frags = []
    for sec in asked:
        if sec.lines:
            frags.append(_planned_fragment(sheet, f"[{sec.label}]\n" + "\n".join(sec.lines), seed=seed, voice=voice))
            continue
        same = [i for i, s in enumerate(sheet.sections) if s.kind == sec.kind]
        sung = [i for i in same if any(l.section == i for l in sheet.lyrics)]
        if same:
            frags.append(copy_section(sheet, (sung or same)[-1]))
        else:
            frags.append(instrumental_fragment(sheet, sec.kind, sec.label, 4, from_end=at == "end"))
    return concat(frags, sheet)


def _rerender(e: SongEdit, spec: SongSpec, sheet: LeadSheet, **kwargs) -> Song:
    old_stems = {p.name for p in (e.staging / FILES["stems"]).glob("*.wav")}
    song = SongPipeline().render_lead_sheet(spec, sheet, e.path_for_write, **kwargs)
    for name in old_stems - {f"{t.name}.wav" for t in song.arrangement.tracks}:
        e.remove(f"{FILES['stems']}/{name}")
    return song


def extend_song(song_dir: str | Path, out_dir: str | Path | None = None, *, add: str | None = None,
                bars: int | None = None, at: str = "end", in_place: bool = False) -> Song:
    """Add sections before or after the song (``at``), continuing its key, tempo and style.

    ``add`` is lyric text with section tags ("[Chorus]" repeats the song's chorus; "[Verse]" with
    lines under it is planned and sung anew); ``bars`` adds that many instrumental bars.
    """
    from generators.extend import insert_fragment

    with SongEdit(song_dir, out_dir, op="extend", args={"add": add, "bars": bars, "at": at}, in_place=in_place) as e:
        song = e.song
        spec = song_spec(song)
        frag = extension(song.lead_sheet, add=add, bars=bars, at=at, seed=spec.seed, voice=song.manifest.get("voice"))
        sheet, at_bar = insert_fragment(song.lead_sheet, frag, at=at)
        _rerender(e, spec, sheet)
        return e.commit({"bars": [at_bar + 1, at_bar + frag.n_bars], "added_sections": [s.label for s in frag.sections]})


def restyle_song(song_dir: str | Path, tags: str, out_dir: str | Path | None = None, *, seed: int | None = None,
                 in_place: bool = False) -> Song:
    """A cover: the same lead sheet and sung vocals with a new arrangement and mix for ``tags``."""
    from generators.style import tag_list

    if not tag_list(tags):
        raise SpecError("--tags is empty (valid: style tags, e.g. \"jazz, upright bass, brushes\")")
    with SongEdit(song_dir, out_dir, op="restyle", args={"tags": tags, "seed": seed}, in_place=in_place) as e:
        song = e.song
        spec = song_spec(song, tags=tags, **({"seed": seed} if seed is not None else {}))
        sheet = replace(song.lead_sheet, style_tags=tag_list(tags))
        vocals = Audio.load(song.path("vocals"))
        _rerender(e, spec, sheet, vocals=vocals, vocal_score=song.vocal_score)
        return e.commit({"bars": [1, sheet.n_bars]})
