"""What the daemon needs from an IVR: the kernel's side of the ``ivr`` feature package.

The call flow hands the caller's FastAGI session to an ``IvrRunner`` and gets an ``IvrOutcome``
back: where the caller wants to go and the path that got them there (stored on the call row).
The ``ivr`` package implements the runner; the composition root wires it in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.asterisk.aio.agi_session import AgiSession

OutcomeKind = Literal["queue", "self_service", "callback", "closed", "hangup"]


@dataclass(frozen=True, slots=True)
class IvrOutcome:
    kind: OutcomeKind
    queue: str | None = None  # for queue / callback
    priority: int | None = None  # overrides the queue's priority (complaints)
    reason: str | None = None  # after-sales reason / complaint category, for the screen pop
    order_number: str | None = None
    language: str | None = None
    # one entry per menu node visited, in order: {"node": id, "entered_at": epoch s,
    # "seconds": time spent, "keys": keys pressed there, "result": what happened}
    path: tuple[Mapping[str, Any], ...] = ()


class IvrRunner(Protocol):
    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool
    ) -> IvrOutcome: ...


class CallerProfile(Protocol):
    """What the ACD uses of an identified caller (the screen pop gets the rest)."""

    @property
    def name(self) -> str | None: ...

    @property
    def vip(self) -> bool: ...

    @property
    def last_agent_id(self) -> str | None: ...


class CallerLookup(Protocol):
    async def lookup(self, number: str) -> CallerProfile | None: ...


@dataclass(frozen=True)
class Features:
    """The feature packages' parts the daemon runs, built once the database exists."""

    ivr: Callable[[async_sessionmaker[AsyncSession]], IvrRunner]
    callers: Callable[[async_sessionmaker[AsyncSession]], CallerLookup] | None = None
