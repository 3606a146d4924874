"""Agent state intervals: close the open one and open the next, many changes in a few statements.

Rules (``plan_state_change`` is the pure part):
- an agent has at most one open interval (``ended_at IS NULL``; a unique index enforces it);
- a change of state, or of reason within the same state (pause "lunch" -> pause "training"),
  closes the open interval at ``at`` and opens a new one starting at ``at``;
- the same state with the same reason is a no-op (the interval simply continues), unless the
  change names a call the open interval does not (a ready that ends the wrap-up of that call
  early: the wrap-up is derived from the call's row, ``acd.reports.agent_time``, and this
  interval's start is where it ends);
- a change dated before the open interval started is refused: intervals never overlap.

Exactly once, without a claim row: the interval a change opens carries the change's key
(``change_key``, unique), so a replayed change that opened one is recognised by it. A replayed
change that changed nothing (same state) or that predates the open interval is recognised by
the log itself: the agent was already in that state at that instant. A change the log
contradicts is refused (``StateOrderError``), as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, text, update

from acd.storage.commands import AppendAgentState
from acd.storage.engine import Database, dialect_name
from acd.storage.models import AgentStateLog

_LOG = cast(Table, AgentStateLog.__table__)
# Rows looked at before an out-of-order change: the ones starting at or just before it
# (several only when changes share an instant).
_HISTORY_ROWS = 8


class StateOrderError(ValueError):
    """A state change earlier than the start of the agent's open interval."""


@dataclass(frozen=True)
class OpenInterval:
    state: str
    reason: str | None
    started_at: datetime
    call_id: str | None = None


@dataclass(frozen=True)
class StatePlan:
    close_open: bool
    open_new: bool


def plan_state_change(
    current: OpenInterval | None,
    state: str,
    reason: str | None,
    at: datetime,
    call_id: str | None = None,
) -> StatePlan:
    if current is None:
        return StatePlan(close_open=False, open_new=True)
    if at < current.started_at:
        raise StateOrderError(
            f"state change at {at.isoformat()} precedes the open interval "
            f"({current.state}) started at {current.started_at.isoformat()}"
        )
    if (current.state, current.reason) == (state, reason) and call_id in (None, current.call_id):
        return StatePlan(close_open=False, open_new=False)
    return StatePlan(close_open=True, open_new=True)


@dataclass
class Interval:
    """An interval as this batch sees it: from the database (``row_id``) or opened here."""

    state: str
    reason: str | None
    started_at: datetime
    ended_at: datetime | None
    row_id: int | None = None
    new_row: dict[str, Any] | None = None  # the INSERT parameters of an interval opened here
    call_id: str | None = None


def in_state_at(
    intervals: Sequence[Interval], state: str, reason: str | None, at: datetime
) -> bool:
    """Whether the log already has the agent in ``state``/``reason`` at instant ``at``.

    An interval starting exactly at ``at`` counts even when it lasted no time (changes that
    share an instant leave zero-length intervals).
    """
    return any(
        (i.state, i.reason) == (state, reason)
        and i.started_at <= at
        and (i.ended_at is None or i.ended_at > at or i.started_at == at)
        for i in intervals
    )


@dataclass
class _Batch:
    closes: dict[int, datetime] = field(default_factory=dict)  # database row id -> ended_at
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    opened: dict[str, list[Interval]] = field(default_factory=dict)  # agent -> opened here
    skipped: int = 0


async def apply_state_changes(db: Database, changes: Sequence[AppendAgentState]) -> int:
    """Apply ``changes`` in order inside the caller's transaction; returns how many were
    recognised as applied before. Statements: a lock (PostgreSQL), one read, one UPDATE and
    one INSERT for the whole batch, plus one read per change dated before the open interval."""
    if not changes:
        return 0
    agents = sorted({c.agent_id for c in changes})
    keys = [c.idempotency_key for c in changes]
    await _lock_agents(db, agents)
    # One read for both: the agents' open intervals, and intervals these changes opened before.
    known = await db.execute(
        select(
            _LOG.c.id,
            _LOG.c.agent_id,
            _LOG.c.state,
            _LOG.c.reason,
            _LOG.c.started_at,
            _LOG.c.ended_at,
            _LOG.c.change_key,
            _LOG.c.call_id,
        ).where(
            or_(
                and_(_LOG.c.agent_id.in_(agents), _LOG.c.ended_at.is_(None)),
                _LOG.c.change_key.in_(keys),
            )
        )
    )
    current: dict[str, Interval] = {}
    seen: set[str | None] = set()
    for row_id, agent, state, reason, started, ended, key, call_id in known:
        seen.add(key)
        if ended is None:
            current[agent] = Interval(state, reason, started, None, row_id=row_id, call_id=call_id)
    batch = _Batch()
    for change in changes:
        if change.idempotency_key in seen:
            batch.skipped += 1
            continue
        if await _apply_one(db, batch, current, change):
            seen.add(change.idempotency_key)
    if batch.closes:
        await db.execute(
            update(_LOG)
            .where(_LOG.c.id == bindparam("row_id"))
            .values(ended_at=bindparam("closed_at", type_=_LOG.c.ended_at.type)),
            [{"row_id": row_id, "closed_at": at} for row_id, at in batch.closes.items()],
        )
    if batch.new_rows:
        await db.execute(insert(_LOG), batch.new_rows)
    return batch.skipped


