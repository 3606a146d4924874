"""The writer keeps ``applied_writes`` bounded: old idempotency keys are pruned, recent ones (a
replay could still bring their commands back) are kept, and nothing is pruned while spooling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.commands import AppendAudit, UpsertCall, WriteCommand
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import AppliedWrite, AuditLog
from acd.storage.spool import Spool
from acd.storage.writer import StorageWriter

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
# Commands one short call writes here: its row (idempotent by its id, no key claimed) and audit
# entries, which have no natural key and claim theirs in applied_writes.
PER_CALL = 8
KEYS_PER_CALL = PER_CALL - 1
CALL_EVERY_S = 10.0
KEEP_S, PRUNE_EVERY_S = 120.0, 30.0


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    await upgrade(engine)
    yield engine
    await engine.dispose()


def one_call(n: int, at: datetime) -> list[WriteCommand]:
    call_id = f"c{n}"
    row = UpsertCall(idempotency_key=f"{call_id}:row:0", call_id=call_id, values={"arrived_at": at})
    audits = [
        AppendAudit(
            idempotency_key=f"{call_id}:au:{seq}",
            who="sup",
            role="supervisor",
            action="listen",
            target=call_id,
            at=at,
        )
        for seq in range(1, PER_CALL)
    ]
    return [row, *audits]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def scalar(engine: AsyncEngine, model: type[AppliedWrite] | type[AuditLog]) -> int:
    async with session_factory(engine)() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.mark.asyncio
async def test_applied_keys_stay_bounded_over_many_calls(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = Clock()
    writer = StorageWriter(
        engine,
        Spool(tmp_path / "spool"),
        clock=clock,
        keep_keys_s=KEEP_S,
        prune_every_s=PRUNE_EVERY_S,
    )
    await writer.start()
    most = 0
    calls = 300
    for n in range(calls):
        for command in one_call(n, clock.now):
            writer.submit(command)
        await writer.wait_drained()
        most = max(most, await scalar(engine, AppliedWrite))
        clock.now += timedelta(seconds=CALL_EVERY_S)
    # A replay of a recent call is still a no-op: its keys were kept.
    for command in one_call(calls - 1, clock.now):
        writer.submit(command)
    await writer.wait_drained()
    await writer.close()
    # keys of the last KEEP_S + PRUNE_EVERY_S seconds at most, whatever the number of calls
    bound = KEYS_PER_CALL * ((KEEP_S + PRUNE_EVERY_S) / CALL_EVERY_S + 1)
    assert most <= bound < calls * KEYS_PER_CALL / 10
    assert writer.keys_pruned >= calls * KEYS_PER_CALL - bound
    assert await scalar(engine, AuditLog) == calls * KEYS_PER_CALL  # the data is all there


@pytest.mark.asyncio
async def test_no_key_is_pruned_while_writes_wait_in_the_spool(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = Clock()
    spool = Spool(tmp_path / "spool")
    old = one_call(1, T0)
    writer = StorageWriter(engine, spool, clock=clock, keep_keys_s=KEEP_S, prune_every_s=0.0)
    await writer.start()
    for command in old:
        writer.submit(command)
    await writer.wait_drained()
    await writer.close()
    # The same commands sit in the spool (an ambiguous commit is spooled after it was applied)
    # and time has passed beyond the window: the replay must still find their keys.
    spool.append(old)
    clock.now += timedelta(seconds=10 * KEEP_S)
    replaying = StorageWriter(engine, spool, clock=clock, keep_keys_s=KEEP_S, prune_every_s=0.0)
    await replaying.start()
    await replaying.wait_drained()
    await replaying.close()
    assert await scalar(engine, AuditLog) == KEYS_PER_CALL  # not appended twice
    assert replaying.keys_pruned == KEYS_PER_CALL  # pruned once the spool was replayed
