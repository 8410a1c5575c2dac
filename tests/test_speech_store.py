"""The speech store (``voice.speech_store``): spoken lines kept on disk, read back whole or not
at all, trimmed to its size, never in the way of a song."""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest

from voice import speech_store
from voice.speech_store import STORE_ENV, SpeechStore, entry_name, store_dir


def arrays(n: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"audio": rng.standard_normal(n).astype(np.float32), "frames": rng.integers(1, 9, 12).astype(np.float32)}


def test_what_is_saved_is_read_back_the_same(tmp_path):
    store = SpeechStore(tmp_path / "speech")
    saved = arrays()
    store.save("a.npz", saved)
    back = store.load("a.npz")
    assert back.keys() == saved.keys()
    assert all(back[k].dtype == saved[k].dtype and np.array_equal(back[k], saved[k]) for k in saved)
    assert store.load("b.npz") is None
    assert [p.name for p in (tmp_path / "speech").iterdir()] == ["a.npz"]  # no temporary file left


def test_an_unreadable_entry_is_removed_and_read_as_missing(tmp_path):
    store = SpeechStore(tmp_path)
    store.save("a.npz", arrays())
    whole = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "a.npz").write_bytes(whole[: len(whole) // 2])  # a write cut short by a crash
    assert store.load("a.npz") is None and not (tmp_path / "a.npz").exists()


def test_the_folder_is_trimmed_to_its_size_least_recently_used_first(tmp_path):
    probe = SpeechStore(tmp_path / "probe")
    probe.save("x.npz", arrays())
    size = (tmp_path / "probe" / "x.npz").stat().st_size
    store = SpeechStore(tmp_path / "s", max_bytes=4 * size)
    for k in range(4):
        store.save(f"{k}.npz", arrays(seed=k))
        os.utime(tmp_path / "s" / f"{k}.npz", (time.time() - 100 + k, time.time() - 100 + k))
    assert store.load("0.npz") is not None  # read: now the most recently used
    store.save("4.npz", arrays(seed=4))  # five entries: over the size, trimmed to 3/4 of it
    left = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert left == ["0.npz", "3.npz", "4.npz"]
    assert sum(p.stat().st_size for p in (tmp_path / "s").iterdir()) <= 3 * size


def test_a_folder_that_cannot_be_written_keeps_nothing_and_warns_once(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = SpeechStore(blocker / "speech")
    with caplog.at_level(logging.WARNING, logger="voice.speech_store"):
        store.save("a.npz", arrays())
        store.save("b.npz", arrays())
    assert store.load("a.npz") is None
    assert len([r for r in caplog.records if "not kept" in r.getMessage()]) == 1


def test_where_the_store_is(monkeypatch, tmp_path):
    monkeypatch.setenv(STORE_ENV, "off")
    assert store_dir() is None and speech_store.speech_store() is None
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "mine"))
    assert store_dir() == tmp_path / "mine" and speech_store.speech_store().folder == tmp_path / "mine"
    monkeypatch.setenv(STORE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert store_dir() == tmp_path / "cache" / "songwright" / "speech"


def test_entry_names_follow_every_part():
    a = entry_name("model", b"\x01\x02", b"\x03")
    assert a == entry_name("model", b"\x01\x02", b"\x03") and a.endswith(".npz")
    assert len({a, entry_name("model", b"\x01", b"\x02\x03"), entry_name("other", b"\x01\x02", b"\x03"),
                entry_name("model", b"\x01\x02", b"\x04")}) == 4


@pytest.mark.parametrize("value", ["off", "OFF", "0", "none"])
def test_off_in_any_spelling(monkeypatch, value):
    monkeypatch.setenv(STORE_ENV, value)
    assert store_dir() is None
