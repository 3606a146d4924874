"""A PostgreSQL outage in the middle of a call: writes spool, then arrive exactly once.

The scratch database is made unavailable for real: ``ALLOW_CONNECTIONS false`` plus
terminating its backends, so the writer's pooled connections die and new ones are refused.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.storage.commands import AppendAgentState, AppendCallEvent, UpsertCall, WriteCommand
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import AgentStateLog, AppliedWrite, Call, CallEvent
from acd.storage.spool import Spool
from acd.storage.writer import StorageWriter
from tests.storage.conftest import ScratchDatabase

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EVENTS_BEFORE = 5
EVENTS_DURING = 40


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ring(seq: int) -> AppendCallEvent:
    return AppendCallEvent(
        idempotency_key=f"c1:ev:{seq}", call_id="c1", seq=seq, at=s(seq), kind="ringing"
    )


def state(n: int, name: str) -> AppendAgentState:
    return AppendAgentState(
        idempotency_key=f"a1:{n}", agent_id="a1", state=name, reason=None, at=s(n)
    )


@pytest.mark.asyncio
async def test_outage_spools_and_every_row_arrives_exactly_once(
    pg_db: ScratchDatabase, tmp_path: Path
) -> None:
    engine = create_engine(pg_db.url)
    await upgrade(engine)
    outage = asyncio.Event()
    transitions: list[bool] = []

    def on_outage(down: bool) -> None:
        transitions.append(down)
        if down:
            outage.set()

    spool = Spool(tmp_path / "spool")
    writer = StorageWriter(
        engine, spool, retry_initial_s=0.05, retry_max_s=0.2, on_outage=on_outage
    )
    await writer.start()
    try:
        async with asyncio.timeout(60):  # a hang guard only; nothing below waits on time
            writer.submit(
                UpsertCall(idempotency_key="c1:0", call_id="c1", values={"arrived_at": s(0)})
            )
            for seq in range(1, EVENTS_BEFORE + 1):
                writer.submit(ring(seq))
            writer.submit(state(1, "ready"))
            await writer.wait_drained()

            await pg_db.set_available(False)
            during: list[WriteCommand] = [state(2, "on_call")]
            during += [
                ring(seq) for seq in range(EVENTS_BEFORE + 1, EVENTS_BEFORE + EVENTS_DURING + 1)
            ]
            during += [
                state(3, "wrap_up"),
                UpsertCall(
                    idempotency_key="c1:end",
                    call_id="c1",
                    values={"ended_at": s(99), "outcome": "answered"},
                ),
            ]
            for command in during:
                await writer.write(command)
            await outage.wait()
            assert writer.spooling
            assert spool.has_entries()

            await pg_db.set_available(True)
            writer.retry_now()
            await writer.wait_drained()
    finally:
        await writer.close()

    assert transitions == [True, False]
    assert not spool.has_entries()
    assert not spool.rejected_path.exists()
    async with session_factory(engine)() as session:
        seqs = (await session.scalars(select(CallEvent.seq).order_by(CallEvent.seq))).all()
        assert seqs == list(range(1, EVENTS_BEFORE + EVENTS_DURING + 1))
        call = await session.get(Call, "c1")
        assert call is not None
        assert (call.arrived_at, call.ended_at, call.outcome) == (s(0), s(99), "answered")
        states = (
            await session.execute(
                select(
                    AgentStateLog.state, AgentStateLog.started_at, AgentStateLog.ended_at
                ).order_by(AgentStateLog.id)
            )
        ).all()
        assert [tuple(r) for r in states] == [
            ("ready", s(1), s(2)),
            ("on_call", s(2), s(3)),
            ("wrap_up", s(3), None),
        ]
        # Exactly once by natural keys: no claim rows; each interval holds its change's key.
        assert (await session.scalars(select(AppliedWrite.key))).all() == []
        change_keys = await session.scalars(
            select(AgentStateLog.change_key).order_by(AgentStateLog.id)
        )
        assert change_keys.all() == ["a1:1", "a1:2", "a1:3"]
    await engine.dispose()


@pytest.mark.asyncio
async def test_writes_spooled_at_shutdown_reach_the_database_after_restart(
    pg_db: ScratchDatabase, tmp_path: Path
) -> None:
    engine = create_engine(pg_db.url)
    await upgrade(engine)
    await pg_db.set_available(False)
    commands: list[WriteCommand] = [
        UpsertCall(idempotency_key="c1:0", call_id="c1", values={"arrived_at": s(0)}),
        *(ring(seq) for seq in range(1, 11)),
    ]
    first = StorageWriter(engine, Spool(tmp_path / "spool"), retry_initial_s=30.0)
    await first.start()
    async with asyncio.timeout(60):
        for command in commands:
            await first.write(command)
        await first.close()  # the database is still down: everything stays in the spool
    assert len(Spool(tmp_path / "spool").load().commands) == len(commands)

    await pg_db.set_available(True)
    second = StorageWriter(engine, Spool(tmp_path / "spool"))
    await second.start()
    async with asyncio.timeout(60):
        await second.wait_drained()
    await second.close()
    async with session_factory(engine)() as session:
        seqs = (await session.scalars(select(CallEvent.seq).order_by(CallEvent.seq))).all()
    assert seqs == list(range(1, 11))
    assert not Spool(tmp_path / "spool").has_entries()
    await engine.dispose()
