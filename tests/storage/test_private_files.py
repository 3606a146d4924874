"""Caller data at rest is readable by its owner only: the SQLite database (and its WAL files)
and the write spool, whatever the process umask."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from acd.storage.commands import UpsertCustomer
from acd.storage.engine import create_engine
from acd.storage.migrate import ensure_schema
from acd.storage.spool import Spool


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # a typical service umask: files 0644 unless made private
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.usefixtures("open_umask")
def test_sqlite_database_and_wal_files_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / "hotline.db"
    path.parent.mkdir()

    async def use() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await ensure_schema(engine)
            async with engine.begin() as conn:
                await conn.exec_driver_sql(
                    "INSERT OR IGNORE INTO customers (number) VALUES ('5550100')"
                )
            for name in ("hotline.db", "hotline.db-wal", "hotline.db-shm"):
                assert _mode(path.with_name(name)) == 0o600, name
        finally:
            await engine.dispose()

    asyncio.run(use())
    path.chmod(0o644)  # a file made by an older version is tightened at the next start
    asyncio.run(use())
    assert _mode(path) == 0o600


@pytest.mark.usefixtures("open_umask")
def test_spool_directory_and_files_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    spool = Spool(directory)
    command = UpsertCustomer(idempotency_key="k1", number="5550100", values={"name": "Li"})
    spool.append([command])
    spool.reject("{}", "bad")
    assert _mode(directory) == 0o700
    assert _mode(spool.path) == 0o600
    assert _mode(spool.rejected_path) == 0o600
    spool.replace([command])
    assert _mode(spool.path) == 0o600
    spool.clear()
    assert _mode(spool.path) == 0o600
    spool.path.chmod(0o644)  # left by an older version
    directory.chmod(0o755)
    Spool(directory)
    assert _mode(spool.path) == 0o600
    assert _mode(directory) == 0o700
