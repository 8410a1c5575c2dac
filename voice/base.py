"""Role interfaces of the voice stages: Singer (VocalScore -> vocal audio) and VoiceConverter."""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod

from representations.audio import Audio
from representations.errors import BackendUnavailable
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


def pyworld_module(needed_by: str):
    """pyworld, imported without its import-time ``pkg_resources`` deprecation notice (a note for
    its packagers, not for someone rendering a song), or :class:`BackendUnavailable` saying that
    ``needed_by`` needs it and what to install."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            import pyworld
    except ImportError as e:
        raise BackendUnavailable(f"{needed_by} needs pyworld ({e}); install pyworld and setuptools<81") from None
    return pyworld


SINGERS: Registry[Singer] = Registry("singer")
VOICE_CONVERTERS: Registry[VoiceConverter] = Registry("voice converter")
