"""Batch rendering as Ray tasks on a local Ray instance: same results, same bytes as worker processes."""

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


def test_ray_tasks_match_process_pool_bytes(specs, tmp_path):
    import ray

    assert not ray.is_initialized()
    with_ray = run_batch(specs, tmp_path / "ray", workers=2, use_ray=True, progress=False)
    assert not ray.is_initialized()  # the local instance the batch started is shut down again
    assert [r.status for r in with_ray] == ["ok", "ok"], [r.reason for r in with_ray]
    assert len(read_ledger(tmp_path / "ray")) == 2

    pool = run_batch(specs, tmp_path / "pool", workers=2, progress=False)
    assert [r.status for r in pool] == ["ok", "ok"]
    for name in ("a", "b"):
        for f in ("mix.wav", "vocals.wav", "accompaniment.wav", "leadsheet.json", "arrangement.mid"):
            assert (tmp_path / "ray" / name / f).read_bytes() == (tmp_path / "pool" / name / f).read_bytes(), f"{name}/{f}"

    # a rerun on Ray skips both finished songs without starting any task
    again = run_batch(specs, tmp_path / "ray", workers=2, use_ray=True, progress=False)
    assert [r.status for r in again] == ["skipped", "skipped"]
