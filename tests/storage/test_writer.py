"""StorageWriter on SQLite: applies in order, exactly once per key, rejects bad writes aside,
and a spool left on disk by an earlier run is replayed by a new writer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.apply import apply_command, prune_applied_writes
from acd.storage.commands import (
    AppendAgentState,
    AppendAudit,
    AppendCallEvent,
    InsertRecording,
    UpsertAgent,
    UpsertCall,
    UpsertCustomer,
    WriteCommand,
)
from acd.storage.committer import TRANSACTION_SIZE
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import (
    Agent,
    AgentStateLog,
    AuditLog,
    Call,
    CallEvent,
    Customer,
    Recording,
)
from acd.storage.spool import Spool
from acd.storage.writer import StorageWriter, pace_wait, retry_delay

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call_story(call_id: str = "c1") -> list[WriteCommand]:
    """One answered call with its timeline, agent states, a recording and an audit entry."""
    return [
        UpsertAgent(idempotency_key="agent:a1", agent_id="a1", name="Ann", endpoint="PJSIP/1001"),
        UpsertCall(
            idempotency_key=f"{call_id}:arrived",
            call_id=call_id,
            values={"arrived_at": s(0), "caller_number": "+4930123", "queue": "orders"},
        ),
        AppendCallEvent(
            idempotency_key=f"{call_id}:ev:1", call_id=call_id, seq=1, at=s(0), kind="arrived"
        ),
        AppendAgentState(
            idempotency_key="a1:1", agent_id="a1", state="ready", reason=None, at=s(0)
        ),
        AppendCallEvent(
            idempotency_key=f"{call_id}:ev:2",
            call_id=call_id,
            seq=2,
            at=s(5),
            kind="offered",
            agent_id="a1",
        ),
        AppendAgentState(
            idempotency_key="a1:2", agent_id="a1", state="on_call", reason=None, at=s(9)
        ),
        UpsertCall(
            idempotency_key=f"{call_id}:answered",
            call_id=call_id,
            values={"answered_at": s(9), "agent_id": "a1", "outcome": "answered"},
        ),
        InsertRecording(
            idempotency_key=f"rec:{call_id}",
            recording_id=f"r-{call_id}",
            call_id=call_id,
            agent_id="a1",
            queue="orders",
            started_at=s(9),
            path=f"/rec/{call_id}.wav",
        ),
        AppendAgentState(
            idempotency_key="a1:3", agent_id="a1", state="wrap_up", reason=None, at=s(70)
        ),
        UpsertCall(idempotency_key=f"{call_id}:ended", call_id=call_id, values={"ended_at": s(70)}),
        UpsertCustomer(
            idempotency_key=f"cust:{call_id}", number="+4930123", values={"last_agent_id": "a1"}
        ),
        AppendAudit(
            idempotency_key=f"audit:{call_id}",
            who="sup1",
            role="supervisor",
            action="listen",
            at=s(20),
        ),
    ]


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with session_factory(engine)() as session:
        out: dict[str, int] = {}
        for model in (Agent, Call, CallEvent, AgentStateLog, Recording, Customer, AuditLog):
            out[model.__tablename__] = (
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
        return out


STORY_COUNTS = {
    "agents": 1,
    "calls": 1,
    "call_events": 2,
    "agent_state_log": 3,
    "recordings": 1,
    "customers": 1,
    "audit_log": 1,
}


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def check_story(engine: AsyncEngine) -> None:
    assert await counts(engine) == STORY_COUNTS
    async with session_factory(engine)() as session:
        call = await session.get(Call, "c1")
        assert call is not None
        assert (call.arrived_at, call.answered_at, call.ended_at) == (s(0), s(9), s(70))
        assert (call.agent_id, call.outcome, call.queue) == ("a1", "answered", "orders")
        states = (
            await session.execute(
                select(AgentStateLog.state, AgentStateLog.ended_at).order_by(
                    AgentStateLog.started_at
                )
            )
        ).all()
        assert [tuple(r) for r in states] == [
            ("ready", s(9)),
            ("on_call", s(70)),
            ("wrap_up", None),
        ]


@pytest.mark.asyncio
async def test_writer_applies_commands_in_order(engine: AsyncEngine, tmp_path: Path) -> None:
    writer = StorageWriter(engine, Spool(tmp_path / "spool"))
    await writer.start()
    for command in call_story():
        writer.submit(command)
    await writer.wait_drained()
    await writer.close()
    await check_story(engine)
    assert not Spool(tmp_path / "spool").has_entries()


@pytest.mark.asyncio
async def test_applying_every_command_twice_changes_nothing(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    story = call_story()
    applied = []
    for command in story + story:
        async with sessions.begin() as session:
            applied.append(await apply_command(session, command, s(100)))
    # Upserts are applied again (same values); everything that adds a row recognises itself.
    adds_a_row = (AppendCallEvent, AppendAgentState, InsertRecording, AppendAudit)
    assert applied[len(story) :] == [not isinstance(c, adds_a_row) for c in story]
    await check_story(engine)
    async with sessions.begin() as session:
        # Only the audit entry (no natural key) claimed its key in applied_writes.
        assert await prune_applied_writes(session, before=s(100)) == 0
        assert await prune_applied_writes(session, before=s(101)) == 1


@pytest.mark.asyncio
async def test_spool_left_by_a_previous_run_is_replayed_on_start(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    story = call_story()
    # The previous run applied the first half, then spooled everything from the 4th command on
    # (the 4th..6th may or may not have been committed: the ambiguous outage case).
    sessions = session_factory(engine)
    for command in story[:6]:
        async with sessions.begin() as session:
            await apply_command(session, command, s(100))
    Spool(tmp_path / "spool").append(story[3:])
    outages: list[bool] = []
    writer = StorageWriter(engine, Spool(tmp_path / "spool"), on_outage=outages.append)
    await writer.start()
    await writer.wait_drained()
    await writer.close()
    await check_story(engine)
    assert outages == [True, False]
    assert not Spool(tmp_path / "spool").has_entries()


@pytest.mark.asyncio
async def test_refused_write_is_set_aside_and_later_writes_go_on(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool")
    writer = StorageWriter(engine, spool)
    await writer.start()
    orphan = AppendCallEvent(
        idempotency_key="x:ev:1", call_id="no-such-call", seq=1, at=s(0), kind="arrived"
    )
    writer.submit(orphan)  # foreign key violation: a bug, retrying cannot help
    for command in call_story():
        writer.submit(command)
    await writer.wait_drained()
    await writer.close()
    await check_story(engine)
    rejected = spool.rejected_path.read_text().splitlines()
    assert len(rejected) == 1
    assert "no-such-call" in rejected[0]
    assert "IntegrityError" in rejected[0]


@pytest.mark.asyncio
async def test_bad_commands_are_refused_at_submit(engine: AsyncEngine, tmp_path: Path) -> None:
    writer = StorageWriter(engine, Spool(tmp_path / "spool"), max_queue=1)
    with pytest.raises(RuntimeError, match="not running"):
        writer.submit(call_story()[0])
    await writer.start()
    with pytest.raises(ValueError, match="unknown calls columns"):
        writer.submit(UpsertCall(idempotency_key="k", call_id="c", values={"colour": "red"}))
    with pytest.raises(ValueError, match="naive"):
        writer.submit(
            AppendAudit(idempotency_key="k", who="w", role="r", action="a", at=datetime(2026, 1, 1))
        )
    with pytest.raises(ValueError, match="idempotency_key"):
        writer.submit(UpsertAgent(idempotency_key="", agent_id="a", name="n", endpoint="e"))
    writer.submit(call_story()[0])
    await writer.close()
    with pytest.raises(RuntimeError, match="not running"):
        writer.submit(call_story()[0])
    assert await counts(engine) == {**dict.fromkeys(STORY_COUNTS, 0), "agents": 1}


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 0.5, 5.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert retry_delay(10_000, 0.5, 30.0) == 30.0


@pytest.mark.asyncio
async def test_cancelled_writer_spools_what_it_held_in_memory(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """asyncio.run() cancels leftover tasks at exit; queued writes must survive that too."""
    writer = StorageWriter(engine, Spool(tmp_path / "spool"))
    await writer.start()
    story = call_story()
    for command in story:
        writer.submit(command)
    task = writer._task  # what the event loop's shutdown would cancel
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(Spool(tmp_path / "spool").load().commands) == story
    restarted = StorageWriter(engine, Spool(tmp_path / "spool"))
    await restarted.start()
    await restarted.wait_drained()
    await restarted.close()
    await check_story(engine)


@pytest.mark.asyncio
async def test_a_backlog_beyond_max_queue_goes_to_the_spool_and_nothing_is_lost(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """A floor that writes faster than the database: the writer never refuses a write; the
    backlog is spooled in order and replayed, and every row arrives exactly once."""
    writer = StorageWriter(engine, Spool(tmp_path / "spool"), max_queue=3)
    await writer.start()
    story = call_story()
    for command in story:  # submitted in one go: the drain task sees them as one batch
        writer.submit(command)
    assert len(story) > 3
    await writer.wait_drained()
    assert writer.spilled == len(story)
    assert not writer.spooling
    await writer.close()
    assert await counts(engine) == STORY_COUNTS


def test_batches_start_at_most_every_interval_unless_a_full_one_waits() -> None:
    assert pace_wait(last_start=10.0, interval_s=0.05, now=10.01, queued=5) == pytest.approx(0.04)
    assert pace_wait(last_start=10.0, interval_s=0.05, now=10.2, queued=5) == 0.0
    assert pace_wait(float("-inf"), 0.05, now=0.0, queued=1) == 0.0  # the first write
    assert pace_wait(10.0, 0.05, now=10.01, queued=TRANSACTION_SIZE) == 0.0


@pytest.mark.asyncio
async def test_writes_arriving_while_the_writer_paces_share_one_commit(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """Group commit: after a commit, writes submitted over several event-loop turns (no
    wall-clock sleeps here) go in together; without pacing the first would commit alone."""
    commits: list[int] = []
    writer = StorageWriter(
        engine,
        Spool(tmp_path / "spool"),
        commit_interval_s=2.0,  # far longer than one small commit takes, even under load
        on_commit=lambda count, _s: commits.append(count),
    )
    await writer.start()
    story = call_story()
    writer.submit(story[0])
    await writer.wait_drained()  # the first write after a quiet spell: committed at once
    for command in story[1:]:
        writer.submit(command)
        for _ in range(3):
            await asyncio.sleep(0)  # the drain task runs between these submits
    await writer.wait_drained()
    await writer.close()
    assert commits == [1, len(story) - 1]
    await check_story(engine)


@pytest.mark.asyncio
async def test_the_first_write_after_a_quiet_spell_waits_for_the_rest_of_its_burst(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    """The transaction's work runs on the event loop: after a quiet spell the first write
    settles before it starts, so the caller's steps right behind it (and their writes) go
    first and share the commit. With no settling the first write would commit alone."""
    commits: list[int] = []
    writer = StorageWriter(
        engine,
        Spool(tmp_path / "spool"),
        settle_s=2.0,  # far longer than these event-loop turns take, even under load
        on_commit=lambda count, _s: commits.append(count),
    )
    await writer.start()
    for _ in range(3):
        await asyncio.sleep(0)  # the drain task is up and waiting: a quiet spell
    story = call_story()
    for command in story:
        writer.submit(command)
        for _ in range(3):
            await asyncio.sleep(0)  # the drain task runs between these submits
    assert commits == []  # still settling
    await writer.close()  # does not wait for the settling to end
    assert commits == [len(story)]
    await check_story(engine)


@pytest.mark.asyncio
async def test_a_writer_cancelled_while_the_first_write_settles_spools_it(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    writer = StorageWriter(engine, Spool(tmp_path / "spool"), settle_s=30.0)
    await writer.start()
    for _ in range(3):
        await asyncio.sleep(0)  # the drain task is up and waiting: a quiet spell
    story = call_story()
    writer.submit(story[0])
    for _ in range(3):
        await asyncio.sleep(0)  # taken off the queue: settling
    assert writer.backlog == 1
    task = writer._task
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(Spool(tmp_path / "spool").load().commands) == story[:1]


@pytest.mark.asyncio
async def test_wait_replayed_returns_once_a_previous_runs_spool_is_in_the_database(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # What the next term's readers (call reconcile, fallback import) wait for: before it, a
    # call the previous term answered would read as never answered.
    Spool(tmp_path / "spool").append(call_story())
    writer = StorageWriter(engine, Spool(tmp_path / "spool"))
    await writer.start()
    await writer.wait_replayed()
    await check_story(engine)
    assert not writer.spooling
    await writer.close()
    fresh = StorageWriter(engine, Spool(tmp_path / "spool-2"))
    await fresh.start()  # no spool: nothing to wait for
    await fresh.wait_replayed()
    await fresh.close()
