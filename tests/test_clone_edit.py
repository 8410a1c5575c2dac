"""A song sung in a reference voice keeps that voice through lyric edits: the song folder keeps the
reference and the frozen conversion plan, and a re-sung line is converted with them exactly as
the whole song was.

A two-line song is rendered and cloned once for the module; the reference is espeak-ng's "en+f3"
voice. Exactness is measured as the SNR of a line converted alone against the same samples of
the song's converted vocals (16-bit files: 40 dB asked, about 75 dB measured); speaker similarity
with resemblyzer (:mod:`voice.judges`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from folders import digests
from representations.audio import Audio
from test_voice_jobs import TINY_SPEC as SPEC  # the same two-line song

SR = 44100
NEW_TEXT = "over the hills we fly"
KEPT = {"voice/reference.flac", "voice/conversion.json"}



def snr_db(reference: np.ndarray, x: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum((reference - x) ** 2.0)))


def sing_line(song, index: int) -> np.ndarray:
    """The preset singer's audio of lyric line ``index`` (0-based) alone, as long as the song."""
    from pipeline import backends
    from representations.vocal_score import VocalScore

    score = song.vocal_score
    part = VocalScore([n for n in score.notes if n.line == index], [l for l in score.lines if l.index == index],
                      score.language, score.voice, score.duration_s, score.extras)
    x = backends.create("singer", song.manifest["backends"].get("singer")).sing(part).mono()
    n = Audio.load(song.path("vocals")).samples.shape[0]
    return np.pad(x[:n], (0, max(0, n - len(x))))


def span(x: np.ndarray) -> slice:
    sounding = np.flatnonzero(x)
    return slice(int(sounding[0]), int(sounding[-1]) + 1)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    import subprocess

    from voice.speech import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("ref") / "ref.wav"
    subprocess.run(["espeak-ng", "-v", "en+f3", "-p", "70", "-w", str(path),
                    "This is a short recording of my voice, so that the song can be sung by me. "
                    "I like to sing in the morning."], check=True)
    return path


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    from pipeline import SongPipeline, SongSpec

    return SongPipeline().render(SongSpec.from_text(SPEC, source="clone.yaml"), tmp_path_factory.mktemp("s") / "song")


@pytest.fixture(scope="module")
def cloned(song, reference, tmp_path_factory):
    from pipeline.voice_jobs import clone_voice

    return clone_voice(song.folder, reference, tmp_path_factory.mktemp("c") / "cloned")


@pytest.fixture(scope="module")
def edited(cloned, tmp_path_factory):
    from pipeline.edit import edit_lyric_line

    before = digests(cloned.folder)
    out = edit_lyric_line(cloned.folder, 2, NEW_TEXT, tmp_path_factory.mktemp("e") / "edited")
    assert digests(cloned.folder) == before
    return out


def check_kept(song, reference: Path) -> None:
    """The reference and plan files of a converted song, and its lines converting alone as in it."""
    import soundfile as sf

    from pipeline.voice_jobs import song_line_converter

    m = song.manifest
    assert KEPT <= set(m["files"])
    info = sf.info(str(song.path("voice_reference")))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("FLAC", "PCM_16", 1, 22050)
    assert abs(info.duration - m["voice_reference"]["duration_s"]) < 0.01
    assert song.path("voice_reference").stat().st_size < 2_000_000 and song.path("voice_plan").stat().st_size < 100_000
    state = json.loads(song.path("voice_plan").read_text())
    assert state["backend"] == "world" and state["sample_rate"] == SR
    assert state["reference"]["source_sha256"] == m["voice_reference"]["sha256"] == \
        hashlib.sha256(reference.read_bytes()).hexdigest()
    plan = state["plan"]
    assert plan["shift_semitones"] == m["voice_conversion"]["shift_semitones"] and plan["level_gain"] > 0
    convert = song_line_converter(song)
    vocals = Audio.load(song.path("vocals")).mono()
    for index in (0, 1):
        line = sing_line(song, index)
        alone, s = convert(line), span(line)
        assert alone.shape == line.shape
        assert snr_db(vocals[s], alone[s]) > 40  # measured about 75 dB


def test_clone_keeps_the_reference_and_the_plan(cloned, reference):
    check_kept(cloned, reference)


def test_render_with_a_voice_reference_keeps_them_too(reference, tmp_path):
    from pipeline import SongPipeline, SongSpec

    spec = SongSpec.from_text(SPEC.replace("seed: 2", f"seed: 3\nvoice_reference: {reference}"), source="r.yaml")
    check_kept(SongPipeline().render(spec, tmp_path / "song"), reference)


def test_preset_song_has_no_line_converter(song):
    from pipeline.voice_jobs import song_line_converter

    assert song_line_converter(song) is None
    assert not (song.folder / "voice").exists()


@pytest.fixture
def one_torch_thread():
    """resemblyzer's small LSTM runs fastest on one thread (0.08 s a line against 0.5-5 s on two
    busy cores)."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("splice", ["cleared", "subtracted"])
def test_lyric_edit_keeps_the_cloned_voice(cloned, edited, reference, splice, tmp_path, monkeypatch,
                                           one_torch_thread):
    """The new line is the preset's singing of it converted as the song was; nothing else moves."""
    pytest.importorskip("resemblyzer")
    from pipeline import edit
    from pipeline.song import Song
    from pipeline.voice_jobs import song_line_converter
    from voice.judges import similarity, speaker_embedding

    if splice == "subtracted":  # old vocals - converted old line + converted new line
        monkeypatch.setattr(edit, "_lone_span", lambda *args: None, raising=False)
        edited = edit.edit_lyric_line(cloned.folder, 2, NEW_TEXT, tmp_path / "edited")
    old, new = Audio.load(cloned.path("vocals")).mono(), Audio.load(edited.path("vocals")).mono()
    first, last = edited.manifest["last_edit"]["bars"]
    bar_s = 4 * 60 / edited.lead_sheet.tempo_bpm
    changed = np.flatnonzero(old != new)
    assert changed.size and changed[0] >= round((first - 1) * bar_s * SR) and changed[-1] < round(last * bar_s * SR)

    preset = sing_line(edited, 1)  # the new words as the preset voice sings them
    s = span(preset)
    expected = song_line_converter(Song.open(cloned.folder))(preset)
    assert snr_db(expected[s], new[s]) > 40  # measured 74 dB subtracted, 81 dB cleared

    emb = lambda x: speaker_embedding(x, SR)  # noqa: E731
    ref = Audio.load(reference)
    target = speaker_embedding(ref.mono(), ref.sample_rate)
    other = new[span(sing_line(edited, 0))]  # the first line, converted with the song
    line, sung = emb(new[s]), emb(preset[s])
    # measured: 0.60 vs 0.55 to the reference, 0.86 vs 0.75 to the other line
    assert similarity(line, target) > similarity(sung, target)
    assert similarity(line, emb(other)) > similarity(sung, emb(other)) + 0.05


def test_undo_restores_the_clone(cloned, edited, tmp_path):
    from pipeline.history import undo

    copy = tmp_path / "copy"
    shutil.copytree(edited.folder, copy)
    assert undo(copy)["op"] == "lyrics"
    now = digests(copy)
    assert {k: v for k, v in now.items() if not k.startswith("history")} == digests(cloned.folder)
