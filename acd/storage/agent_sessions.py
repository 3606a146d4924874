"""The agents' sessions as stored: each agent's latest state interval (``agent_state_log``).

An agent change is one row write (issue 13): the interval it opens carries the session's
fields (device, wrap-up deadline, call in hand, its queue). A clean stop closes the open
intervals at the stop's time and a crash leaves them open (closed at the next start at the
last time known); either way the agent's latest interval still says what the agent was doing,
so the restore reads the latest one whether it is open or closed.

An agent's conversations and wrap-ups are not intervals of their own (issue 13): they are the
legs on the calls rows (``calls.agent_legs``); ``busy_legs`` reads the ones that may still hold
an agent (``acd.engine.sessions.with_calls`` lays them over the sessions).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import String, Table, column, or_, select, values

from acd.storage.agent_legs import LegRow, legs_of
from acd.storage.engine import Database
from acd.storage.models import AgentStateLog, Call

_LOG = cast(Table, AgentStateLog.__table__)
_CHUNK = 1000  # agents per statement (bind parameter limits)


@dataclass(frozen=True, slots=True)
class StoredSession:
    agent_id: str
    state: str
    reason: str | None
    since: datetime
    endpoint: str | None
    wrap_up_due: datetime | None
    call_id: str | None
    queue: str | None


async def latest_sessions(db: Database, agent_ids: Iterable[str]) -> dict[str, StoredSession]:
    """Agent -> its latest interval, for the agents given (those without one are left out).
    Latest: the latest start, and of intervals sharing that instant (changes at one instant
    leave zero-length intervals) the last written. One index probe per agent on
    (agent_id, started_at): the log grows with every call, a start must not scan it."""
    found: dict[str, StoredSession] = {}
    ids = sorted(set(agent_ids))
    for first in range(0, len(ids), _CHUNK):
        wanted = (
            values(column("agent_id", String), name="wanted")
            .data([(agent,) for agent in ids[first : first + _CHUNK]])
            .cte()
        )  # WITH wanted(agent_id) AS (VALUES ...): SQLite has no VALUES column aliases
        probe = _LOG.alias("probe")
        latest = (
            select(probe.c.id)
            .where(probe.c.agent_id == wanted.c.agent_id)
            .order_by(probe.c.started_at.desc(), probe.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        rows = await db.execute(
            select(
                _LOG.c.agent_id,
                _LOG.c.state,
                _LOG.c.reason,
                _LOG.c.started_at,
                _LOG.c.endpoint,
                _LOG.c.wrap_up_due,
                _LOG.c.call_id,
                _LOG.c.queue,
            ).where(_LOG.c.id.in_(select(latest).select_from(wanted)))
        )
        found.update((row.agent_id, StoredSession(*row)) for row in rows)
    return found


# How long a conversation plus its wrap-up may have lasted before a start and still hold its
# agent (the calls are found on the arrived_at index).
LEG_LOOKBACK = timedelta(hours=12)


async def busy_legs(db: Database, now: datetime) -> list[LegRow]:
    """The legs of calls that may still hold their agents at ``now``: the last leg is still
    open on the row (no deadline yet: the agent was talking when it was written, also when the
    daemon stopped meanwhile, ``Outputs.hold_sessions``), or its wrap-up deadline is later.
    An open leg stays open here: whether that call still goes on is Asterisk's to say (the
    restore asks it), and a stored change since the answer wins anyway."""
    query = select(Call.id, Call.agent_legs).where(
        Call.arrived_at >= now - LEG_LOOKBACK,
        Call.agent_legs.is_not(None),
        or_(Call.wrap_up_due.is_(None), Call.wrap_up_due > now),
    )
    legs: list[LegRow] = []
    for call_id, agent_legs in await db.execute(query):
        legs.extend(legs_of(call_id, agent_legs, None))
    return legs
