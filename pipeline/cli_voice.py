"""Commands ``clone-voice`` (a song folder re-sung in a reference voice) and ``convert-voice``
(any recording converted to a reference voice)."""

from __future__ import annotations

from representations.errors import SongwrightError


def _converter(args):
    from .voice_jobs import make_converter

    kwargs = {"register": args.register} if hasattr(args, "register") else {}
    if args.backend == "neural":
        if args.frame_matching is not None:
            raise SongwrightError("--frame-matching is for --backend world (got --backend neural)")
        return make_converter("neural", checkpoint_dir=args.checkpoint, **kwargs)
    if args.checkpoint:
        raise SongwrightError(f"--checkpoint is for --backend neural (got --backend {args.backend})")
    if args.frame_matching is not None:
        if not 0.0 <= args.frame_matching <= 1.0:
            raise SongwrightError(f"--frame-matching {args.frame_matching}: not valid (valid: 0-1)")
        kwargs["frame_matching"] = args.frame_matching
    return make_converter(args.backend, **kwargs)


def _describe(conv: dict) -> str:
    shift = conv.get("shift_semitones")
    parts = [conv.get("backend", "?")]
    if shift is not None:
        parts.append(f"melody {shift:+d} semitones")
    if "warp_ratio" in conv:
        parts.append(f"formant warp {conv['warp_ratio']:.2f}")
    return ", ".join(parts)


def cmd_clone_voice(args) -> int:
    from .voice_jobs import clone_voice

    song = clone_voice(args.song_dir, args.reference, args.output, in_place=args.in_place, converter=_converter(args))
    m = song.manifest
    print(f"{song.folder}: {m.get('title', '')} re-sung as {m['voice']} ({_describe(m['voice_conversion'])}) "
          f"in {m['voice_conversion'].get('seconds', 0):.1f} s")
    return 0


def cmd_convert_voice(args) -> int:
    from .voice_jobs import convert_file

    info = convert_file(args.input, args.reference, args.output, separate=args.separate, demucs_dir=args.demucs_dir,
                        converter=_converter(args))
    sep = info["separation"] or "none (a cappella input)"
    print(f"{args.output}: {info['duration_s']:.1f} s converted to the voice of {info['voice_reference']['file']} "
          f"({_describe(info['voice_conversion'])}) in {info['seconds']:.1f} s; separation: {sep}")
    return 0


def _common(p) -> None:
    p.add_argument("--reference", required=True, help="3-30 s of the target voice, speaking or singing "
                                                      "(wav, flac, ogg, mp3)")
    p.add_argument("--backend", default="world", help="voice converter: world (default, no weights) or neural")
    p.add_argument("--checkpoint", help="checkpoint folder for --backend neural (config.json, model.safetensors; "
                                        "default $SONGWRIGHT_MODELS_DIR/voice-conversion)")
    p.add_argument("--frame-matching", type=float,
                   help="0-1 (world backend, default 0.5): how far each frame moves towards the nearest reference "
                        "frames; higher is closer to the reference voice, lower keeps words clearer")


def add_commands(sub) -> None:
    c = sub.add_parser("clone-voice", help="re-sing a song folder's vocals in the voice of a reference recording")
    c.add_argument("song_dir", help="a song folder written by 'songwright render'")
    c.add_argument("-o", "--output", help="song folder to write (required unless --in-place)")
    c.add_argument("--in-place", action="store_true", help="replace the song folder's own vocals and mix")
    _common(c)
    c.set_defaults(func=cmd_clone_voice)

    v = sub.add_parser("convert-voice", help="convert the voice of a recording to that of a reference recording")
    v.add_argument("input", help="an a cappella recording, or a full mix (see --separate)")
    v.add_argument("-o", "--output", required=True, help="WAV file to write")
    v.add_argument("--separate", choices=["auto", "always", "never"], default="auto",
                   help="separate the vocals from a full mix first (auto: when the input sounds like one)")
    v.add_argument("--demucs-dir", help="local Demucs checkpoint folder (default $SONGWRIGHT_MODELS_DIR/demucs); "
                                        "without one, REPET-SIM separation is used")
    v.add_argument("--register", choices=["octave", "semitone"], default="octave",
                   help="move the melody by whole octaves (default) or by any whole number of semitones")
    _common(v)
    v.set_defaults(func=cmd_convert_voice)
