"""``songwright doctor``: every backend of every role, whether it can run here, and why not.

A backend is built (cheaply: neural backends only look their checkpoint up when built) and,
when it has one, its ``check()`` is called: it returns where its checkpoint is or raises
:class:`~representations.errors.BackendUnavailable` saying what is missing and where it looked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from representations.errors import BackendUnavailable, SongwrightError

from . import backends
from .models import MODELS_ENV, backend_kwargs, config_path

# roles outside the pipeline's chain: role -> (registry location, modules that register backends)
# or "module:function" returning the registry with its backends imported
EXTRA_ROLES = {
    "voice converter": ("voice.base:VOICE_CONVERTERS", ["voice.conversion"]),
    "separator": "voice.separation_base:separator_registry",
}


@dataclass(frozen=True)
class Row:
    role: str
    backend: str
    usable: bool
    detail: str
    default: bool = False


def _extra_registry(entry):
    import importlib
    import importlib.util

    if isinstance(entry, str):
        mod, fn = entry.split(":")
        return getattr(importlib.import_module(mod), fn)()
    where, modules = entry
    for m in modules:
        if importlib.util.find_spec(m) is not None:
            importlib.import_module(m)
    mod, attr = where.split(":")
    return getattr(importlib.import_module(mod), attr)


def _registries():
    for role in backends.ROLES:
        yield role, (lambda r=role: backends.registry(r)), backends.ROLES[role][2]
    for role, entry in EXTRA_ROLES.items():
        if role not in backends.ROLES:
            yield role, (lambda e=entry: _extra_registry(e)), None


def probe(registry, name: str, *, models: dict | None = None, base_dir=None) -> tuple[bool, str]:
    """``(usable, detail)`` of backend ``name``: where its checkpoint is, or why it cannot run."""
    try:
        backend = registry.create(name, **backend_kwargs(registry, name, models=models, base_dir=base_dir))
    except BackendUnavailable as e:
        return False, " ".join(str(e).split())
    except Exception as e:  # a backend that cannot even be built is reported, not raised
        return False, f"{type(e).__name__}: {' '.join(str(e).split())}"
    try:
        check = getattr(backend, "check", None)
        return True, check() if callable(check) else "built in (no checkpoint needed)"
    except BackendUnavailable as e:
        return False, " ".join(str(e).split())
    except Exception as e:  # a failing check is a finding of the doctor
        return False, f"{type(e).__name__}: {' '.join(str(e).split())}"
    finally:
        close = getattr(backend, "close", None)
        if callable(close):
            close()


def rows(*, models: dict | None = None, base_dir=None, roles: list[str] | None = None) -> list[Row]:
    """One row per backend of every role (or of ``roles``)."""
    out = []
    for role, get, default in _registries():
        if roles and role not in roles:
            continue
        try:
            reg = get()
        except Exception as e:  # a backend module that fails to import
            out.append(Row(role, "?", False, f"cannot list the backends: {type(e).__name__}: {e}"))
            continue
        for name in reg.names():
            usable, detail = probe(reg, name, models=models, base_dir=base_dir)
            out.append(Row(role, name, usable, detail, name == default))
    return out


def table(found: list[Row]) -> str:
    """The rows as a text table: role, backend (``*`` marks the default), usable, detail."""
    head = ("ROLE", "BACKEND", "USABLE", "WHY NOT / WHERE")
    body = [(r.role, r.backend + (" *" if r.default else ""), "yes" if r.usable else "no", r.detail) for r in found]
    w = [max(len(x[i]) for x in [head] + body) for i in range(3)]
    return "\n".join(f"{a:<{w[0]}}  {b:<{w[1]}}  {c:<{w[2]}}  {d}" for a, b, c, d in [head] + body)


def cmd_doctor(args) -> int:
    valid = list(backends.ROLES) + [r for r in EXTRA_ROLES if r not in backends.ROLES]
    bad = [r for r in args.role or [] if r not in valid]
    if bad:
        raise SongwrightError(f"--role {bad[0]!r} is not a role (valid: {', '.join(valid)})")
    models, base_dir = None, None
    if args.spec:
        from .models import spec_base_dir
        from .spec import SongSpec

        spec = SongSpec.from_yaml(args.spec)
        models, base_dir = dict(spec.models), spec_base_dir(spec)
    env = os.environ.get(MODELS_ENV)
    cfg = config_path()
    print(f"checkpoints: spec 'models:' {'(' + args.spec + ')' if args.spec else '(no spec given)'}; "
          f"${MODELS_ENV}={env or '(unset)'}; {cfg} ({'present' if cfg.is_file() else 'absent'})")
    found = rows(models=models, base_dir=base_dir, roles=args.role or None)
    print(table(found))
    return 0 if all(r.usable for r in found if r.default) else 1


def add_commands(sub) -> None:
    d = sub.add_parser("doctor", help="list every backend of every role and whether it can run here")
    d.add_argument("--spec", help="use this spec's models: section to find checkpoints")
    d.add_argument("--role", action="append", help="only this role (repeatable)")
    d.set_defaults(func=cmd_doctor)
