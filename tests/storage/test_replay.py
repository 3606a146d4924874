"""Exactly once from natural keys: a spool replayed twice, or replayed after a crash that
committed part of it, leaves the rows one pass leaves (no duplicate, no lost row), on SQLite
and PostgreSQL.

The reference is the same story written once, in order, through the writer into a fresh
SQLite file; every table's rows are compared (surrogate ids left out).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.apply import apply_batch
from acd.storage.commands import (
    AppendAgentState,
    AppendAudit,
    AppendCallEvent,
    InsertCallback,
    InsertRecording,
    InsertRecordingPause,
    UpdateCallback,
    UpsertAgent,
    UpsertCall,
    UpsertCustomer,
    WriteCommand,
)
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import Base
from acd.storage.spool import Spool
from acd.storage.timeline import TimelineStep
from acd.storage.writer import StorageWriter

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SURROGATE_IDS = {"call_events", "agent_state_log", "audit_log", "recording_pauses"}


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def state(key: str, agent: str, name: str, at: float, reason: str | None = None) -> WriteCommand:
    return AppendAgentState(
        idempotency_key=key, agent_id=agent, state=name, reason=reason, at=s(at)
    )


def new_style_call(n: int, agent: str, at: float) -> list[WriteCommand]:
    """Insert at arrival, update at answer, final update with the timeline."""
    call = f"n{n}"
    row = {"arrived_at": s(at), "queue": "orders", "caller_number": f"+49{n}"}
    answered = {**row, "answered_at": s(at + 5), "agent_id": agent, "outcome": "answered"}
    steps = (
        TimelineStep(seq=1, at=s(at), kind="arrived"),
        TimelineStep(seq=2, at=s(at + 2), kind="offered", agent_id=agent, data={"ring": 1}),
        TimelineStep(seq=3, at=s(at + 5), kind="answered", agent_id=agent),
        TimelineStep(seq=4, at=s(at + 60), kind="ended"),
    )
    return [
        UpsertCall(idempotency_key=f"{call}:row:1", call_id=call, values=row),
        UpsertCall(idempotency_key=f"{call}:row:2", call_id=call, values=answered),
        state(f"{call}:st", agent, "on_call", at + 5),
        UpsertCall(
            idempotency_key=f"{call}:row:3",
            call_id=call,
            values={**answered, "ended_at": s(at + 60), "hung_up_by": "caller"},
            timeline=steps,
        ),
    ]


def old_style_call(n: int, agent: str, at: float) -> list[WriteCommand]:
    """Partial row updates and one call_events row per step."""
    call = f"o{n}"

    def event(seq: int, kind: str, offset: float) -> WriteCommand:
        return AppendCallEvent(
            idempotency_key=f"{call}:ev:{seq}",
            call_id=call,
            seq=seq,
            at=s(at + offset),
            kind=kind,
            agent_id=agent,
            data={"seq": seq},
        )

    return [
        UpsertCall(idempotency_key=f"{call}:a", call_id=call, values={"arrived_at": s(at)}),
        event(1, "arrived", 0),
        event(2, "offered", 1),
        UpsertCall(idempotency_key=f"{call}:b", call_id=call, values={"answered_at": s(at + 3)}),
        event(3, "answered", 3),
        UpsertCall(idempotency_key=f"{call}:c", call_id=call, values={"ended_at": s(at + 30)}),
    ]


def story() -> list[WriteCommand]:
    commands: list[WriteCommand] = [
        UpsertAgent(idempotency_key="ag:a1", agent_id="a1", name="Ann", endpoint="PJSIP/1001"),
        UpsertAgent(idempotency_key="ag:a2", agent_id="a2", name="Bo", endpoint="PJSIP/1002"),
        state("a1:1", "a1", "ready", 0),
        state("a2:1", "a2", "ready", 0),
        *new_style_call(1, "a1", 10),
        *old_style_call(2, "a2", 12),
        # Three changes of a2 at one instant: zero-length intervals the keys tell apart.
        state("a2:2", "a2", "ringing", 20),
        state("a2:3", "a2", "ready", 20),
        state("a2:4", "a2", "paused", 20, reason="missed"),
        state("a1:2", "a1", "on_call", 30),
        state("a1:3", "a1", "on_call", 35),  # no change: same state and reason
        state("a1:4", "a1", "wrap_up", 80),
        InsertRecording(
            idempotency_key="rec:n1",
            recording_id="r-n1",
            call_id="n1",
            agent_id="a1",
            queue="orders",
            started_at=s(15),
            path="/rec/n1.wav",
        ),
        InsertRecordingPause(
            idempotency_key="n1:rp:1",
            call_id="n1",
            channel="PJSIP/trunk-1",
            paused_at=s(20),
            resumed_at=s(30),
            reason="card",
            requested_by="1001",
        ),
        InsertCallback(
            idempotency_key="o2:cb",
            callback_id="b1",
            call_id="o2",
            number="+492",
            queue="orders",
            requested_at=s(40),
            due_at=s(400),
        ),
        UpdateCallback(idempotency_key="b1:1", callback_id="b1", state="dialing", attempts=1),
        UpdateCallback(idempotency_key="b1:2", callback_id="b1", state="pending", due_at=s(900)),
        UpsertCustomer(idempotency_key="cu:1", number="+491", values={"vip": True}),
        UpsertCustomer(idempotency_key="cu:2", number="+491", values={"last_agent_id": "a1"}),
        AppendAudit(
            idempotency_key="au:1", who="sup", role="supervisor", action="listen", at=s(50)
        ),
        *new_style_call(3, "a2", 100),
        state("a2:5", "a2", "ready", 200),
        *old_style_call(4, "a1", 150),
    ]
    return commands


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with session_factory(engine)() as session:
        for table in Base.metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if not (table.name in SURROGATE_IDS and c.name == "id")
                and not (table.name == "applied_writes" and c.name == "applied_at")
            ]
            rows = (await session.execute(select(*columns))).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


async def written_once(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/reference.db")
    try:
        await upgrade(engine)
        writer = StorageWriter(engine, Spool(tmp_path / "reference-spool"))
        await writer.start()
        for command in story():
            writer.submit(command)
        await writer.wait_drained()
        await writer.close()
        return await snapshot(engine)
    finally:
        await engine.dispose()


async def replay(engine: AsyncEngine, spool_dir: Path) -> None:
    # keys applied at the story's (old) times must not be pruned by this run's clock: kept
    writer = StorageWriter(engine, Spool(spool_dir), keep_keys_s=1e9)
    await writer.start()
    await writer.wait_drained()
    await writer.close()
    assert not Spool(spool_dir).has_entries()
    assert not Spool(spool_dir).rejected_path.exists()


@pytest.mark.asyncio
async def test_reference_holds_every_row_once(tmp_path: Path) -> None:
    """The reference itself, checked by hand: what one pass must leave."""
    rows = await written_once(tmp_path)
    counts = {name: len(rows[name]) for name in rows}
    assert counts["calls"] == 4
    assert counts["call_events"] == 6  # the old-style calls only
    # a1: ready, on_call (n1), on_call (30: a new interval? no: same state), wrap_up
    # a2: ready, ringing, ready, paused, on_call (n3), ready
    assert counts["agent_state_log"] == 3 + 6
    assert (counts["audit_log"], counts["recording_pauses"], counts["applied_writes"]) == (1, 1, 2)
    # (agent_id, state, reason, started_at, ended_at, change_key)
    states = sorted((r[0], r[3], r[1]) for r in rows["agent_state_log"])
    assert [x for x in states if x[0] == "a2" and x[1] == s(20)] == [
        ("a2", s(20), "paused"),
        ("a2", s(20), "ready"),
        ("a2", s(20), "ringing"),
    ]


@pytest.mark.asyncio
async def test_the_same_spool_replayed_twice_leaves_the_rows_of_one_pass(
    db_url: str, tmp_path: Path
) -> None:
    reference = await written_once(tmp_path)
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        for _ in range(2):
            Spool(tmp_path / "spool").append(story())
            await replay(engine, tmp_path / "spool")
            assert await snapshot(engine) == reference
    finally:
        await engine.dispose()


@pytest.mark.asyncio
@pytest.mark.parametrize("committed", [9, 15, 16, 30])  # 15, 16: inside the same-instant run
async def test_a_crash_mid_replay_then_the_whole_spool_again(
    db_url: str, tmp_path: Path, committed: int
) -> None:
    """The first ``committed`` commands reached the database (in any number of transactions)
    before the process died; the spool still holds all of them and is replayed whole."""
    reference = await written_once(tmp_path)
    commands = story()
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        for start in range(0, committed, 4):  # as several commits, like a replay in chunks
            async with sessions.begin() as session:
                await apply_batch(session, commands[start : min(start + 4, committed)], s(999))
        Spool(tmp_path / "spool").append(commands)
        await replay(engine, tmp_path / "spool")
        assert await snapshot(engine) == reference
    finally:
        await engine.dispose()
