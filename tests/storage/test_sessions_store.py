"""Agent sessions (each agent's latest interval), the heartbeat and the close of open
intervals, written through the batch path on both back-ends: idempotent on replay, a close
keeps its place in submit order, and a closed latest interval is still the agent's session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from acd.storage.agent_sessions import StoredSession, latest_sessions
from acd.storage.apply import apply_batch
from acd.storage.commands import AppendAgentState, CloseOpenStates, MarkAlive, WriteCommand
from acd.storage.engine import create_engine
from acd.storage.migrate import upgrade
from acd.storage.models import AgentStateLog, DaemonHeartbeat

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def change(
    agent: str, state: str, at: float, reason: str | None = None, **session: object
) -> AppendAgentState:
    return AppendAgentState(
        idempotency_key=f"{agent}:st:{at}:{state}",
        agent_id=agent,
        state=state,
        reason=reason,
        at=s(at),
        endpoint="PJSIP/1001",
        **session,  # type: ignore[arg-type]
    )


@pytest.mark.asyncio
async def test_sessions_heartbeat_and_ordered_close(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        first: list[WriteCommand] = [
            change("a1", "ready", 0),
            change("a1", "paused", 10, "lunch"),
            change("a2", "ready", 5),
            change("a2", "on_call", 6, call_id="c1", queue="sales"),
            change("a2", "wrap_up", 8, wrap_up_due=s(38), queue="sales"),
            MarkAlive(idempotency_key="alive:1", node="active", at=s(20)),
        ]
        # The next start: close what the crash left open at the last time known (20), then the
        # restored agent's new interval from 30, in the same batch.
        restart: list[WriteCommand] = [
            CloseOpenStates(idempotency_key="close:20", at=s(20)),
            change("a1", "paused", 30, "lunch"),
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
            sessions = await latest_sessions(db, ["a1", "a2", "a9"])
            beat = await db.scalar(select(DaemonHeartbeat.seen_at))
        assert [tuple(r) for r in log] == [
            ("a1", "ready", s(0), s(10)),
            ("a1", "paused", s(10), s(20)),
            ("a1", "paused", s(30), None),
            ("a2", "ready", s(5), s(6)),
            ("a2", "on_call", s(6), s(8)),
            ("a2", "wrap_up", s(8), s(20)),
        ]
        # a1: the interval the restart opened; a2: the one the crash's close ended
        assert sessions == {
            "a1": StoredSession("a1", "paused", "lunch", s(30), "PJSIP/1001", None, None, None),
            "a2": StoredSession("a2", "wrap_up", None, s(8), "PJSIP/1001", s(38), None, "sales"),
        }
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


@pytest.mark.asyncio
async def test_of_changes_at_one_instant_the_last_written_is_the_session(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        batch: list[WriteCommand] = [
            change("a1", "ready", 0),
            change("a1", "on_call", 5, call_id="c1", queue="sales"),
            change("a1", "pending_logout", 5, call_id="c1", queue="sales"),
        ]
        async with engine.begin() as db:
            await apply_batch(db, batch, s(6))
        async with engine.begin() as db:
            await apply_batch(db, [CloseOpenStates(idempotency_key="close:9", at=s(9))], s(9))
        async with engine.connect() as db:
            sessions = await latest_sessions(db, ["a1"])
        assert sessions == {
            "a1": StoredSession(
                "a1", "pending_logout", None, s(5), "PJSIP/1001", None, "c1", "sales"
            )
        }
    finally:
        await engine.dispose()
