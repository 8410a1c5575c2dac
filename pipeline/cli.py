"""The ``songwright`` command line.

Every error a user can cause prints one line, ``songwright: error: ...``, and exits with 2.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

from representations.errors import SongwrightError

MUSICXML_SUFFIXES = (".musicxml", ".xml", ".mxl")
# modules with ``add_commands(subparsers)``: each adds its subcommands with ``set_defaults(func=...)``
COMMAND_MODULES: list[str] = ["pipeline.cli_edit", "pipeline.cli_studio", "pipeline.cli_train", "pipeline.doctor", "pipeline.cli_voice"]


def slug(text: str) -> str:
    s = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")
    return s[:60] or "song"


def load_spec(path: str, args):
    """A spec (:class:`pipeline.spec.SongSpec`) from YAML, or a spec around a MusicXML lead sheet;
    command-line options override."""
    from pydantic import ValidationError

    from .spec import SongSpec, explain_error

    p = Path(path)
    if p.suffix.lower() in MUSICXML_SUFFIXES:
        if not p.is_file():
            raise SongwrightError(f"{p}: no such file")
        spec = SongSpec(title=p.stem.replace("_", " ").replace("-", " ") or "Untitled", leadsheet=str(p),
                        source=str(p))
    else:
        spec = SongSpec.from_yaml(p)
    overrides = {}
    for name in ("seed", "voice", "tags", "voice_reference"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if overrides:
        try:
            spec = SongSpec.model_validate(spec.model_dump() | overrides)
        except ValidationError as e:  # report the option
            err = e.errors()[0]
            top = str(err["loc"][0]) if err["loc"] else ""
            raise SongwrightError(f"command line: --{top.replace('_', '-')}: {explain_error(err, top)}") from None
    return spec


def cmd_render(args) -> int:
    from .pipeline import SongPipeline

    spec = load_spec(args.spec, args)
    out = Path(args.output) if args.output else Path("out") / slug(spec.title)
    song = SongPipeline(progress=not args.quiet).render(spec, out)
    m = song.manifest
    print(f"{out}: {m['title']} — {m['key']}, {m['tempo_bpm']:g} BPM, {m['meter']}, {m['duration_s']:.1f} s, "
          f"rendered in {sum(m['timings_s'].values()):.1f} s")
    return 0


def cmd_validate(args) -> int:
    from .pipeline import SongPipeline

    spec = load_spec(args.spec, args)
    sheet = SongPipeline().plan(spec)
    n_syll = sum(len(l.syllables) for l in sheet.lyrics)
    print(f"{args.spec}: ok — {len(sheet.sections)} sections, {len(sheet.lyrics)} lyric lines, {n_syll} syllables, "
          f"{sheet.key}, {sheet.tempo_bpm:g} BPM, {sheet.meter}, {sheet.duration_s:.1f} s")
    return 0


def cmd_voices(args) -> int:
    from voice.presets import PRESETS

    for p in PRESETS.values():
        print(f"{p.name:<8} {p.gender:<7} {p.range_name:<8} centre {p.centre_name:<4} {p.description}")
    return 0


def cmd_batch(args) -> int:
    from .batch import run_batch, summary_table

    if args.workers < 1:
        raise SongwrightError(f"--workers {args.workers}: must be at least 1")
    results = run_batch(args.specs_dir, args.output, workers=args.workers, use_ray=args.ray,
                        ray_address=args.ray_address, progress=not args.quiet)
    print(summary_table(results))
    return 2 if any(r.status == "failed" for r in results) else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="songwright", description="Lyrics and style tags in, a finished song out.")
    sub = ap.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="render a song spec (YAML) or a MusicXML lead sheet into a song folder")
    r.add_argument("spec", help="song spec .yaml, or a .musicxml/.mxl lead sheet")
    r.add_argument("-o", "--output", help="song folder to write (default: out/<title>)")
    r.add_argument("--seed", type=int, help="override the spec's seed")
    r.add_argument("--voice", help="voice preset (see 'songwright voices')")
    r.add_argument("--tags", help="style tags, overriding the spec's")
    r.add_argument("--voice-reference", dest="voice_reference",
                   help="3-30 s recording of a voice to sing in (only with the singer's consent)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    r.set_defaults(func=cmd_render)

    v = sub.add_parser("validate", help="check a spec (and plan it) without rendering")
    v.add_argument("spec")
    v.set_defaults(func=cmd_validate)

    b = sub.add_parser("batch", help="render every spec in a folder, in parallel, resumably")
    b.add_argument("specs_dir")
    b.add_argument("-o", "--output", required=True, help="folder for the song folders and the ledger")
    b.add_argument("--workers", type=int, default=1, help="songs rendered at once (processes or Ray tasks)")
    b.add_argument("--ray", action="store_true", help="run the songs as Ray tasks on a local Ray instance")
    b.add_argument("--ray-address", help="run on an existing Ray cluster at HOST:PORT")
    b.add_argument("-q", "--quiet", action="store_true")
    b.set_defaults(func=cmd_batch)

    vo = sub.add_parser("voices", help="list the voice presets")
    vo.set_defaults(func=cmd_voices)

    for module in COMMAND_MODULES:  # further commands live beside the job code they drive
        importlib.import_module(module).add_commands(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 and argv[0] == "edit":  # the voice model loads while the rest starts up
        from .cli_edit import warm_singer_early

        warm_singer_early(argv[1])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SongwrightError as e:
        msg = " ".join(str(e).split())
        print(f"songwright: error: {msg}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("songwright: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
