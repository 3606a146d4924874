"""Real databases for the storage tests: a SQLite file in tmp_path, and a scratch PostgreSQL
database created per test (unique name, dropped afterwards) so parallel runs never collide."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

# The server named in docs/CONVENTIONS.md; we connect to its "test" database only to create
# and drop our scratch databases.
PG_ADMIN_DSN = os.environ.get("HOTLINE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST_PART = PG_ADMIN_DSN.rsplit("/", 1)[0].removeprefix("postgresql://")


async def admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_DSN} (CI must not skip): {exc}")
        pytest.skip(f"PostgreSQL server unreachable at {PG_ADMIN_DSN}: {exc}")


class ScratchDatabase:
    def __init__(self, admin: asyncpg.Connection, name: str) -> None:
        self.admin = admin
        self.name = name
        self.url = f"postgresql+asyncpg://{PG_HOST_PART}/{name}"

    async def set_available(self, available: bool) -> None:
        """Open or shut the database: refuse new connections and kill the existing ones."""
        flag = "true" if available else "false"
        await self.admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS {flag}')
        if not available:
            await self.admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                self.name,
            )


@pytest_asyncio.fixture
async def pg_db() -> AsyncIterator[ScratchDatabase]:
    admin = await admin_connection()
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ScratchDatabase(admin, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def db_url(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
        return
    admin = await admin_connection()
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{PG_HOST_PART}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
