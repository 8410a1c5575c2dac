"""The pipeline: the only place that chains stages. Song specs (YAML), SongPipeline, song
folders on disk and the ``songwright`` command line.

>>> from pipeline import SongPipeline, SongSpec
>>> song = SongPipeline().render(SongSpec.from_yaml("examples/pop.yaml"), "out/pop")

The names are imported when first used, so that a command that needs little starts fast.
"""

from __future__ import annotations

import importlib

_EXPORTS = {"SongPipeline": ".pipeline", "SongSpec": ".spec", "Song": ".song"}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
