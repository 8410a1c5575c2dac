"""Batch rendering: parallel workers, a summary with one-line reasons, resuming from the ledger."""

import json

import pytest

from pipeline.batch import LEDGER, read_ledger, run_batch, summary_table

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


def test_killed_ledger_line_is_ignored(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / LEDGER).write_text(json.dumps({"spec": "x.yaml", "status": "ok", "folder": "f"}) + "\n{\"spec\": \"y.ya")
    assert list(read_ledger(out)) == ["x.yaml"]
