"""Concurrent read-modify-write transactions on SQLite: our engine keeps every increment.

Each task reads a counter, yields to the event loop (as real code does between awaits), then
writes the value + 1 in the same transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.storage.engine import create_engine

TASKS = 8


def _make_counter(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
        conn.execute("INSERT INTO counter VALUES (1, 0)")


async def _increment(engine: AsyncEngine, between: asyncio.Barrier | None) -> None:
    async with engine.begin() as conn:
        value = (await conn.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one()
        if between is not None:
            await between.wait()
        for _ in range(3):
            await asyncio.sleep(0)
        await conn.execute(text("UPDATE counter SET value = :v WHERE id = 1"), {"v": value + 1})


async def _final(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value: int = (await conn.execute(text("SELECT value FROM counter"))).scalar_one()
        return value


@pytest.mark.asyncio
async def test_our_engine_keeps_every_increment(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    _make_counter(db)
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        await asyncio.gather(*(_increment(engine, None) for _ in range(TASKS)))
        assert await _final(engine) == TASKS
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_naive_aiosqlite_loses_updates(tmp_path: Path) -> None:
    """With the driver's lazy deferred BEGIN, the SELECTs run outside any transaction, so all
    tasks can read the same value; the barrier makes that interleaving certain. The engine
    above cannot be tested with the barrier: BEGIN IMMEDIATE never lets two tasks past the
    read at once (the barrier would wait forever), which is the point."""
    db = tmp_path / "c.db"
    _make_counter(db)
    engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
    try:
        barrier = asyncio.Barrier(TASKS)
        results = await asyncio.gather(
            *(_increment(engine, barrier) for _ in range(TASKS)), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert all(isinstance(e, OperationalError) for e in errors), errors
        # Either some increments vanished, or transactions failed with "database is locked".
        assert await _final(engine) < TASKS
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_read_only_engine_reads_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    _make_counter(db)
    writer = create_engine(f"sqlite+aiosqlite:///{db}")
    reader = create_engine(f"sqlite+aiosqlite:///{db}", read_only=True)
    try:
        async with writer.begin() as conn:  # BEGIN IMMEDIATE: the write lock is held
            await conn.execute(text("UPDATE counter SET value = 5"))
            # Not blocked for busy_timeout: the read-only engine takes no write lock (WAL).
            assert await _final(reader) == 0
        assert await _final(reader) == 5
        async with reader.connect() as conn:
            with pytest.raises(OperationalError, match="readonly"):
                await conn.execute(text("UPDATE counter SET value = 6"))
    finally:
        await writer.dispose()
        await reader.dispose()
