"""Agent sessions, the heartbeat and the close of open intervals, written through the batch
path on both back-ends: idempotent on replay, and a close keeps its place in submit order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from acd.storage.apply import apply_batch
from acd.storage.commands import (
    AppendAgentState,
    CloseOpenStates,
    MarkAlive,
    UpsertAgentSession,
    WriteCommand,
)
from acd.storage.engine import create_engine
from acd.storage.migrate import upgrade
from acd.storage.models import AgentSession, AgentStateLog, DaemonHeartbeat

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(agent: str, state: str, at: float, reason: str | None = None) -> AppendAgentState:
    return AppendAgentState(
        idempotency_key=f"{agent}:st:{at}", agent_id=agent, state=state, reason=reason, at=s(at)
    )


def session(agent: str, state: str, at: float, reason: str | None = None) -> UpsertAgentSession:
    return UpsertAgentSession(
        idempotency_key=f"{agent}:session:{at}",
        agent_id=agent,
        state=state,
        reason=reason,
        endpoint="PJSIP/1001",
        since=s(at),
        wrap_up_due=None,
        call_id=None,
        queue=None,
        updated_at=s(at),
    )


@pytest.mark.asyncio
async def test_sessions_heartbeat_and_ordered_close(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        first: list[WriteCommand] = [
            change("a1", "ready", 0),
            session("a1", "ready", 0),
            change("a1", "paused", 10, "lunch"),
            session("a1", "paused", 10, "lunch"),
            change("a2", "ready", 5),
            MarkAlive(idempotency_key="alive:1", node="active", at=s(20)),
        ]
        # The next start: close what the crash left open at the last time known (20), then the
        # restored agent's new interval from 30, in the same batch.
        restart: list[WriteCommand] = [
            CloseOpenStates(idempotency_key="close:20", at=s(20)),
            change("a1", "paused", 30, "lunch"),
            session("a1", "paused", 30, "lunch"),
            MarkAlive(idempotency_key="alive:2", node="active", at=s(30)),
        ]
        for batch in (first, restart, first + restart):  # the replay changes nothing
            async with engine.begin() as db:
                await apply_batch(db, batch, s(40))
        async with engine.connect() as db:
            log = (
                await db.execute(
                    select(
                        AgentStateLog.agent_id,
                        AgentStateLog.state,
                        AgentStateLog.started_at,
                        AgentStateLog.ended_at,
                    ).order_by(AgentStateLog.agent_id, AgentStateLog.started_at)
                )
            ).all()
            sessions = (
                await db.execute(
                    select(AgentSession.agent_id, AgentSession.state, AgentSession.reason)
                )
            ).all()
            beat = await db.scalar(select(DaemonHeartbeat.seen_at))
        assert [tuple(r) for r in log] == [
            ("a1", "ready", s(0), s(10)),
            ("a1", "paused", s(10), s(20)),
            ("a1", "paused", s(30), None),
            ("a2", "ready", s(5), s(20)),
        ]
        assert [tuple(r) for r in sessions] == [("a1", "paused", "lunch")]
        assert beat == s(30)
        # A clean stop closes the rest; an interval opened after the close's time stays open.
        async with engine.begin() as db:
            await apply_batch(
                db,
                [CloseOpenStates(idempotency_key="close:25", at=s(25))],
                s(41),
            )
        async with engine.connect() as db:
            still_open = await db.scalar(
                select(AgentStateLog.started_at).where(AgentStateLog.ended_at.is_(None))
            )
        assert still_open == s(30)
    finally:
        await engine.dispose()