async def change_agent_state(
    db: Database,
    agent_id: str,
    state: str,
    reason: str | None,
    at: datetime,
    *,
    key: str | None = None,
) -> bool:
    """One state change (inside an open transaction, so close+open commit together).
    True unless it was recognised as applied before. Without ``key`` the change's own facts
    are its key (the same change at the same instant is one change)."""
    facts = f"{agent_id}\n{at.isoformat()}\n{state}\n{reason}".encode()
    change = AppendAgentState(
        idempotency_key=key or f"state:{hashlib.sha256(facts).hexdigest()}",
        agent_id=agent_id,
        state=state,
        reason=reason,
        at=at,
    )
    return await apply_state_changes(db, [change]) == 0


async def close_open_states(db: Database, at: datetime) -> None:
    """Close, at ``at``, every open interval that started at or before it (a stop, or the last
    time known before a crash). Intervals opened later stay open; closed ones stay as they are."""
    await db.execute(
        update(_LOG).where(_LOG.c.ended_at.is_(None), _LOG.c.started_at <= at).values(ended_at=at)
    )


async def _apply_one(
    db: Database, batch: _Batch, current: dict[str, Interval], change: AppendAgentState
) -> bool:
    """Plan one change into ``batch``; True when it opened an interval."""
    agent, at = change.agent_id, change.at
    open_now = current.get(agent)
    view = (
        None
        if open_now is None
        else OpenInterval(open_now.state, open_now.reason, open_now.started_at, open_now.call_id)
    )
    try:
        plan = plan_state_change(view, change.state, change.reason, at, change.call_id)
    except StateOrderError:
        history = [*batch.opened.get(agent, []), *await _history(db, batch, agent, at)]
        if in_state_at(history, change.state, change.reason, at):
            batch.skipped += 1  # replayed, or stale and already true: nothing to change
            return False
        raise
    if plan.close_open and open_now is not None:
        open_now.ended_at = at
        if open_now.new_row is not None:
            open_now.new_row["ended_at"] = at
        elif open_now.row_id is not None:
            batch.closes[open_now.row_id] = at
    if not plan.open_new:
        return False
    row = {
        "agent_id": agent,
        "state": change.state,
        "reason": change.reason,
        "started_at": at,
        "ended_at": None,
        "change_key": change.idempotency_key,
        # the session (every row has every key: one executemany)
        "endpoint": change.endpoint,
        "wrap_up_due": change.wrap_up_due,
        "call_id": change.call_id,
        "queue": change.queue,
    }
    batch.new_rows.append(row)
    opened = Interval(change.state, change.reason, at, None, new_row=row, call_id=change.call_id)
    batch.opened.setdefault(agent, []).append(opened)
    current[agent] = opened
    return True


async def _history(db: Database, batch: _Batch, agent_id: str, at: datetime) -> list[Interval]:
    """The agent's stored intervals starting at or just before ``at``, with this batch's
    closes applied (an interval the batch closes is still open in the database)."""
    rows = await db.execute(
        select(_LOG.c.id, _LOG.c.state, _LOG.c.reason, _LOG.c.started_at, _LOG.c.ended_at)
        .where(_LOG.c.agent_id == agent_id, _LOG.c.started_at <= at)
        .order_by(_LOG.c.started_at.desc(), _LOG.c.id.desc())
        .limit(_HISTORY_ROWS)
    )
    return [
        Interval(state, reason, started, batch.closes.get(row_id, ended), row_id=row_id)
        for row_id, state, reason, started, ended in rows
    ]


async def _lock_agents(db: Database, agent_ids: Sequence[str]) -> None:
    """Serialise state changes of these agents until the transaction ends.

    SQLite needs nothing: BEGIN IMMEDIATE already serialises writers (engine.py). On PostgreSQL
    ``SELECT ... FOR UPDATE`` of the open row is not enough under READ COMMITTED: the waiter
    re-checks ``ended_at IS NULL`` after the first transaction commits, finds no open row and
    inserts a second one. Transaction-scoped advisory locks on the agent ids have no such gap;
    taken in hash order in one statement, so two writers cannot deadlock on them.
    """
    if dialect_name(db) == "postgresql":
        await db.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT "
                "hashtextextended(a, 0) AS k FROM unnest(CAST(:agents AS text[])) AS a "
                "ORDER BY k) AS locks"
            ),
            {"agents": list(agent_ids)},
        )
