"""The pipeline: the only place that chains stages. Song specs (YAML), SongPipeline, song
folders on disk and the ``songwright`` command line.

>>> from pipeline import SongPipeline, SongSpec
>>> song = SongPipeline().render(SongSpec.from_yaml("examples/pop.yaml"), "out/pop")
"""

from .pipeline import SongPipeline
from .song import Song
from .spec import SongSpec

__all__ = ["SongPipeline", "SongSpec", "Song"]
