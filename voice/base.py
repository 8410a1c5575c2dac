"""Role interfaces of the voice stages: Singer (VocalScore -> vocal audio) and VoiceConverter."""

from __future__ import annotations

from abc import ABC, abstractmethod

from representations.audio import Audio
from representations.registry import Registry
from representations.vocal_score import VocalScore


class Singer(ABC):
    """Sings a vocal score: every note on its pitch and time, every syllable exactly once.

    The returned audio is mono at ``sample_rate`` and exactly ``score.duration_s`` long.
    """

    name = "singer"
    sample_rate = 44100

    @abstractmethod
    def sing(self, score: VocalScore) -> Audio:
        ...

    def warm_up(self, language: str) -> None:
        """Load what singing ``language`` needs (models), so that a caller can do it while it
        prepares other work; singing without it loads them on first use."""


class VoiceConverter(ABC):
    """Re-voices audio so that it sounds like the speaker of ``reference``."""

    name = "voice converter"

    @abstractmethod
    def convert(self, audio: Audio, reference: Audio) -> Audio:
        ...


SINGERS: Registry[Singer] = Registry("singer")
VOICE_CONVERTERS: Registry[VoiceConverter] = Registry("voice converter")
