"""The web studio: a Gradio app over :mod:`pipeline.studio` (``songwright studio``).

Tabs: *Create* (lyrics, tags, key/tempo/meter, voice preset or reference upload, seed → players
for the mix and every stem, the lead-sheet picture, downloads), *Edit* (new words for a lyric
line; repaint bars) and *Voice* (sing a song in an uploaded voice). Every action is also an API
endpoint for ``gradio_client``: ``/create``, ``/edit_line``, ``/repaint``, ``/convert_voice`` and
``/show``; each returns the same outputs (see :data:`OUTPUT_NAMES`).

The server binds 127.0.0.1 unless told otherwise, refuses uploads over 50 MB and serves files
from the studio's work folder only.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from representations.errors import BackendUnavailable, SongwrightError

from . import studio

DEFAULT_PORT = 7860
DEFAULT_HOST = "127.0.0.1"
N_STEM_PLAYERS = 12
KEYS = ["auto"] + [f"{t} {m}" for m in ("major", "minor") for t in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")]
METERS = ["auto", "4/4", "3/4", "6/8", "2/4", "12/8"]
OUTPUT_NAMES = ["status", "song_id", "mix", "vocals"] + [f"stem_{i + 1}" for i in range(N_STEM_PLAYERS)] + [
    "picture", "downloads", "line"]
EXAMPLE_LYRICS = "[Verse]\nWe wrote our names on paper lanterns\nand let them drift above the bay\n[Chorus]\nSo let it rise, let it glow"


def _gradio():
    try:
        import gradio as gr
    except ImportError:
        raise BackendUnavailable("the studio needs gradio (pip install 'songwright[studio]')") from None
    return gr


def _error(e: Exception):
    import html

    gr = _gradio()
    return gr.Error(html.escape(" ".join(str(e).split())), print_exception=False)


def _outputs(workspace: studio.Workspace, job_id: str, note: str = "") -> list:
    """The values of :data:`OUTPUT_NAMES` for one job."""
    gr = _gradio()
    f = studio.song_files(workspace, job_id)
    m = f["song"].manifest
    status = (f"**{m['title']}** — {m['key']}, {m['tempo_bpm']:g} BPM, {m['meter']}, {m['duration_s']:.1f} s, "
              f"voice {m.get('voice') or 'none'}; rendered in {sum(m.get('timings_s', {}).values()):.1f} s. Song id `{job_id}`.")
    if note:
        status += f"\n\n{note}"
    stems = list(f["stems"].items())
    players = []
    for i in range(N_STEM_PLAYERS):
        if i < len(stems):
            players.append(gr.update(value=str(stems[i][1]), label=f"stem: {stems[i][0]}", visible=True))
        else:
            players.append(gr.update(value=None, visible=False))
    if len(stems) > N_STEM_PLAYERS:
        status += f"\n\n{len(stems) - N_STEM_PLAYERS} more stems are in the downloads."
    downloads = [str(p) for p in f["downloads"]] + [str(p) for _, p in stems[N_STEM_PLAYERS:]]
    lines = [(f"{i + 1}: {t}", str(i + 1)) for i, t in enumerate(f["lines"])]
    return [status, job_id, str(f["mix"]),
            gr.update(value=str(f["vocals"]) if f["vocals"] else None, visible=f["vocals"] is not None),
            *players, str(f["picture"]), downloads,
            gr.update(choices=lines, value=lines[0][1] if lines else None)]


def _availability_note() -> str:
    missing = []
    if studio.find_operation(studio.EDIT_LINE) is None:
        missing.append("new words for a line")
    if studio.find_operation(studio.REPAINT) is None:
        missing.append("repainting bars")
    return ("Not available in this version of Songwright: " + ", ".join(missing) + ".") if missing else ""


def build_app(workspace: studio.Workspace, *, pipeline: studio.StudioPipeline | None = None):
    """The studio's :class:`gradio.Blocks` working in ``workspace``."""
    gr = _gradio()
    from voice.presets import PRESETS

    pipeline = pipeline or studio.default_pipeline()

    def run(action):
        try:
            return action()
        except SongwrightError as e:
            raise _error(e) from None

    def on_create(lyrics, title, tags, key, tempo, meter, voice, reference, seed, progress=gr.Progress(track_tqdm=True)):
        # the pipeline's per-stage tqdm bars ("[4/6] sing") are what the progress bar shows
        def action():
            spec = studio.make_spec(lyrics=lyrics, title=title, tags=tags, key=key, tempo=tempo, meter=meter,
                                    voice=voice, seed=seed or 0)
            job = studio.create_song(workspace, spec, reference=reference or None, pipeline=pipeline)
            return _outputs(workspace, job)

        return run(action)

    def on_edit_line(song_id, line, text, progress=gr.Progress(track_tqdm=True)):
        def action():
            head = str(line or "").split(":")[0].strip()
            if not head.isdigit():
                raise SongwrightError(f"lyric line {str(line)[:40]!r} is not a line number (valid: a line of the song, from 1)")
            n = int(head)
            progress(None, desc=f"singing line {n} anew")
            return _outputs(workspace, studio.edit_line(workspace, song_id, n, text), f"Line {n} edited.")

        return run(action)

    def on_repaint(song_id, first_bar, last_bar, seed, tags, progress=gr.Progress(track_tqdm=True)):
        def action():
            a, b = int(first_bar or 0), int(last_bar or 0)
            progress(None, desc=f"repainting bars {a}-{b}")
            job = studio.repaint(workspace, song_id, a, b, seed=None if seed in (None, "") else int(seed),
                                 tags=tags or None)
            return _outputs(workspace, job, f"Bars {a}-{b} repainted.")

        return run(action)

    def on_convert(song_id, reference, progress=gr.Progress(track_tqdm=True)):
        def action():
            if not reference:
                raise SongwrightError("voice reference: none uploaded (valid: 3-30 s of one person singing or speaking)")
            progress(None, desc="converting the voice")
            return _outputs(workspace, studio.convert_voice(workspace, song_id, reference), "Voice converted.")

        return run(action)

    def on_show(song_id):
        return run(lambda: _outputs(workspace, song_id))

    limits = (f"Uploads: at most {studio.MAX_UPLOAD_BYTES // 2**20} MB; a voice reference holds "
              f"{studio.MIN_REFERENCE_S:g}-{studio.MAX_REFERENCE_S:g} s of sound.")
    # files Gradio copied into its cache to serve them are deleted after a day
    with gr.Blocks(title="Songwright studio", analytics_enabled=False, delete_cache=(3600, 86400)) as app:
        gr.Markdown("# Songwright studio\nLyrics and style tags in, a finished song out.")
        with gr.Row():
            song_id = gr.Textbox(label="Song id", elem_id="song-id", scale=3,
                                 info="the song the Edit and Voice tabs work on; filled in by every render")
            show_btn = gr.Button("Open", scale=1)
        status = gr.Markdown(elem_id="status")
        with gr.Tab("Create"):
            with gr.Row():
                with gr.Column(scale=3):
                    lyrics = gr.Textbox(label="Lyrics", lines=10, value=EXAMPLE_LYRICS, elem_id="lyrics",
                                        info="section tags like [Verse], [Chorus]; one sung line per line")
                    title = gr.Textbox(label="Title", value="Paper Lanterns", elem_id="title")
                    tags = gr.Textbox(label="Style tags", value="warm acoustic pop, piano, upbeat", elem_id="tags")
                with gr.Column(scale=2):
                    key = gr.Dropdown(KEYS, value="auto", label="Key")
                    tempo = gr.Number(value=0, label="Tempo (BPM, 0 = from the tags)", minimum=0, maximum=300)
                    meter = gr.Dropdown(METERS, value="auto", label="Meter")
                    voice = gr.Dropdown(["auto"] + list(PRESETS), value="auto", label="Voice preset")
                    reference = gr.Audio(label="…or a voice reference (3-30 s)", sources=["upload"], type="filepath")
                    seed = gr.Number(value=0, label="Seed", precision=0, minimum=0)
            create_btn = gr.Button("Create", variant="primary", elem_id="create")
        with gr.Tab("Edit"):
            note = _availability_note()
            if note:
                gr.Markdown(f"**{note}**", elem_id="edit-note")
            with gr.Row():
                line = gr.Dropdown([], label="Lyric line", allow_custom_value=True, scale=2)
                new_words = gr.Textbox(label="New words", scale=3)
            edit_btn = gr.Button("Sing the line anew")
            with gr.Row():
                first_bar = gr.Number(value=1, label="First bar", precision=0, minimum=1)
                last_bar = gr.Number(value=2, label="Last bar", precision=0, minimum=1)
                repaint_seed = gr.Number(value=None, label="Seed (empty: the song's)", precision=0)
                repaint_tags = gr.Textbox(label="Style tags for the bars (empty: the song's)")
            repaint_btn = gr.Button("Repaint the bars")
        with gr.Tab("Voice"):
            voice_ref = gr.Audio(label="Voice reference (3-30 s)", sources=["upload"], type="filepath")
            convert_btn = gr.Button("Sing the song in this voice")
        gr.Markdown(limits)
        mix = gr.Audio(label="Mix", type="filepath", interactive=False, elem_id="mix")
        vocals = gr.Audio(label="Lead vocal (dry)", type="filepath", interactive=False, visible=False)
        with gr.Accordion("Stems", open=False):
            stems = [gr.Audio(type="filepath", interactive=False, visible=False) for _ in range(N_STEM_PLAYERS)]
        picture = gr.Image(label="Lead sheet", show_label=False, type="filepath", interactive=False, elem_id="picture")
        downloads = gr.File(label="Downloads", file_count="multiple", interactive=False, elem_id="downloads")

        outs = [status, song_id, mix, vocals, *stems, picture, downloads, line]
        create_btn.click(on_create, [lyrics, title, tags, key, tempo, meter, voice, reference, seed], outs,
                         api_name="create", show_progress_on=[mix])
        edit_btn.click(on_edit_line, [song_id, line, new_words], outs, api_name="edit_line", show_progress_on=[mix])
        repaint_btn.click(on_repaint, [song_id, first_bar, last_bar, repaint_seed, repaint_tags], outs,
                          api_name="repaint", show_progress_on=[mix])
        convert_btn.click(on_convert, [song_id, voice_ref], outs, api_name="convert_voice",
                          show_progress_on=[mix])
        show_btn.click(on_show, [song_id], outs, api_name="show")
    app.queue(default_concurrency_limit=1)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(workdir: str | Path = studio.DEFAULT_WORKDIR, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
           block: bool = True, quiet: bool = False, pipeline: studio.StudioPipeline | None = None):
    """Serve the studio on ``http://host:port``; returns ``(app, url)`` (when ``block`` is false).

    Parameters
    ----------
    workdir : the work folder: every song the studio makes is written under it, and only files
        under it (and Gradio's own upload cache) are served.
    host : interface to bind; 127.0.0.1 (this machine only) unless another is asked for.
    port : TCP port (default 7860).
    block : serve until interrupted; otherwise start the server in a thread and return.
    pipeline : the pipeline that renders new songs (default: :func:`studio.default_pipeline`).
    """
    gr = _gradio()
    workspace = studio.Workspace(workdir)
    app = build_app(workspace, pipeline=pipeline)
    _, url, _ = app.launch(
        server_name=host, server_port=port, prevent_thread_lock=True, quiet=quiet, share=False,
        max_file_size=studio.MAX_UPLOAD_BYTES, allowed_paths=[str(workspace.root)], ssr_mode=False,
        show_error=True, footer_links=["api"], theme=gr.themes.Default(), mcp_server=False,
    )
    if block:
        try:
            app.block_thread()
        finally:
            app.close()
    return app, url
