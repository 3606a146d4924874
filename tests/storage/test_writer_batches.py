"""The writer's batches on SQLite and PostgreSQL: many commands per transaction, a refused
command set aside alone, the call timeline as one column."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.commands import AppendAgentState, AppendCallEvent, UpsertCall, WriteCommand
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import AgentStateLog, Call, CallEvent
from acd.storage.spool import Spool
from acd.storage.timeline import TimelineStep, decode_timeline
from acd.storage.writer import StorageWriter

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CALLS = 60


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def arrivals() -> list[WriteCommand]:
    return [
        UpsertCall(idempotency_key=f"c{n}:0", call_id=f"c{n}", values={"arrived_at": s(n)})
        for n in range(CALLS)
    ]


async def run(engine: AsyncEngine, spool: Spool, commands: list[WriteCommand]) -> StorageWriter:
    """Submit everything at once (the drain task takes it as one batch), wait, close."""
    commits: list[int] = []
    writer = StorageWriter(engine, spool, on_commit=lambda count, _s: commits.append(count))
    await writer.start()
    for command in commands:
        writer.submit(command)
    await writer.wait_drained()
    await writer.close()
    assert sum(commits) + len(rejected(spool)) == len(commands)
    assert writer.stats.transactions == len(commits)
    return writer


def rejected(spool: Spool) -> list[str]:
    return spool.rejected_path.read_text().splitlines() if spool.rejected_path.exists() else []


async def count(engine: AsyncEngine, model: type[Call] | type[CallEvent]) -> int:
    async with session_factory(engine)() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.asyncio
async def test_a_batch_is_one_transaction(engine: AsyncEngine, tmp_path: Path) -> None:
    writer = await run(engine, Spool(tmp_path / "spool"), arrivals())
    assert writer.stats.transactions == 1
    assert writer.stats.applied == CALLS
    assert await count(engine, Call) == CALLS


@pytest.mark.asyncio
async def test_a_refused_command_in_a_batch_is_set_aside_alone(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    commands = arrivals()
    orphan = AppendCallEvent(
        idempotency_key="x:ev:1", call_id="no-such-call", seq=1, at=s(0), kind="arrived"
    )
    missing = UpsertCall(idempotency_key="y:1", call_id="never-arrived", values={"queue": "q"})
    commands[20:20] = [orphan]
    commands[45:45] = [missing]  # an update of a call that has no row: nothing to update
    spool = Spool(tmp_path / "spool")
    writer = await run(engine, spool, commands)
    refused = rejected(spool)
    assert len(refused) == 2
    assert "no-such-call" in refused[0]
    assert "never-arrived" in refused[1]
    assert all("IntegrityError" in line for line in refused)
    assert await count(engine, Call) == CALLS
    assert await count(engine, CallEvent) == 0
    # Halving finds each refused command in a few commits, not one commit per command.
    assert writer.stats.transactions < CALLS // 2


@pytest.mark.asyncio
async def test_the_timeline_is_written_with_the_row_and_replaced_by_a_later_one(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    first = (TimelineStep(seq=1, at=s(0), kind="arrived"),)
    final = (
        *first,
        TimelineStep(seq=2, at=s(4), kind="offered", agent_id="a1", data={"ring": 1}),
        TimelineStep(seq=3, at=s(9), kind="ended"),
    )
    row = {"arrived_at": s(0), "queue": "orders"}
    commands: list[WriteCommand] = [
        UpsertCall(idempotency_key="c1:1", call_id="c1", values=row, timeline=first),
        UpsertCall(idempotency_key="c1:2", call_id="c1", values={**row, "answered_at": s(5)}),
    ]
    await run(engine, Spool(tmp_path / "spool"), commands)
    async with session_factory(engine)() as session:
        stored = await session.scalar(select(Call.timeline).where(Call.id == "c1"))
    assert decode_timeline(stored) == list(first)  # an update without a timeline keeps it

    ending = UpsertCall(idempotency_key="c1:3", call_id="c1", values=row, timeline=final)
    await run(engine, Spool(tmp_path / "spool"), [ending])
    async with session_factory(engine)() as session:
        call = await session.get(Call, "c1")
    assert call is not None
    assert decode_timeline(call.timeline) == list(final)
    assert (call.answered_at, call.queue) == (s(5), "orders")


@pytest.mark.asyncio
async def test_agent_changes_of_many_agents_in_one_batch(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    def change(agent: int, n: int, state: str) -> AppendAgentState:
        return AppendAgentState(
            idempotency_key=f"a{agent}:{n}", agent_id=f"a{agent}", state=state, reason=None, at=s(n)
        )

    agents = range(30)
    await run(engine, Spool(tmp_path / "spool"), [change(a, 0, "ready") for a in agents])
    # One batch: each agent's ready interval is closed, a ringing one opened and closed, and
    # an on_call one opened; all agents in one UPDATE and one INSERT.
    second = [change(a, n, st) for n, st in ((1, "ringing"), (2, "on_call")) for a in agents]
    writer = await run(engine, Spool(tmp_path / "spool"), second)
    assert writer.stats.transactions == 1
    async with session_factory(engine)() as session:
        rows = (
            await session.execute(
                select(AgentStateLog.state, AgentStateLog.started_at, AgentStateLog.ended_at)
                .where(AgentStateLog.agent_id == "a7")
                .order_by(AgentStateLog.started_at)
            )
        ).all()
        open_count = await session.scalar(
            select(func.count()).where(AgentStateLog.ended_at.is_(None))
        )
    assert [tuple(r) for r in rows] == [
        ("ready", s(0), s(1)),
        ("ringing", s(1), s(2)),
        ("on_call", s(2), None),
    ]
    assert open_count == len(agents)
