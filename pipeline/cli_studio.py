"""``songwright studio``: the web studio on this machine (see :mod:`pipeline.studio_app`)."""

from __future__ import annotations

import os
import sys

from representations.errors import SongwrightError


def cmd_studio(args) -> int:
    from . import studio, studio_app

    if not 1 <= args.port <= 65535:
        raise SongwrightError(f"--port {args.port}: not a TCP port (valid: 1-65535)")
    if not studio_app.is_loopback(args.host):
        print(f"songwright studio: serving on {args.host}: anyone who can reach this machine can use the studio",
              file=sys.stderr)
    workspace = studio.Workspace(args.workdir or studio.DEFAULT_WORKDIR)
    # uploads and the copies Gradio serves live in the work folder too (read when gradio is imported)
    os.environ.setdefault("GRADIO_TEMP_DIR", str(workspace.root / ".gradio"))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    print(f"songwright studio: http://{args.host}:{args.port} (songs in {workspace.root}; "
          f"Ctrl+C stops)", file=sys.stderr)
    studio_app.launch(workspace.root, host=args.host, port=args.port, block=True, quiet=True)
    return 0


def add_commands(subparsers) -> None:
    s = subparsers.add_parser(
        "studio", help="the web studio in your browser (create, edit, voice)",
        description="Serve the Songwright studio, a web app, on http://HOST:PORT. Uploads are limited to 50 MB; "
                    "a voice reference must hold 3-30 s of sound. Songs are written under the work folder only.")
    s.add_argument("--port", type=int, default=7860, help="TCP port (default 7860)")
    s.add_argument("--host", default="127.0.0.1",
                   help="interface to bind (default 127.0.0.1: this machine only; 0.0.0.0 opens it to the network)")
    s.add_argument("--workdir", help="work folder for the studio's songs (default ~/.cache/songwright/studio)")
    s.set_defaults(func=cmd_studio)
