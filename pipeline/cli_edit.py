"""Commands that edit a rendered song folder: lyrics, edit, repaint, extend, restyle, undo."""

from __future__ import annotations

import re

from representations.errors import SpecError


def _fmt(t: float | None) -> str:
    return "--:--.--" if t is None else f"{int(t // 60)}:{t % 60:05.2f}"


def cmd_lyrics(args) -> int:
    from .edit import list_lyrics

    for row in list_lyrics(args.song_dir):
        print(f"{row['line']:>3}  {row['section']:<12} {_fmt(row['start_s'])}–{_fmt(row['end_s'])}  {row['text']}")
    return 0


def _report(song, what: str) -> int:
    last = song.manifest.get("last_edit", {})
    bars = last.get("bars")
    where = f" (bars {bars[0]}–{bars[1]})" if bars and bars[1] else ""
    print(f"{song.folder}: {what}{where} in {last.get('seconds', 0):.1f} s; undo with 'songwright undo {song.folder}'")
    return 0


def warm_singer_early(song_dir: str) -> None:
    """Start loading the song's singing voice in a background thread, before the edit's own
    imports: on a cold start it is the largest single cost of a lyric edit (about 1.3 s of model
    set-up), and it overlaps with the rest. Problems are left for the edit itself to report;
    a second call does nothing."""
    import json
    import threading
    from pathlib import Path

    if any(t.name == "warm-singer" for t in threading.enumerate()):
        return
    try:
        manifest = json.loads((Path(song_dir) / "manifest.json").read_text(encoding="utf-8"))
        language = json.loads((Path(song_dir) / "leadsheet.json").read_text(encoding="utf-8")).get("language", "en")
    except (OSError, ValueError, AttributeError):
        return

    def load() -> None:
        from . import backends

        try:
            backends.create("singer", manifest.get("backends", {}).get("singer")).warm_up(language)
        except Exception:  # noqa: BLE001 - the edit loads the singer again and reports what is wrong
            pass

    threading.Thread(target=load, name="warm-singer").start()


def cmd_edit(args) -> int:
    from .edit import edit_lyrics

    if len(args.line) != len(args.text):
        raise SpecError(f"{len(args.line)} --line and {len(args.text)} --text options (valid: one --text after "
                        f"each --line)")
    if len(set(args.line)) != len(args.line):
        raise SpecError(f"--line {sorted(n for n in args.line if args.line.count(n) > 1)[0]} is given twice "
                        f"(valid: each line once)")
    song = edit_lyrics(args.song_dir, dict(zip(args.line, args.text)), args.output, in_place=args.in_place)
    which = f"line {args.line[0]}" if len(args.line) == 1 else "lines " + ", ".join(map(str, sorted(args.line)))
    return _report(song, f"{which} re-sung")


def parse_bars(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*(?:[-–:]\s*(\d+))?\s*", text or "")
    if not m:
        raise SpecError(f"--bars {text!r} is not valid (valid: A-B, e.g. 9-12, counted from 1)")
    a = int(m.group(1))
    b = int(m.group(2) or a)
    if b < a:
        raise SpecError(f"--bars {text!r}: the end comes before the start (valid: A-B with A <= B)")
    return a, b


def cmd_repaint(args) -> int:
    from .edit import repaint_bars

    song = repaint_bars(args.song_dir, parse_bars(args.bars), args.output, seed=args.seed, tags=args.tags,
                        in_place=args.in_place)
    return _report(song, "bars repainted")


def cmd_extend(args) -> int:
    from .rework import extend_song

    song = extend_song(args.song_dir, args.output, add=args.add, bars=args.bars, at=args.at, in_place=args.in_place)
    return _report(song, "extended")


def cmd_restyle(args) -> int:
    from .rework import restyle_song

    song = restyle_song(args.song_dir, args.tags, args.output, seed=args.seed, in_place=args.in_place)
    return _report(song, "restyled")


def cmd_undo(args) -> int:
    from .history import undo

    last = undo(args.song_dir)
    print(f"{args.song_dir}: undid {last['entry']} ({last['op']} {last['args']})")
    return 0


def add_commands(sub) -> None:
    def target(p):
        p.add_argument("song_dir", help="a song folder written by 'songwright render'")
        p.add_argument("-o", "--output", help="folder for the edited song (the source is left as it is)")
        p.add_argument("--in-place", action="store_true", help="replace the source folder (atomically)")

    p = sub.add_parser("lyrics", help="list a song's lyric lines with their sections and times")
    p.add_argument("song_dir")
    p.set_defaults(func=cmd_lyrics)

    p = sub.add_parser("edit", help="sing lyric lines with new words; nothing else moves")
    target(p)
    p.add_argument("--line", type=int, required=True, action="append",
                   help="lyric line number (see 'songwright lyrics'); repeat --line N --text WORDS to edit several")
    p.add_argument("--text", required=True, action="append", help="the new words of that line")
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("repaint", help="regenerate melody and accompaniment inside a range of bars")
    target(p)
    p.add_argument("--bars", required=True, help="A-B, counted from 1")
    p.add_argument("--seed", type=int)
    p.add_argument("--tags", help="style tags for the repainted bars")
    p.set_defaults(func=cmd_repaint)

    p = sub.add_parser("extend", help="add sections before or after the song")
    target(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--add", help='sections to add, e.g. "[Chorus]" or "[Verse]\\nnew line\\nanother"')
    g.add_argument("--bars", type=int, help="instrumental bars to add")
    p.add_argument("--at", choices=["start", "end"], default="end")
    p.set_defaults(func=cmd_extend)

    p = sub.add_parser("restyle", help="same lead sheet and vocals, new arrangement and mix (a cover)")
    target(p)
    p.add_argument("--tags", required=True, help='e.g. "jazz, upright bass, brushes"')
    p.add_argument("--seed", type=int)
    p.set_defaults(func=cmd_restyle)

    p = sub.add_parser("undo", help="restore a song folder to its state before its latest edit")
    p.add_argument("song_dir")
    p.set_defaults(func=cmd_undo)
