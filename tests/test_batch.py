"""Batch rendering: parallel workers, a summary with one-line reasons, resuming from the ledger."""

import json
import os
import subprocess
import sys

import pytest

from pipeline.batch import LEDGER, read_ledger, run_batch, summary_table
from representations.errors import SongwrightError
from voice.speech import THREADS_ENV, available_cpus, inference_threads

TINY = "title: {title}\ntags: folk, acoustic guitar, 110 BPM\nseed: {seed}\nlyrics: |\n  [Verse]\n  {line}\n"


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    d = tmp_path_factory.mktemp("specs")
    (d / "a.yaml").write_text(TINY.format(title="A", seed=1, line="the river runs to the sea"))
    (d / "b.yaml").write_text(TINY.format(title="B", seed=2, line="sing me home tonight"))
    (d / "bad.yaml").write_text("title: Bad\ntempo: 5000\nlyrics: la\n")
    return d


def test_two_workers_render_report_and_resume(specs, tmp_path):
    out = tmp_path / "out"
    results = run_batch(specs, out, workers=2, progress=False)
    by = {r.spec.rsplit("/", 1)[-1]: r for r in results}
    assert by["a.yaml"].status == "ok" and by["b.yaml"].status == "ok"
    assert by["bad.yaml"].status == "failed" and "tempo" in by["bad.yaml"].reason and "\n" not in by["bad.yaml"].reason
    table = summary_table(results)
    assert "2/3 songs ok, 1 failed" in table
    assert (out / "a" / "mix.wav").exists() and (out / "b" / "manifest.json").exists()
    assert len(read_ledger(out)) == 3

    # a rerun skips the finished songs and retries only the failed one
    again = run_batch(specs, out, workers=1, progress=False)
    assert sorted(r.status for r in again) == ["failed", "skipped", "skipped"]

    # a changed spec is rendered again
    (specs / "b.yaml").write_text(TINY.format(title="B", seed=3, line="sing me home tonight"))
    third = {r.spec.rsplit("/", 1)[-1]: r.status for r in run_batch(specs, out, workers=1, progress=False)}
    assert third["b.yaml"] == "ok" and third["a.yaml"] == "skipped"


def test_worker_count_does_not_change_bytes(specs, tmp_path):
    one = run_batch(specs, tmp_path / "one", workers=1, progress=False)
    two = run_batch(specs, tmp_path / "two", workers=2, progress=False)
    ok = [r1.folder.rsplit("/", 1)[-1] for r1 in one if r1.status == "ok"]
    assert ok == ["a", "b"] and [r.status for r in two] == [r.status for r in one]
    for name in ok:
        for f in ("mix.wav", "vocals.wav", "accompaniment.wav"):
            assert (tmp_path / "one" / name / f).read_bytes() == (tmp_path / "two" / name / f).read_bytes()
    # two workers share the CPUs instead of each taking them all (they would wait on one another)
    threads = {n: json.loads((tmp_path / n / "a" / "manifest.json").read_text())["threads"] for n in ("one", "two")}
    if THREADS_ENV not in os.environ:
        assert threads == {"one": available_cpus(), "two": max(1, available_cpus() // 2)}


SPEAK = """
import hashlib, sys
from voice.kokoro import kokoro_available, pinyin_phones, synthesize_kokoro
from voice.phonemes import arpabet_word_to_phones
from voice.speech import synthesize_piper
words = [["S IH1 NG"], ["M IY1"], ["HH OW1 M"], ["T AH0", "N AY1 T"]]
out = [synthesize_piper([arpabet_word_to_phones([tuple(s.split()) for s in w]) for w in words]).audio]
if kokoro_available():
    out.append(synthesize_kokoro([pinyin_phones(p) for p in ("ni3", "hao3", "shi4", "jie4")]).audio)
print(" ".join(hashlib.sha256(a.tobytes()).hexdigest() for a in out))
"""


def test_voice_models_give_the_same_samples_on_any_number_of_threads():
    heard = {n: subprocess.run([sys.executable, "-c", SPEAK], capture_output=True, text=True, check=True,
                               env=os.environ | {THREADS_ENV: str(n)}).stdout.split() for n in (1, 2, 3)}
    assert len(heard[1]) >= 1 and len(set(heard[1])) == len(heard[1]) and heard[1] == heard[2] == heard[3]


def test_a_bad_thread_count_is_one_clear_error(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "two")
    with pytest.raises(SongwrightError, match=f"{THREADS_ENV}='two'.*valid: a whole number, 1 or more"):
        inference_threads()
    monkeypatch.setenv(THREADS_ENV, "3")
    assert inference_threads() == 3


def test_killed_ledger_line_is_ignored(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / LEDGER).write_text(json.dumps({"spec": "x.yaml", "status": "ok", "folder": "f"}) + "\n{\"spec\": \"y.ya")
    assert list(read_ledger(out)) == ["x.yaml"]
