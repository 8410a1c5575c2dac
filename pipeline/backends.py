"""Which module registers which backends, and building a backend of a role by name.

Backend modules keep their heavy imports inside the backend, so importing them here is cheap.
"""

from __future__ import annotations

import importlib

from representations.registry import Registry

ROLES = {
    # role: (registry location, modules that register backends, default backend)
    "planner": ("generators.base:PLANNERS", ["generators.rule_planner", "generators.learned_planner", "generators.llm_planner"], "rules"),
    "arranger": ("generators.base:ARRANGERS", ["generators.pattern_arranger"], "patterns"),
    "renderer": ("renderers.base:RENDERERS", ["renderers.soundfont", "renderers.diffusion", "generators.musicgen"], "fluidsynth"),
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


def create(role: str, name: str | None = None, *, models: dict | None = None, base_dir=None, **kwargs):
    """A backend of ``role`` by ``name`` (the role's default when None); ``models`` (a spec's
    ``models:`` section, paths relative to ``base_dir``) go to backends whose constructor takes them."""
    from .models import backend_kwargs

    reg = registry(role)
    name = name or ROLES[role][2]
    return reg.create(name, **(backend_kwargs(reg, name, models=models, base_dir=base_dir) | kwargs))


def default_names() -> dict[str, str]:
    return {role: v[2] for role, v in ROLES.items()}
