"""Role interfaces of the generators: Planner (spec -> LeadSheet) and Arranger (LeadSheet -> Arrangement)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from representations.arrangement import Arrangement
from representations.leadsheet import LeadSheet
from representations.registry import Registry


class Planner(ABC):
    """Turns a song spec (lyrics, tags, optional key/tempo/meter) into a lead sheet."""

    name = "planner"

    @abstractmethod
    def plan(self, spec, *, seed: int) -> LeadSheet:
        """Return the lead sheet for ``spec`` (a :class:`pipeline.SongSpec`); same seed, same result."""


class Arranger(ABC):
    """Turns a lead sheet into multi-track notes for the accompaniment."""

    name = "arranger"

    @abstractmethod
    def arrange(self, lead_sheet: LeadSheet, *, seed: int) -> Arrangement:
        """Return the accompaniment for ``lead_sheet``; same seed, same result."""


PLANNERS: Registry[Planner] = Registry("planner")
ARRANGERS: Registry[Arranger] = Registry("arranger")
