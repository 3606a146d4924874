"""Caller identification: who is calling (name, VIP, last agent, recent calls) from their number.

``CustomerLookup`` is the pluggable part; ``TableCustomerLookup`` reads the ``customers`` and
``calls`` tables (read-only). A CRM over HTTP plugs in the same way: a class whose
``async lookup(number)`` sends ``GET <crm>/customers/<number>`` with a short timeout and maps
the JSON onto ``Customer`` -- returning None on 404 *and* on timeouts or errors, because a slow
CRM must never hold a caller in silence; pair it with the table lookup as a fallback if wanted.

VIP callers are served first: ``priority_for`` applies the engine's ``caller_priority`` boost.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.engine.model import QueueSpec, caller_priority
from acd.storage.models import Call
from acd.storage.models import Customer as CustomerRow

RECENT_CALLS = 5
_DIAL_PUNCTUATION = re.compile(r"[\s\-().]")


@dataclass(frozen=True, slots=True)
class RecentCall:
    call_id: str
    arrived_at: dt.datetime
    queue: str | None
    agent_id: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class Customer:
    number: str
    name: str | None = None
    vip: bool = False
    last_agent_id: str | None = None  # preferred agent for routing
    recent_calls: tuple[RecentCall, ...] = ()  # newest first


class CustomerLookup(Protocol):
    async def lookup(self, number: str) -> Customer | None: ...


def normalise_number(number: str) -> str:
    """The caller id as stored: no spaces, dashes, dots or brackets (``+`` is kept)."""
    return _DIAL_PUNCTUATION.sub("", number.strip())


def priority_for(queue: QueueSpec, customer: Customer | None, *, complaint: bool = False) -> int:
    """The caller's priority in ``queue``: a known VIP gets the engine's VIP boost."""
    vip = customer is not None and customer.vip
    return caller_priority(queue, vip=vip, complaint=complaint)


class TableCustomerLookup:
    """Customers from the ``customers`` table, with their last calls from ``calls``."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, recent: int = RECENT_CALLS
    ) -> None:
        self._sessions = sessions
        self._recent = recent

    async def lookup(self, number: str) -> Customer | None:
        number = normalise_number(number)
        if not number:  # withheld or anonymous caller id
            return None
        async with self._sessions() as db:
            row = await db.get(CustomerRow, number)
            if row is None:
                return None
            calls = (
                await db.scalars(
                    select(Call)
                    .where(Call.caller_number == number)
                    .order_by(Call.arrived_at.desc(), Call.id)
                    .limit(self._recent)
                )
            ).all()
        recent = tuple(
            RecentCall(call.id, call.arrived_at, call.queue, call.agent_id, call.outcome)
            for call in calls
        )
        return Customer(row.number, row.name, bool(row.vip), row.last_agent_id, recent)
