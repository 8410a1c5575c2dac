"""The separation role: Separator (mixed audio -> vocals and accompaniment) and its registry.

Backends register with ``@SEPARATORS.register("name")`` in a module listed in
``SEPARATOR_MODULES``; :func:`separator_registry` imports the listed modules that exist and
returns the registry. Heavy imports stay inside each backend.
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import ABC, abstractmethod

from representations.audio import Audio
from representations.registry import Registry

STEMS = ("vocals", "accompaniment")
# modules that register separators; a module that is not there (yet) is skipped
SEPARATOR_MODULES = ["voice.demucs_separation", "voice.separation"]


class Separator(ABC):
    """Splits mixed audio into the lead vocals and everything else.

    ``separate`` returns ``{"vocals": Audio, "accompaniment": Audio}``, each with the input's
    sample rate, channel count and number of samples.
    """

    name = "separator"

    @abstractmethod
    def separate(self, audio: Audio) -> dict[str, Audio]:
        ...


SEPARATORS: Registry[Separator] = Registry("separator")


def separator_registry() -> Registry[Separator]:
    """The separator registry with every listed backend module that exists imported."""
    for module in SEPARATOR_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return SEPARATORS


def create_separator(name: str, **kwargs) -> Separator:
    """A separator by ``name``; an unknown name lists the valid ones."""
    return separator_registry().create(name, **kwargs)
