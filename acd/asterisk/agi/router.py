"""FastAGI route table: script path (``ivr``, ``agent``, ...) -> handler.

The dialplan calls ``AGI(agi://host:port/<script>?<query>,...)``; Asterisk sends the script and
query as ``agi_network_script`` (shared README). The route key is the script path without the
query and without surrounding slashes; the query becomes ``session.params``. Route names shared
with the dialplan live in ``acd/settings/names.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from acd.asterisk.agi.env import split_script

H = TypeVar("H")


class Router(Generic[H]):
    """Maps script paths to handlers. Paths are matched exactly (case-sensitive, like URLs)."""

    def __init__(self, routes: Mapping[str, H] | None = None) -> None:
        self._routes: dict[str, H] = {}
        for path, handler in (routes or {}).items():
            self.add(path, handler)

    def add(self, path: str, handler: H) -> None:
        key = _normalise(path)
        if not key:
            raise ValueError("a FastAGI route needs a non-empty script path")
        if key in self._routes:
            raise ValueError(f"FastAGI route {key!r} is already registered")
        self._routes[key] = handler

    def route(self, path: str) -> Callable[[H], H]:
        """Decorator form: ``@router.route("ivr")``."""

        def register(handler: H) -> H:
            self.add(path, handler)
            return handler

        return register

    def resolve(self, script_path: str) -> H | None:
        """The handler for a script path (a full ``network_script`` with a query also works)."""
        return self._routes.get(_normalise(script_path))

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and _normalise(path) in self._routes

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._routes))

    def __len__(self) -> int:
        return len(self._routes)


def _normalise(path: str) -> str:
    return split_script(path)[0]
