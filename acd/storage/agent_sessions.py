"""The agents' sessions as stored: each agent's latest state interval (``agent_state_log``).

An agent change is one row write (issue 13): the interval it opens carries the session's
fields (device, wrap-up deadline, call in hand, its queue). A clean stop closes the open
intervals at the stop's time and a crash leaves them open (closed at the next start at the
last time known); either way the agent's latest interval still says what the agent was doing,
so the restore reads the latest one whether it is open or closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import String, Table, column, select, values

from acd.storage.engine import Database
from acd.storage.models import AgentStateLog

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
