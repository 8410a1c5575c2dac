"""The web studio: its jobs (work folder, limits, stage progress), the lead-sheet picture, and the
Gradio API driven from gradio_client against a server on a free localhost port."""

import re
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline import studio
from representations.errors import AudioInputError, SongwrightError

# gradio's queue uses pandas options that pandas 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:Warning", "ignore:The copy keyword:Warning")
TAGS = "folk, acoustic guitar, 110 BPM"
FILES = {"mix.wav", "vocals.wav", "leadsheet.musicxml", "arrangement.mid", "lyrics.lrc"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tone(path, seconds: float, *, sample_rate: int = 22050, f0_hz: float = 180.0):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    y = sum(0.2 / k * np.sin(2 * np.pi * k * f0_hz * t) for k in range(1, 6))
    sf.write(path, y.astype(np.float32), sample_rate)
    return path


# ---- the work folder and its limits ---------------------------------------------------------------
def test_job_ids_cannot_leave_the_work_folder(tmp_path):
    ws = studio.Workspace(tmp_path / "work")
    job = ws.new_job()
    assert ws.job_dir(job) == tmp_path / "work" / job
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws.root / "20260101-120000-deadbeef").symlink_to(outside)  # a planted link is not followed
    for bad in ("../outside", "/etc", f"{job}/../../outside", "..", "", "20260101-120000-deadbeef",
                "20260101-120000-DEADBEEF", f"{job}\n"[:-1] + "/x"):
        with pytest.raises(SongwrightError, match="song id"):
            ws.job_dir(bad)
    ws.discard("../outside")  # refused silently: only job folders are removed
    assert outside.is_dir()


def test_reference_upload_limits(tmp_path):
    ws = studio.Workspace(tmp_path / "work")
    job_dir = ws.job_dir(ws.new_job())
    with pytest.raises(AudioInputError, match="too long"):
        studio.save_reference(tone(tmp_path / "long.wav", 31.0), job_dir)
    with pytest.raises(AudioInputError, match="too short"):
        studio.save_reference(tone(tmp_path / "short.wav", 1.0), job_dir)
    (tmp_path / "text.wav").write_text("not audio at all")
    with pytest.raises(AudioInputError, match="not an audio file"):
        studio.save_reference(tmp_path / "text.wav", job_dir)
    big = tone(tmp_path / "big.wav", 4.0)
    with pytest.raises(AudioInputError, match="too large"):
        studio.check_upload(big, max_bytes=1000)
    assert studio.MAX_UPLOAD_BYTES == 50 * 2**20

    out = studio.save_reference(tone(tmp_path / "ok.wav", 5.0), job_dir)
    assert out.parent == job_dir
    y, sr = sf.read(out)
    assert sr == 44100 and y.ndim == 1 and abs(len(y) / sr - 5.0) < 0.05  # resampled to 44.1 kHz mono


def test_form_errors_name_the_field():
    with pytest.raises(SongwrightError, match=r"unknown section tag \[Bogus\]"):
        studio.make_spec(lyrics="[Bogus]\nla la la")
    with pytest.raises(SongwrightError, match="tempo"):
        studio.make_spec(lyrics="la la", tempo=900)
    spec = studio.make_spec(lyrics="[Verse]\nla la", key="A minor", tempo=0, meter="auto", voice="auto", seed=3)
    assert (spec.key, spec.tempo, spec.meter, spec.voice, spec.seed) == ("A minor", None, None, None, 3)


