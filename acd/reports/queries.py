"""The report's SQL: the call rows of a period, their timeline, agent states, repeat callers.

Filtering, joining and ordering happen in the database (on the ``arrived_at`` indexes); the
rows come back as plain frozen dataclasses so everything after this module is pure. The same
statements run on SQLite and PostgreSQL (no dialect-specific date functions: bucketing is done
in ``acd.reports.periods``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.storage.models import AgentStateLog, Call, CallEvent
from acd.storage.timeline import decode_timeline

# Timeline kinds the report needs: ring starts, answers, holds, missed rings.
TIMELINE_KINDS = ("offered", "answered", "hold", "unhold", "ring_no_answer")


@dataclass(frozen=True, slots=True)
class CallRow:
    id: str
    uniqueid: str | None
    caller_number: str | None
    arrived_at: datetime
    queue: str | None
    queued_at: datetime | None
    answered_at: datetime | None
    agent_id: str | None
    ended_at: datetime | None
    hung_up_by: str | None
    outcome: str | None
    ivr_path: list[Any] | None
    ivr_reason: str | None
    ivr_category: str | None
    disposition_code: str | None
    resolved: bool | None
    survey_rating: int | None
    handled_by: str = "daemon"  # or "fallback"


@dataclass(frozen=True, slots=True)
class EventRow:
    call_id: str
    seq: int
    at: datetime
    kind: str
    agent_id: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class StateRow:
    agent_id: str
    state: str
    reason: str | None
    started_at: datetime
    ended_at: datetime | None  # None: still open


_CALL_COLUMNS = [Call.__table__.c[name] for name in CallRow.__slots__]


def _in_period(start: datetime, end: datetime) -> Any:
    return and_(Call.arrived_at >= start, Call.arrived_at < end)


async def fetch_calls(conn: AsyncConnection, start: datetime, end: datetime) -> list[CallRow]:
    """Calls that arrived in ``[start, end)``, oldest first."""
    query = select(*_CALL_COLUMNS).where(_in_period(start, end)).order_by(Call.arrived_at, Call.id)
    result = await conn.execute(query)
    return [CallRow(*row) for row in result]


async def fetch_timeline(
    conn: AsyncConnection, start: datetime, end: datetime
) -> dict[str, list[EventRow]]:
    """Timeline steps (``TIMELINE_KINDS``) of the period's calls, by call id, in order:
    ``calls.timeline`` merged by step number with the call's ``call_events`` rows (calls written
    before the column existed, and the steps of a daemon that resumed the call after the first
    one died)."""
    timeline = await _fetch_event_rows(conn, start, end)
    with_column = select(Call.id, Call.timeline).where(
        _in_period(start, end), Call.timeline.is_not(None)
    )
    for call_id, value in await conn.execute(with_column):
        steps = [
            EventRow(
                call_id, s.seq, s.at, s.kind, s.agent_id, None if s.data is None else dict(s.data)
            )
            for s in decode_timeline(value)
            if s.kind in TIMELINE_KINDS
        ]
        by_seq = {row.seq: row for row in timeline.get(call_id, [])}
        by_seq.update((row.seq, row) for row in steps)
        if by_seq:
            timeline[call_id] = [by_seq[seq] for seq in sorted(by_seq)]
        else:
            timeline.pop(call_id, None)
    return timeline


async def _fetch_event_rows(
    conn: AsyncConnection, start: datetime, end: datetime
) -> dict[str, list[EventRow]]:
    query = (
        select(
            CallEvent.call_id,
            CallEvent.seq,
            CallEvent.at,
            CallEvent.kind,
            CallEvent.agent_id,
            CallEvent.data,
        )
        .join(Call, Call.id == CallEvent.call_id)
        .where(_in_period(start, end), CallEvent.kind.in_(TIMELINE_KINDS))
        .order_by(CallEvent.call_id, CallEvent.seq)
    )
    timeline: dict[str, list[EventRow]] = {}
    for row in await conn.execute(query):
        timeline.setdefault(row[0], []).append(EventRow(*row))
    return timeline


async def fetch_states(
    conn: AsyncConnection, start: datetime, end: datetime, slack: timedelta = timedelta(0)
) -> list[StateRow]:
    """Agent state intervals overlapping ``[start, end + slack)``, by agent and start time.

    ``slack`` reaches past the period for the wrap-up that follows a call ending near its end.
    """
    log = AgentStateLog
    query = (
        select(log.agent_id, log.state, log.reason, log.started_at, log.ended_at)
        .where(
            log.started_at < end + slack,
            or_(log.ended_at.is_(None), log.ended_at > start),
        )
        .order_by(log.agent_id, log.started_at, log.id)
    )
    return [StateRow(*row) for row in await conn.execute(query)]


async def fetch_repeat_arrivals(
    conn: AsyncConnection, start: datetime, end: datetime, window: timedelta
) -> list[tuple[str, datetime]]:
    """Arrivals in ``[start, end + window)`` from numbers that called during the period."""
    numbers = (
        select(Call.caller_number)
        .where(_in_period(start, end), Call.caller_number.is_not(None))
        .distinct()
        .scalar_subquery()
    )
    query = (
        select(Call.caller_number, Call.arrived_at)
        .where(
            Call.arrived_at >= start,
            Call.arrived_at < end + window,
            Call.caller_number.in_(numbers),
        )
        .order_by(Call.caller_number, Call.arrived_at)
    )
    return [(str(number), at) for number, at in await conn.execute(query)]
