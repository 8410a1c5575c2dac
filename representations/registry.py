"""A small explicit registry of backends, one per role."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from .errors import BackendUnavailable

T = TypeVar("T")


class Registry(Generic[T]):
    """Backends of one role, chosen by name.

    Parameters
    ----------
    role : str
        Name of the role, used in error messages ("planner", "singer", ...).
    """

    def __init__(self, role: str):
        self.role = role
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register a backend class or factory under ``name``."""

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.role} backend {name!r} registered twice")
            self._factories[name] = factory
            return factory

        return deco

    def names(self) -> list[str]:
        return sorted(self._factories)

    def factory(self, name: str) -> Callable[..., T]:
        """The class or factory registered as ``name``; an unknown name lists the valid ones."""
        try:
            return self._factories[name]
        except KeyError:
            raise BackendUnavailable(
                f"unknown {self.role} backend {name!r}; valid: {', '.join(self.names())}"
            ) from None

    def create(self, name: str, **kwargs) -> T:
        """Build the backend ``name``; an unknown name lists the valid ones."""
        return self.factory(name)(**kwargs)
