"""Which module registers which backends, and building a backend of a role by name.

Backend modules keep their heavy imports inside the backend, so importing them here is cheap.
"""

from __future__ import annotations

import importlib

from representations.registry import Registry

ROLES = {
    # role: (registry location, modules that register backends, default backend)
    "planner": ("generators.base:PLANNERS", ["generators.rule_planner"], "rules"),
    "arranger": ("generators.base:ARRANGERS", ["generators.pattern_arranger"], "patterns"),
    "renderer": ("renderers.base:RENDERERS", ["renderers.soundfont"], "fluidsynth"),
    "singer": ("voice.base:SINGERS", ["voice.world_singer"], "piper-world"),
    "mixer": ("renderers.base:MIXERS", ["renderers.mixer"], "master"),
}


def registry(role: str) -> Registry:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (valid: {', '.join(ROLES)})")
    where, modules, _ = ROLES[role]
    for m in modules:
        importlib.import_module(m)
    mod, attr = where.split(":")
    return getattr(importlib.import_module(mod), attr)


def create(role: str, name: str | None = None, **kwargs):
    """A backend of ``role`` by ``name`` (the role's default when None)."""
    return registry(role).create(name or ROLES[role][2], **kwargs)


def default_names() -> dict[str, str]:
    return {role: v[2] for role, v in ROLES.items()}
