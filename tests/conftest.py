"""Shared fixtures: a short song rendered once per test session, seeded RNGs."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["SONGWRIGHT_SPEECH_CACHE"] = "off"  # the tests that keep spoken lines give their own folder

SHORT_SPEC = """\
title: Test Song
tags: pop, piano, acoustic guitar, violin, 100 BPM
seed: 1
lyrics: |
  [Verse]
  Morning light across the river
  I can hear you calling me
  [Chorus]
  Sing it out, sing it loud
  we are dancing in the crowd
"""


def pytest_assertrepr_compare(op, left, right):
    """A failed ``==`` between long byte strings says where they differ, in one line: pytest's
    own explanation prints them whole (megabytes of WAV), without truncation in CI."""
    if op == "==" and isinstance(left, (bytes, bytearray)) and isinstance(right, (bytes, bytearray)) \
            and max(len(left), len(right)) > 256:
        n = min(len(left), len(right))
        first = next((i for i in range(0, n, 4096) if left[i:i + 4096] != right[i:i + 4096]), n)
        first = next((i for i in range(first, min(first + 4096, n)) if left[i] != right[i]), n)
        return [f"{len(left)} bytes == {len(right)} bytes", f"first difference at byte {first}"]
    return None


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def short_spec():
    from pipeline import SongSpec

    return SongSpec.from_text(SHORT_SPEC, source="test.yaml")


@pytest.fixture(scope="session")
def rendered_song(tmp_path_factory, short_spec):
    """The short spec rendered once through the whole default pipeline."""
    from pipeline import SongPipeline

    out = tmp_path_factory.mktemp("songs") / "short"
    return SongPipeline().render(short_spec, out)
