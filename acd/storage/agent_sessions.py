"""The agents' sessions as stored: each agent's latest state interval (``agent_state_log``).

An agent change is one row write (issue 13): the interval it opens carries the session's
fields (device, wrap-up deadline, call in hand, its queue). A clean stop closes the open
intervals at the stop's time and a crash leaves them open (closed at the next start at the
last time known); either way the agent's latest interval still says what the agent was doing,
so the restore reads the latest one whether it is open or closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, func, select

from acd.storage.engine import Database
from acd.storage.models import AgentStateLog

_LOG = cast(Table, AgentStateLog.__table__)


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


async def latest_sessions(db: Database) -> dict[str, StoredSession]:
    """Agent -> its latest interval. Latest: the latest start, and of intervals sharing that
    instant (changes at one instant leave zero-length intervals) the last written. One pass
    over the (agent, started_at) index for the starts, then the rows at those starts."""
    last = (
        select(_LOG.c.agent_id, func.max(_LOG.c.started_at).label("at"))
        .group_by(_LOG.c.agent_id)
        .subquery()
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
        )
        .join(last, and_(_LOG.c.agent_id == last.c.agent_id, _LOG.c.started_at == last.c.at))
        .order_by(_LOG.c.id)
    )
    return {row.agent_id: StoredSession(*row) for row in rows}  # the last id wins
