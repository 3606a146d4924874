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

from acd.reports.agent_time import merge_states
from acd.reports.rows import StateRow
from acd.storage.agent_legs import LegRow, legs_of
from acd.storage.models import AgentStateLog, Call, CallEvent
from acd.storage.timeline import decode_timeline

# Timeline kinds the report needs: ring starts, answers, holds, missed rings.
TIMELINE_KINDS = ("offered", "answered", "hold", "unhold", "ring_no_answer")
# How long before a period a call may have been answered and still be talking or in wrap-up.
LEG_LOOKBACK = timedelta(hours=12)


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
    """Agent state intervals overlapping ``[start, end + slack)``, by agent and start time:
    the state log merged with the on-call and wrap-up time of the calls rows' agent legs
    (``acd.reports.agent_time``).

    ``slack`` reaches past the period for the wrap-up that follows a call ending near its end.
    """
    logged = await fetch_logged_states(conn, start, end, slack)
    return merge_states(logged, await fetch_legs(conn, start, end + slack))


async def fetch_legs(conn: AsyncConnection, start: datetime, end: datetime) -> list[LegRow]:
    """The agent legs (``acd.reports.agent_time.LegRow``) of calls whose conversation or
    wrap-up may overlap ``[start, end)``: calls that arrived in ``[start - LEG_LOOKBACK, end)``
    and carry legs (on the ``arrived_at`` index; a conversation plus its wrap-up longer than
    ``LEG_LOOKBACK`` before the period is not seen)."""
    query = select(Call.id, Call.agent_legs, Call.ended_at).where(
        Call.arrived_at >= start - LEG_LOOKBACK,
        Call.arrived_at < end,
        Call.agent_legs.is_not(None),
        or_(Call.ended_at.is_(None), Call.ended_at >= start, Call.wrap_up_due >= start),
    )
    legs: list[LegRow] = []
    for call_id, agent_legs, ended_at in await conn.execute(query):
        legs.extend(legs_of(call_id, agent_legs, ended_at))
    return legs


async def fetch_logged_states(
    conn: AsyncConnection, start: datetime, end: datetime, slack: timedelta = timedelta(0)
) -> list[StateRow]:
    """The ``agent_state_log`` intervals overlapping ``[start, end + slack)`` as stored."""
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
