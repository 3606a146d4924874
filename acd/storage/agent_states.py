"""Agent state intervals: close the open one and open the next in the caller's transaction.

Rules (``plan_state_change`` is the pure part):
- an agent has at most one open interval (``ended_at IS NULL``; a unique index enforces it);
- a change of state, or of reason within the same state (pause "lunch" -> pause "training"),
  closes the open interval at ``at`` and opens a new one starting at ``at``;
- the same state with the same reason is a no-op (the interval simply continues);
- a change dated before the open interval started is refused: intervals never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from acd.storage.models import AgentStateLog


class StateOrderError(ValueError):
    """A state change earlier than the start of the agent's open interval."""


@dataclass(frozen=True)
class OpenInterval:
    state: str
    reason: str | None
    started_at: datetime


@dataclass(frozen=True)
class StatePlan:
    close_open: bool
    open_new: bool


def plan_state_change(
    current: OpenInterval | None, state: str, reason: str | None, at: datetime
) -> StatePlan:
    if current is None:
        return StatePlan(close_open=False, open_new=True)
    if at < current.started_at:
        raise StateOrderError(
            f"state change at {at.isoformat()} precedes the open interval "
            f"({current.state}) started at {current.started_at.isoformat()}"
        )
    if (current.state, current.reason) == (state, reason):
        return StatePlan(close_open=False, open_new=False)
    return StatePlan(close_open=True, open_new=True)


async def change_agent_state(
    session: AsyncSession,
    agent_id: str,
    state: str,
    reason: str | None,
    at: datetime,
) -> AgentStateLog | None:
    """Apply one state change; call inside ``session.begin()`` so close+open commit together.

    Returns the newly opened row, or None when nothing changed (same state and reason).
    """
    await _lock_agent(session, agent_id)
    open_row = await session.scalar(
        select(AgentStateLog).where(
            AgentStateLog.agent_id == agent_id, AgentStateLog.ended_at.is_(None)
        )
    )
    current = (
        None
        if open_row is None
        else OpenInterval(open_row.state, open_row.reason, open_row.started_at)
    )
    plan = plan_state_change(current, state, reason, at)
    if plan.close_open and open_row is not None:
        open_row.ended_at = at
        # Flush the close before the insert: the one-open-interval unique index is checked
        # per statement.
        await session.flush()
    if not plan.open_new:
        return None
    row = AgentStateLog(agent_id=agent_id, state=state, reason=reason, started_at=at, ended_at=None)
    session.add(row)
    await session.flush()
    return row


async def _lock_agent(session: AsyncSession, agent_id: str) -> None:
    """Serialise state changes of one agent until the transaction ends.

    SQLite needs nothing: BEGIN IMMEDIATE already serialises writers (engine.py). On PostgreSQL
    ``SELECT ... FOR UPDATE`` of the open row is not enough under READ COMMITTED: the waiter
    re-checks ``ended_at IS NULL`` after the first transaction commits, finds no open row and
    inserts a second one. A transaction-scoped advisory lock on the agent id has no such gap.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:agent_id, 0))"),
            {"agent_id": agent_id},
        )
