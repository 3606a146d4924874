"""The writer's transactions run in a thread of their own (``acd.storage.db_thread``): off the
event loop, in submit order, exactly once across a cut in that thread, and no thread is left
behind at a stop, a crash or a cancellation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage import committer
from acd.storage.commands import WriteCommand
from acd.storage.db_thread import DbThread
from acd.storage.engine import create_engine
from acd.storage.migrate import upgrade
from acd.storage.spool import Spool
from acd.storage.writer import StorageWriter
from tests.storage.test_writer import STORY_COUNTS, call_story, check_story, counts

THREAD_NAME = "storage-writer-db"


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    await upgrade(engine)
    yield engine
    await engine.dispose()


Apply = Callable[[Any, list[WriteCommand], datetime], Awaitable[int]]


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


async def joined(threads: list[threading.Thread]) -> bool:
    """Whether every one of ``threads`` ends (a hang guard, not a timing assert)."""
    for thread in threads:
        await asyncio.to_thread(thread.join, 30)
    return not any(t.is_alive() for t in threads)


class Cut:
    """Wraps ``apply_batch``: records the thread and the commands of every transaction, and
    fails the transactions while ``down`` (after their statements ran: rolled back)."""

    def __init__(self, real: Apply) -> None:
        self.real = real
        self.down = False
        self.threads: set[int] = set()
        self.applied: list[str] = []

    async def __call__(self, db: Any, commands: list[WriteCommand], now: datetime) -> int:
        self.threads.add(threading.get_ident())
        skipped = await self.real(db, commands, now)
        if self.down:
            raise sa_exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))
        self.applied += [c.idempotency_key for c in commands]
        return skipped


class Gate:
    """Wraps ``apply_batch``: the first transaction waits in the storage thread until
    ``release`` is set (so the test can stop or cancel the writer while it is in flight)."""

    def __init__(self, real: Apply) -> None:
        self.real = real
        self.entered = threading.Event()
        self.release = threading.Event()

    async def __call__(self, db: Any, commands: list[WriteCommand], now: datetime) -> int:
        if not self.entered.is_set():
            self.entered.set()
            await asyncio.to_thread(self.release.wait, 30)
        return await self.real(db, commands, now)


@pytest.mark.asyncio
async def test_transactions_run_in_the_storage_thread_and_are_counted_on_the_loop(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = Cut(committer.apply_batch)
    monkeypatch.setattr(committer, "apply_batch", cut)
    commit_threads: set[int] = set()
    writer = StorageWriter(
        engine,
        Spool(tmp_path / "spool"),
        on_commit=lambda _n, _s: commit_threads.add(threading.get_ident()),
    )
    await writer.start()
    assert len(writer_threads()) == 1
    for command in call_story():
        writer.submit(command)
    await writer.wait_drained()
    await writer.close()
    assert cut.threads
    assert threading.get_ident() not in cut.threads
    assert commit_threads == {threading.get_ident()}  # the hook runs on the writer's loop
    assert cut.applied == [c.idempotency_key for c in call_story()]
    assert writer.stats.applied == len(call_story())
    await check_story(engine)
    assert writer_threads() == []


@pytest.mark.asyncio
async def test_a_cut_in_the_storage_thread_spools_in_order_and_replays_exactly_once(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = Cut(committer.apply_batch)
    monkeypatch.setattr(committer, "apply_batch", cut)
    outages: list[bool] = []
    spooling = asyncio.Event()

    def on_outage(down: bool) -> None:
        outages.append(down)
        if down:
            spooling.set()

    spool = Spool(tmp_path / "spool")
    writer = StorageWriter(engine, spool, retry_initial_s=3600.0, on_outage=on_outage)
    await writer.start()
    story = call_story()
    for command in story[:3]:
        writer.submit(command)
    await writer.wait_drained()
    cut.down = True
    for command in story[3:6]:
        writer.submit(command)
    async with asyncio.timeout(30):  # hang guard
        await spooling.wait()
    for command in story[6:]:  # behind the spool: must not overtake it
        writer.submit(command)
    cut.down = False
    writer.retry_now()  # instead of waiting out the backoff
    await writer.wait_drained()
    await writer.close()
    assert outages == [True, False]
    assert cut.applied == [c.idempotency_key for c in story]  # submit order, each once
    assert await counts(engine) == STORY_COUNTS
    await check_story(engine)
    assert not spool.has_entries()
    assert writer_threads() == []


@pytest.mark.asyncio
async def test_close_waits_for_the_transaction_in_flight_then_writes_the_rest(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(committer.apply_batch)
    monkeypatch.setattr(committer, "apply_batch", gate)
    spool = Spool(tmp_path / "spool")
    writer = StorageWriter(engine, spool)
    await writer.start()
    story = call_story()
    writer.submit(story[0])
    await asyncio.to_thread(gate.entered.wait, 30)  # the first transaction is in the thread
    for command in story[1:]:
        writer.submit(command)
    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0)  # close() has begun: no new write is taken
    with pytest.raises(RuntimeError, match="not running"):
        writer.submit(story[0])
    gate.release.set()
    await closing
    await check_story(engine)
    assert not spool.has_entries()
    assert writer_threads() == []


@pytest.mark.asyncio
async def test_a_cancelled_writer_spools_the_transaction_in_flight_and_its_thread_ends(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncio.run() cancelling the writer at exit while a transaction runs in the thread:
    that batch (committed or not: replay is idempotent) and the queue go to the spool."""
    gate = Gate(committer.apply_batch)
    monkeypatch.setattr(committer, "apply_batch", gate)
    spool = Spool(tmp_path / "spool")
    writer = StorageWriter(engine, spool)
    await writer.start()
    threads = writer_threads()
    story = call_story()
    writer.submit(story[0])
    await asyncio.to_thread(gate.entered.wait, 30)
    for command in story[1:]:
        writer.submit(command)
    task = writer._task
    assert task is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.release.set()  # the blocked helper thread may end; the transaction was cancelled
    assert list(spool.load().commands) == story
    assert await joined(threads)
    restarted = StorageWriter(engine, spool)
    await restarted.start()
    await restarted.wait_drained()
    await restarted.close()
    await check_story(engine)
    assert await counts(engine) == STORY_COUNTS
    assert writer_threads() == []


@pytest.mark.asyncio
async def test_the_storage_thread_refuses_work_once_stopped(tmp_path: Path) -> None:
    thread = DbThread(make_url(f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    await thread.start()
    assert await thread.run(_dialect) == "sqlite"
    await thread.stop()
    assert not thread.alive
    with pytest.raises(RuntimeError, match="not running"):
        await thread.run(_dialect)


async def _dialect(db: AsyncEngine) -> str:
    return db.dialect.name
