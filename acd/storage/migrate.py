"""Schema migrations: ``upgrade`` to head, the current revision, and model/database drift.

Alembic's command API is synchronous; we give it a connection from our async engine through
``run_sync`` (Alembic cookbook: "Programmatic API use (connection sharing) With Asyncio"), so
the migration runs in one transaction with the same engine settings as the daemon.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaNotCurrent(RuntimeError):
    """The database is not at the schema this code expects; run ``hotline db upgrade``."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    await _run_command(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _run_command(engine, command.downgrade, revision)


async def _run_command(engine: AsyncEngine, alembic_command: Any, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        alembic_command(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revisions(engine: AsyncEngine) -> tuple[str, ...]:
    """Revisions the database is at; empty for a database never migrated."""

    def read(connection: Connection) -> tuple[str, ...]:
        return tuple(MigrationContext.configure(connection).get_current_heads())

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def schema_drift(engine: AsyncEngine) -> list[Any]:
    """Alembic's differences between the models and the database; [] when they match."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def ensure_schema(engine: AsyncEngine) -> None:
    """Start-up check. SQLite (a local file the daemon owns) is upgraded to head on the spot;
    a PostgreSQL server is shared and changed only by ``hotline db upgrade``, deliberately."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        await upgrade(engine)
        return
    current = set(await current_revisions(engine))
    heads = set(head_revisions())
    if current != heads:
        raise SchemaNotCurrent(
            f"database schema is at {sorted(current) or 'nothing'}, this version needs "
            f"{sorted(heads)}: run `hotline db upgrade`"
        )
