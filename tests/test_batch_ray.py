"""Batch rendering as Ray tasks on a local Ray instance: same results, same bytes as without Ray.

The reference is the in-process run (``workers=1``); test_batch.py shows that one gives the same
bytes as the process pool, so Ray matches both.
"""

import pytest

pytest.importorskip("ray")

from pipeline.batch import read_ledger, run_batch  # noqa: E402

TINY = "title: {title}\ntags: folk, acoustic guitar, 110 BPM\nseed: {seed}\nlyrics: |\n  [Verse]\n  {line}\n"


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    d = tmp_path_factory.mktemp("specs")
    (d / "a.yaml").write_text(TINY.format(title="A", seed=1, line="the river runs to the sea"))
    (d / "b.yaml").write_text(TINY.format(title="B", seed=2, line="sing me home tonight"))
    return d


def test_ray_tasks_match_local_bytes(specs, tmp_path, monkeypatch):
    import ray

    made_remote = []
    real_remote = ray.remote
    monkeypatch.setattr(ray, "remote", lambda *a, **k: made_remote.append(k) or real_remote(*a, **k))
    running = ray.is_initialized()
    with_ray = run_batch(specs, tmp_path / "ray", workers=2, use_ray=True, progress=False)
    assert made_remote, "the songs did not run as Ray tasks"
    assert ray.is_initialized() == running  # a local instance the batch started is shut down again
    assert [r.status for r in with_ray] == ["ok", "ok"], [r.reason for r in with_ray]
    assert len(read_ledger(tmp_path / "ray")) == 2

    local = run_batch(specs, tmp_path / "local", workers=1, progress=False)
    assert [r.status for r in local] == ["ok", "ok"]
    for name in ("a", "b"):
        for f in ("mix.wav", "vocals.wav", "accompaniment.wav", "leadsheet.json", "arrangement.mid"):
            assert (tmp_path / "ray" / name / f).read_bytes() == (tmp_path / "local" / name / f).read_bytes(), f"{name}/{f}"

    # a rerun on Ray skips both finished songs without starting any task
    again = run_batch(specs, tmp_path / "ray", workers=2, use_ray=True, progress=False)
    assert [r.status for r in again] == ["skipped", "skipped"]
