"""Agent state intervals: the pure rules, and close+open in one transaction on both back-ends."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from acd.storage.agent_states import (
    OpenInterval,
    StateOrderError,
    StatePlan,
    change_agent_state,
    plan_state_change,
)
from acd.storage.apply import apply_batch
from acd.storage.commands import AppendAgentState
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import AgentStateLog

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_first_state_opens_an_interval() -> None:
    assert plan_state_change(None, "ready", None, T0) == StatePlan(close_open=False, open_new=True)


def test_same_state_and_reason_continues_the_interval() -> None:
    current = OpenInterval("paused", "lunch", T0)
    assert plan_state_change(current, "paused", "lunch", s(60)) == StatePlan(False, False)


@pytest.mark.parametrize(("state", "reason"), [("paused", "training"), ("ready", None)])
def test_new_state_or_new_pause_reason_closes_and_opens(state: str, reason: str | None) -> None:
    current = OpenInterval("paused", "lunch", T0)
    assert plan_state_change(current, state, reason, s(60)) == StatePlan(True, True)


def test_a_ready_naming_another_call_opens_an_interval() -> None:
    # a wrap-up ended early (the wrap-up is derived from the call's row): its end is where the
    # new ready interval starts, so each such change must open one
    ready = OpenInterval("ready", None, T0)
    assert plan_state_change(ready, "ready", None, s(60), "c1") == StatePlan(True, True)
    named = OpenInterval("ready", None, T0, "c1")
    assert plan_state_change(named, "ready", None, s(60), "c2") == StatePlan(True, True)
    assert plan_state_change(named, "ready", None, s(60), "c1") == StatePlan(False, False)
    assert plan_state_change(named, "ready", None, s(60)) == StatePlan(False, False)


@pytest.mark.asyncio
async def test_early_wrap_up_ends_are_intervals_and_replay_as_no_ops(db_url: str) -> None:
    def ready(at: float, call_id: str | None, key: str) -> AppendAgentState:
        return AppendAgentState(
            idempotency_key=key, agent_id="a1", state="ready", reason=None, at=s(at),
            call_id=call_id,
        )  # fmt: skip

    changes = [ready(0, None, "k0"), ready(30, "c1", "k1"), ready(60, "c2", "k2")]
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        for _ in range(2):  # the second time: a replay, nothing changes
            async with engine.begin() as db:
                await apply_batch(db, list(changes), s(99))
        async with engine.connect() as db:
            rows = (
                await db.execute(
                    select(
                        AgentStateLog.call_id, AgentStateLog.started_at, AgentStateLog.ended_at
                    ).order_by(AgentStateLog.started_at)
                )
            ).all()
    finally:
        await engine.dispose()
    assert [(c, a, b) for c, a, b in rows] == [
        (None, s(0), s(30)),
        ("c1", s(30), s(60)),
        ("c2", s(60), None),
    ]


def test_change_before_the_open_interval_started_is_refused() -> None:
    with pytest.raises(StateOrderError):
        plan_state_change(OpenInterval("ready", None, s(10)), "paused", "lunch", s(5))


@pytest.mark.asyncio
async def test_interval_log_on_the_database(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        changes = [
            ("ready", None, 0),
            ("paused", "lunch", 100),
            ("paused", "training", 200),  # reason change: new interval
            ("paused", "training", 250),  # no change: same interval continues
            ("ready", None, 300),
        ]
        for state, reason, at in changes:
            async with sessions.begin() as session:
                await change_agent_state(session, "a1", state, reason, s(at))
        async with sessions.begin() as session:
            await change_agent_state(session, "a2", "ready", None, s(50))  # another agent
        async with sessions() as session:
            rows = (
                await session.scalars(
                    select(AgentStateLog)
                    .where(AgentStateLog.agent_id == "a1")
                    .order_by(AgentStateLog.started_at)
                )
            ).all()
        got = [(r.state, r.reason, r.started_at, r.ended_at) for r in rows]
        assert got == [
            ("ready", None, s(0), s(100)),
            ("paused", "lunch", s(100), s(200)),
            ("paused", "training", s(200), s(300)),
            ("ready", None, s(300), None),
        ]

        # A failing change leaves everything as it was (close and open are one transaction).
        async def pause_then_go_back_in_time() -> None:
            async with sessions.begin() as session:
                await change_agent_state(session, "a1", "paused", "lunch", s(400))
                # The log says "ready" at 350: a pause then contradicts it.
                await change_agent_state(session, "a1", "paused", "training", s(350))

        with pytest.raises(StateOrderError):
            await pause_then_go_back_in_time()
        async with sessions() as session:
            open_rows = (
                await session.scalars(select(AgentStateLog).where(AgentStateLog.ended_at.is_(None)))
            ).all()
        assert sorted((r.agent_id, r.state, r.started_at) for r in open_rows) == [
            ("a1", "ready", s(300)),
            ("a2", "ready", s(50)),
        ]
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_database_allows_one_open_interval_per_agent(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            session.add(AgentStateLog(agent_id="a1", state="ready", started_at=T0))
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                session.add(AgentStateLog(agent_id="a1", state="paused", started_at=s(1)))
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_concurrent_changes_for_one_agent_stay_consistent(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)

        async def change(state: str, at: datetime) -> None:
            async with sessions.begin() as session:
                await change_agent_state(session, "a1", state, None, at)

        await change("ready", T0)
        # Same instant for all: commit order is up to the scheduler, times must not go back.
        await asyncio.gather(*(change(f"state{i}", s(10)) for i in range(6)))
        async with sessions() as session:
            total = await session.scalar(select(func.count()).select_from(AgentStateLog))
            open_count = await session.scalar(
                select(func.count()).where(AgentStateLog.ended_at.is_(None))
            )
            rows = (await session.scalars(select(AgentStateLog).order_by(AgentStateLog.id))).all()
        assert total == 7
        assert open_count == 1
        # Serialised: each interval ends exactly where the next one (in commit order) starts.
        for before, after in itertools.pairwise(rows):
            assert before.ended_at == after.started_at
    finally:
        await engine.dispose()
