"""Call-back slots are counted from the database (whoever booked them, before a restart too),
plus this daemon's bookings the writer has not stored yet; that memory stays small."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.daemon.call_events import utc
from acd.daemon.callback_book import CallbackBook, CallbackHours, booked_in_table
from acd.storage.apply import apply_command
from acd.storage.commands import InsertCallback, UpsertCall
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import ensure_schema

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp()  # a Monday, 10:00 UTC
SLOT = 900.0
HOURS = CallbackHours(hours=(9, 20), slot_capacity=2, timezone="UTC")


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
    await ensure_schema(engine)
    yield engine
    await engine.dispose()


async def store(engine: AsyncEngine, callback_id: str, due_at: float) -> None:
    """A pending call-back row, as the writer stores the daemon's (or another's) booking."""
    call = UpsertCall(
        idempotency_key=f"{callback_id}:row", call_id=callback_id, values={"arrived_at": utc(NOW)}
    )
    booking = InsertCallback(
        idempotency_key=f"{callback_id}:cb",
        callback_id=callback_id,
        call_id=callback_id,
        number="5550100",
        queue="orders",
        requested_at=utc(NOW),
        due_at=utc(due_at),
    )
    async with session_factory(engine).begin() as session:
        for command in (call, booking):
            await apply_command(session, command, datetime.now(UTC))


@pytest.mark.asyncio
async def test_slots_booked_before_a_restart_are_full(engine: AsyncEngine) -> None:
    wanted = NOW + 300.0  # the caller would reach the head of the queue in 5 minutes
    for n in range(2):  # the slot 10:00-10:15 is full (capacity 2), booked by an earlier run
        await store(engine, f"earlier-{n}", NOW + 60.0 * (n + 1))
    book = CallbackBook(booked_in_table(session_factory(engine)), HOURS)
    slot = await book.book(NOW, wanted - NOW)
    assert slot is not None
    assert slot.due_at == NOW + SLOT  # the next slot, 10:15


@pytest.mark.asyncio
async def test_bookings_not_stored_yet_count_until_the_table_has_them(engine: AsyncEngine) -> None:
    book = CallbackBook(booked_in_table(session_factory(engine)), HOURS)
    first = await book.book(NOW, 60.0)
    second = await book.book(NOW, 60.0)
    third = await book.book(NOW, 60.0)  # the first slot has two already: not yet in the table
    assert first is not None
    assert second is not None
    assert third is not None
    assert (first.due_at, second.due_at, third.due_at) == (NOW + 60.0, NOW + 60.0, NOW + SLOT)
    assert book.unconfirmed == 3
    for slot in (first, second, third):  # the writer stores them
        await store(engine, slot.callback_id, slot.due_at)
    fourth = await book.book(NOW, 60.0)
    assert fourth is not None
    assert fourth.due_at == NOW + SLOT  # counted once each, from the table now
    assert book.unconfirmed == 1  # only the newest is still from memory


@pytest.mark.asyncio
async def test_an_unreadable_table_still_counts_this_daemons_bookings() -> None:
    async def unreachable(start: float, end: float) -> list[tuple[str, float]]:
        raise OperationalError("select", {}, ConnectionRefusedError("database down"))

    book = CallbackBook(unreachable, HOURS)
    dues = []
    for _ in range(3):
        slot = await book.book(NOW, 60.0)
        assert slot is not None
        dues.append(slot.due_at)
    assert dues == [NOW + 60.0, NOW + 60.0, NOW + SLOT]


@pytest.mark.asyncio
async def test_no_estimate_means_no_call_back_can_be_promised(engine: AsyncEngine) -> None:
    book = CallbackBook(booked_in_table(session_factory(engine)), HOURS)
    assert await book.book(NOW, None) is None
    assert book.unconfirmed == 0