def test_lead_sheet_picture_draws_every_note_syllable_and_chord(tmp_path):
    from fractions import Fraction as F

    from pipeline.studio_plot import lead_sheet_figure, plot_lead_sheet
    from representations.leadsheet import Chord, LeadSheet, LyricLine, Note, Section, Syllable
    from representations.music import Key, Meter

    words = ["ri", "ver", "runs", "home"]
    line = LyricLine(0, "river runs home", [Syllable(w) for w in words])
    notes = [Note(F(4 + i), F(1), 60 + 2 * i, syllable=(0, i)) for i in range(4)] + [Note(F(8), F(2), 67, syllable=(0, 3), melisma=True)]
    sheet = LeadSheet("Pic", Key.parse("C major"), Meter.parse("4/4"), 100.0,
                      [Section("intro", "Intro", 0, 1), Section("verse", "Verse", 1, 9)],
                      [Chord(F(4 * b), F(4), s) for b, s in enumerate(["C", "Am", "F", "G"] + ["C"] * 6)],
                      notes, [line])
    fig = lead_sheet_figure(sheet, bars_per_row=8)
    assert len(fig.axes) == 2  # 10 bars in rows of 8
    rects = sorted((p.get_x(), p.get_y() + 0.4, p.get_width()) for ax in fig.axes for p in ax.patches if p.get_gid() == "note")
    assert rects == [(float(n.start_beats), n.pitch, float(n.duration_beats)) for n in notes]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert [t for t in texts if t in words] == words  # the melisma note carries no second "home"
    assert ["C", "Am", "F", "G", "C"] == [t for t in texts if t in ("C", "Am", "F", "G")][:5]
    assert texts.count("C") == 3  # bars 1 and 5, and again where row 2 starts (bar 9); held bars 6-8 and 10 are not named
    assert "Verse" in texts and "Intro" in texts
    png = plot_lead_sheet(sheet, tmp_path / "p.png")
    img = __import__("matplotlib.image", fromlist=["imread"]).imread(png)
    assert img.shape[1] == 1260 and img[..., :3].std() > 0.05  # 14 in at 90 dpi, not blank


# ---- the app through its API ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("gradio")
    gradio_client = pytest.importorskip("gradio_client")
    from pipeline.studio_app import launch

    work = tmp_path_factory.mktemp("studio")
    app, url = launch(work, port=free_port(), block=False, quiet=True)
    assert url.startswith("http://127.0.0.1:")
    try:
        yield {"client": gradio_client.Client(url, verbose=False), "ws": studio.Workspace(work)}
    finally:
        app.close()


@pytest.fixture(scope="module")
def created(server):
    """A song made through /create; the progress updates seen while it rendered are kept."""
    from pipeline.studio_app import OUTPUT_NAMES

    lyrics = "[Verse]\nthe river runs to the sea\n[Chorus]\nsing me home tonight"
    job = server["client"].submit(lyrics, "River", TAGS, "A minor", 100, "3/4", "alto", None, 3, api_name="/create")
    seen: list[str] = []
    while not job.done():
        for unit in job.status().progress_data or []:
            if unit.desc and (not seen or seen[-1] != unit.desc):
                seen.append(unit.desc)
        time.sleep(0.01)
    return dict(zip(OUTPUT_NAMES, job.result())) | {"progress": seen}


def test_create_returns_the_song_as_asked(server, created):
    from pipeline.quality import loudness_lufs

    ws = server["ws"]
    job = created["song_id"]
    assert ws.jobs() == [job] and job in created["status"]
    song = ws.song(job)
    m = song.manifest
    assert (m["key"], m["tempo_bpm"], m["meter"], m["voice"]) == ("A minor", 100.0, "3/4", "alto")
    assert [line.text for line in song.lead_sheet.lyrics] == ["the river runs to the sea", "sing me home tonight"]

    # the mix that came over HTTP is the song's mix: real audio, the song's length, mastered loudness
    mix, sr = sf.read(created["mix"], always_2d=True)
    assert open(created["mix"], "rb").read() == song.path("mix").read_bytes()
    assert sr == 44100 and mix.shape[1] == 2
    assert abs(mix.shape[0] / sr - m["duration_s"]) < 0.01
    assert abs(loudness_lufs(mix, sr) - -14.0) < 1.0  # the mixer's target, 1 LU tolerance

    # a player per stem, each holding sound; the rest hidden
    shown = [v for k, v in created.items() if k.startswith("stem_") and v.get("visible")]
    assert sorted(s["label"].removeprefix("stem: ") for s in shown) == sorted(song.stems)
    for s in shown:
        y, _ = sf.read(s["value"])
        assert np.sqrt(np.mean(y**2)) > 1e-3
    assert created["vocals"]["visible"] and np.abs(sf.read(created["vocals"]["value"])[0]).max() > 0.05

    names = {p.rsplit("/", 1)[-1] for p in created["downloads"]}
    assert names == FILES
    lrc = next(p for p in created["downloads"] if p.endswith(".lrc"))
    assert "sing me home tonight" in open(lrc, encoding="utf-8").read()
    assert created["line"]["choices"] == [["1: the river runs to the sea", "1"], ["2: sing me home tonight", "2"]]
    assert created["picture"].endswith(".png") and open(created["picture"], "rb").read(4) == b"\x89PNG"

    # the progress bar showed the pipeline's stages as they ran (quick ones may fall between polls)
    stages = [int(re.match(r"\[(\d)/6\] ", d).group(1)) for d in created["progress"]]
    assert stages == sorted(set(stages)) and 4 in stages, created["progress"]  # in order; "sing" takes seconds


