"""Booking a call-back that keeps the caller's place: when, and in which 15-minute slot.

The call-back is due when the caller would have reached the head of the queue, inside polite
calling hours, in the first slot with room (``acd.engine.estimate.plan_callback``). How full a
slot is comes from the database (pending and dialling ``callbacks`` rows, whoever booked them),
so it holds across restarts and several daemons. A booking this daemon made whose row the writer
has not stored yet is counted from memory until the table shows it, or its time has passed; so
that memory stays small. When the database cannot be read, only that memory counts (logged).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.daemon.call_events import utc
from acd.daemon.wait_policy import calling_hours
from acd.engine.estimate import plan_callback
from acd.logging import get_logger
from acd.storage.models import Callback

log = get_logger(__name__)
DAYS_AHEAD = 3  # calling hours considered for a call-back: today and the next days

# (window start, window end) -> (callback id, due time) of the call-backs booked in it
BookedReader = Callable[[float, float], Awaitable[list[tuple[str, float]]]]


@dataclass(frozen=True, slots=True)
class CallbackHours:
    hours: tuple[int, int] = (9, 20)  # polite local calling hours [start, end)
    slot_capacity: int = 4  # call-backs agents can absorb per 15-minute slot
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class BookedSlot:
    callback_id: str
    due_at: float


def booked_in_table(sessions: async_sessionmaker[AsyncSession]) -> BookedReader:
    """Pending and dialling call-backs due inside the window, from the ``callbacks`` table."""

    async def read(start: float, end: float) -> list[tuple[str, float]]:
        query = select(Callback.id, Callback.due_at).where(
            Callback.state.in_(("pending", "dialing")),
            Callback.due_at >= utc(start),
            Callback.due_at < utc(end),
        )
        async with sessions() as session:
            rows = (await session.execute(query)).all()
        return [(cid, due.timestamp()) for cid, due in rows if due is not None]

    return read


class CallbackBook:
    def __init__(self, booked: BookedReader | None, hours: CallbackHours) -> None:
        self._booked = booked
        self._hours = hours
        self._unseen: dict[str, float] = {}  # booked here, not yet seen in the table

    @property
    def unconfirmed(self) -> int:
        """Bookings counted from memory (bounded: they leave once stored or past)."""
        return len(self._unseen)

    async def book(self, now: float, estimate_s: float | None) -> BookedSlot | None:
        """A call-back id and due time for a caller booking at ``now`` (wall clock, as stored);
        None when no slot has room in the coming days."""
        h = self._hours
        spans = calling_hours(now, h.timezone, h.hours, days=DAYS_AHEAD)
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        in_table = await self._read(start, end)
        for callback_id in [
            cid for cid, due in self._unseen.items() if cid in in_table or due < now
        ]:
            del self._unseen[callback_id]
        booked = [*in_table.values(), *self._unseen.values()]
        plan = plan_callback(
            now, estimate_s, calling_hours=spans, booked=booked, capacity_per_slot=h.slot_capacity
        )
        if plan is None:
            return None
        slot = BookedSlot(uuid.uuid4().hex, plan.at)
        self._unseen[slot.callback_id] = slot.due_at
        return slot

    async def _read(self, start: float, end: float) -> dict[str, float]:
        if self._booked is None:
            return {}
        try:
            return dict(await self._booked(start, end))
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "callback_slots_unread", error=str(exc), why="counting this daemon's bookings only"
            )
            return {}
