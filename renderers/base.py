"""Role interfaces of the renderers: Renderer (Arrangement -> stems) and Mixer (stems -> mix)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import numpy as np

from representations.arrangement import Arrangement
from representations.audio import Audio, StemSet
from representations.errors import BackendUnavailable
from representations.registry import Registry


class Renderer(ABC):
    """Turns an arrangement into one stereo stem per track, all at ``sample_rate``, all of the
    arrangement's length."""

    name = "renderer"
    sample_rate = 44100

    @abstractmethod
    def render(self, arrangement: Arrangement) -> StemSet:
        ...


@dataclass(frozen=True)
class MixParams:
    """The gains a mix was mastered with, so that a region can be re-mixed to match it:
    linear gain of the produced vocal (None without vocals), linear bus gain before the bus
    compressor, master gain in dB before the limiter, and the final linear true-peak trim."""

    vocal_gain: float | None
    pre_gain: float
    master_gain_db: float
    post_gain: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MixParams":
        return cls(**d)


@dataclass
class MixResult:
    """A mastered mix, the accompaniment mastered alone (the mix itself when there are no
    vocals) and the gains of each."""

    mix: Audio
    accompaniment: Audio
    params: MixParams | None
    accompaniment_params: MixParams | None


class Mixer(ABC):
    """Balances, processes and masters stems into one stereo mix."""

    name = "mixer"

    @abstractmethod
    def mix(self, stems: StemSet, *, vocals: Audio | None = None) -> Audio:
        """Return the mastered mix of ``stems`` plus the lead ``vocals`` (same sample rate)."""

    def mix_band(self, stems: StemSet) -> object | None:
        """The work on the stems alone that :meth:`mix_song` can take as ``band``, so that it can
        be done while the vocals are sung; None where a backend has none."""
        return None

    def mix_song(self, stems: StemSet, *, vocals: Audio | None = None, band: object | None = None) -> "MixResult":
        """The mix, the accompaniment alone and the gains of each (``None`` where a backend
        cannot re-mix a region); backends may share work between the two. ``band``: what
        :meth:`mix_band` made of the same stems, or None."""
        mix = self.mix(stems, vocals=vocals)
        return MixResult(mix, self.mix(stems) if vocals is not None else mix, None, None)

    def remix_region(self, stems: StemSet, *, vocals: Audio | None, start: int, stop: int, params: "MixParams") -> np.ndarray:
        """Samples ``[start, stop)`` of the mix made with ``params``, float32 ``(n, 2)``."""
        raise BackendUnavailable(f"mixer {self.name!r} cannot re-mix a region (valid: the 'master' mixer)")


RENDERERS: Registry[Renderer] = Registry("renderer")
MIXERS: Registry[Mixer] = Registry("mixer")