def test_api_errors_are_one_line_and_leave_nothing(server, created):
    client, ws = server["client"], server["ws"]
    before = sorted(p.name for p in ws.root.iterdir())
    with pytest.raises(Exception, match=r"unknown section tag \[Bogus\]"):
        client.predict("[Bogus]\nla la", "x", TAGS, "auto", 0, "auto", "auto", None, 0, api_name="/create")
    for bad in ("../../etc", "/etc/passwd", created["song_id"] + "/../.."):
        with pytest.raises(Exception, match="song id"):
            client.predict(bad, api_name="/show")
    assert sorted(p.name for p in ws.root.iterdir()) == before
    assert client.predict(created["song_id"], api_name="/show")[1] == created["song_id"]


def test_server_serves_no_file_outside_the_work_folder(server):
    import httpx

    from pipeline.cli import build_parser

    url = server["client"].src.rstrip("/")
    for path in (Path(__file__).resolve().parents[1] / "pyproject.toml", Path("/etc/hostname")):
        assert httpx.get(f"{url}/gradio_api/file={path}").status_code == 403
    # a file path handed to an upload input is refused unless the user uploaded it
    r = httpx.post(f"{url}/gradio_api/call/convert_voice",
                   json={"data": ["20260101-120000-deadbeef", {"path": "/etc/hostname", "meta": {"_type": "gradio.FileData"}}]})
    events = httpx.get(f"{url}/gradio_api/call/convert_voice/{r.json()['event_id']}", timeout=30).text
    assert "event: error" in events and "complete" not in events

    args = build_parser().parse_args(["studio"])
    assert (args.port, args.host) == (7860, "127.0.0.1")


def test_edit_and_voice_tabs(server, created, tmp_path):
    from gradio_client import handle_file

    client, ws, job = server["client"], server["ws"], created["song_id"]
    if studio.find_operation(studio.EDIT_LINE) is None:
        with pytest.raises(Exception, match="not available in this version"):
            client.predict(job, "2", "carry me home tonight", api_name="/edit_line")
    else:
        out = client.predict(job, "2: sing me home tonight", "carry me home tonight", api_name="/edit_line")
        edited = ws.song(out[1])
        assert out[1] != job and edited.lead_sheet.lyrics[1].text == "carry me home tonight"
        assert ws.song(job).lead_sheet.lyrics[1].text == "sing me home tonight"  # the original stays
        # the edit worked on this song: intro and outro are sample-identical, the mix is not
        old, sr = sf.read(created["mix"], always_2d=True)
        new, _ = sf.read(out[2], always_2d=True)
        sheet = edited.lead_sheet
        intro_end, outro_start = (int(sr * sheet.beats_to_seconds(sheet.bar_start_beats(b)))
                                  for b in (sheet.sections[1].start_bar, sheet.sections[-1].start_bar))
        assert old.shape == new.shape and not np.array_equal(old, new)
        assert np.array_equal(old[:intro_end], new[:intro_end]) and np.array_equal(old[outro_start:], new[outro_start:])
    if studio.find_operation(studio.REPAINT) is not None:
        out = client.predict(job, 11, 12, 5, "", api_name="/repaint")  # the outro's last two bars
        assert out[1] != job and out[1] in ws.jobs() and "repainted" in out[0]
        assert sf.info(out[2]).frames == sf.info(created["mix"]).frames
    ref = tone(tmp_path / "ref.wav", 4.0, f0_hz=220.0)
    if studio.find_operation(studio.CLONE) is None:
        with pytest.raises(Exception, match="not available in this version"):
            client.predict(job, handle_file(str(ref)), api_name="/convert_voice")
    else:
        out = client.predict(job, handle_file(str(ref)), api_name="/convert_voice")
        assert out[1] != job and (ws.job_dir(out[1]) / studio.REFERENCE).is_file()
        assert sf.info(out[2]).frames == sf.info(created["mix"]).frames
