"""Role interfaces of the renderers: Renderer (Arrangement -> stems) and Mixer (stems -> mix)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from representations.arrangement import Arrangement
from representations.audio import Audio, StemSet
from representations.registry import Registry


class Renderer(ABC):
    """Turns an arrangement into one stereo stem per track, all at ``sample_rate``, all of the
    arrangement's length."""

    name = "renderer"
    sample_rate = 44100

    @abstractmethod
    def render(self, arrangement: Arrangement) -> StemSet:
        ...


class Mixer(ABC):
    """Balances, processes and masters stems into one stereo mix."""

    name = "mixer"

    @abstractmethod
    def mix(self, stems: StemSet, *, vocals: Audio | None = None) -> Audio:
        """Return the mastered mix of ``stems`` plus the lead ``vocals`` (same sample rate)."""

    def mix_with_accompaniment(self, stems: StemSet, *, vocals: Audio) -> tuple[Audio, Audio]:
        """The mix with ``vocals`` and the mix without them; backends may share work between the two."""
        return self.mix(stems, vocals=vocals), self.mix(stems)


RENDERERS: Registry[Renderer] = Registry("renderer")
MIXERS: Registry[Mixer] = Registry("mixer")
