"""The web studio in a real browser: headless Chromium (Debian packages chromium, chromium-driver)
driven by Playwright for Python. Types lyrics, clicks Create, waits for the song, checks the mix
player has a source and that a download is the song's WAV with sound in it."""

import hashlib
import io
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

# gradio's queue uses pandas options that pandas 3 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:Warning", "ignore:The copy keyword:Warning")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
RENDER_TIMEOUT_MS = 120_000
SHA256_OF_URL = """async (src) => {
  const data = await (await fetch(src)).arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, b => b.toString(16).padStart(2, "0")).join("");
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory):
    pytest.importorskip("gradio")
    from pipeline import studio
    from pipeline.studio_app import launch

    work = tmp_path_factory.mktemp("studio")
    app, url = launch(work, port=free_port(), block=False, quiet=True)
    try:
        yield url, studio.Workspace(work)
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def test_create_in_the_browser(browser, studio_url, tmp_path):
    url, workspace = studio_url
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "blob:", "data:")) else None)
    page.goto(url)
    page.locator("#lyrics textarea").fill("[Verse]\nsing me home tonight")
    page.locator("#title textarea, #title input").first.fill("Browser Song")
    page.locator("#tags textarea, #tags input").first.fill("folk, acoustic guitar, 110 BPM")
    page.locator("#create").click()

    link = page.locator("#downloads a[download='mix.wav']")
    link.wait_for(state="attached", timeout=RENDER_TIMEOUT_MS)
    # the waveform player has loaded the mix when it shows the song's length
    page.wait_for_function("() => (document.querySelector('#mix #duration') || {}).textContent > '0:00'",
                           timeout=30_000)
    page.screenshot(path=str(tmp_path / "studio.png"), full_page=True)
    job = page.locator("#song-id textarea, #song-id input").first.input_value()
    song = workspace.song(job)

    # the mix player holds the song's audio: its source (a blob the waveform player fetched) is mix.wav
    srcs = [s for s in page.eval_on_selector_all("#mix audio", "els => els.map(e => e.currentSrc || e.src)") if s]
    assert srcs, "the mix player has no source"
    digests = [page.evaluate(SHA256_OF_URL, s) for s in srcs]
    assert hashlib.sha256(song_mix := song.path("mix").read_bytes()).hexdigest() in digests
    assert "Browser Song" in page.locator("#status").inner_text()
    m, s = divmod(song.manifest["duration_s"], 60)
    assert page.locator("#mix #duration").inner_text() in (f"{m:.0f}:{int(s):02d}", f"{m:.0f}:{int(s) + 1:02d}")

    # a download through the browser is the song's mix: WAV, 44.1 kHz stereo, with sound in it
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / "downloaded.wav"
    info.value.save_as(saved)
    data = saved.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    y, sr = sf.read(io.BytesIO(data), always_2d=True)
    assert sr == 44100 and y.shape[1] == 2
    assert abs(y.shape[0] / sr - song.manifest["duration_s"]) < 0.01
    assert 20 * np.log10(np.sqrt(np.mean(y**2))) > -30.0  # mastered to about -14 LUFS, far from silence
    assert data == song_mix
    assert page.locator("#picture img").count() == 1

    assert outside == []  # the page asked nothing of any other host
    page.close()
