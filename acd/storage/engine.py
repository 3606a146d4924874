"""Engine set-up: SQLite (aiosqlite) made safe for concurrent writers, or PostgreSQL (asyncpg).

Everything above this module runs the same code on both back-ends.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DEFAULT_URL = "sqlite+aiosqlite:///var/hotline.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Server-side settings of every session: a daemon cut off from the database mid-transaction
# (its standby takes over) must not leave row locks behind for the server's default TCP
# keepalive time (two hours): the transaction is ended after 30 s of silence. Our
# transactions last milliseconds; a report's query is never idle inside one.
POSTGRESQL_SESSION = {"idle_in_transaction_session_timeout": "30000"}


class UnsupportedDatabase(ValueError):
    """The URL names a driver other than sqlite+aiosqlite or postgresql+asyncpg."""


def normalise_url(url: str | URL) -> URL:
    """Accept the short forms an operator types (``sqlite:///x.db``, ``postgresql://...``)."""
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "aiosqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "asyncpg"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise UnsupportedDatabase(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db"
    )


def create_engine(
    url: str | URL, *, echo: bool = False, read_only: bool = False, **kwargs: Any
) -> AsyncEngine:
    """Create the async engine for ``url`` with our transaction semantics on both back-ends.

    ``read_only=True`` is for report queries: on SQLite such an engine takes no write lock
    (plain deferred BEGIN, safe because ``PRAGMA query_only`` forbids writes), so a long report
    never holds up the storage writer. PostgreSQL readers never block writers (MVCC), so
    there it changes nothing.
    """
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, echo=echo, **kwargs)
        _make_sqlite_safe(engine, read_only=read_only)
        if parsed.database and parsed.database != ":memory:":
            _keep_private(engine, Path(parsed.database))
        return engine
    # pre_ping: after a server restart or terminated backends, pooled connections are dead;
    # test them at checkout instead of failing the first write after recovery.
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args["server_settings"] = {
        **POSTGRESQL_SESSION,
        **connect_args.get("server_settings", {}),
    }
    return create_async_engine(parsed, echo=echo, connect_args=connect_args, **kwargs)


def _keep_private(engine: AsyncEngine, path: Path) -> None:
    """Call and customer data: the database file readable by its owner only (0600). SQLite
    gives the -wal and -shm files the main file's permissions (os_unix.c findCreateFileMode),
    and existing ones are tightened here too."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(_dbapi_connection: Any, _record: Any) -> None:
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                if file.stat().st_mode & 0o077:
                    file.chmod(0o600)


# Where Core statements run inside an open transaction: the writer uses a plain connection (an
# ORM session costs more per statement than the statement itself); tests and tools may pass a
# session.
Database = AsyncConnection | AsyncSession


def dialect_name(db: Database) -> str:
    return db.dialect.name if isinstance(db, AsyncConnection) else db.get_bind().dialect.name


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: rows read in a transaction stay usable after it ends (no lazy
    # reload, which async sessions cannot do implicitly).
    return async_sessionmaker(engine, expire_on_commit=False)


def _make_sqlite_safe(engine: AsyncEngine, *, read_only: bool) -> None:
    """WAL, busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for every transaction.

    Why: pysqlite/aiosqlite begin a *deferred* transaction, lazily, just before the first
    write; the SELECT of a read-modify-write runs outside it. Two such transactions read the
    same value and the later write silently overwrites the earlier one (lost update), or the
    read-to-write lock upgrade fails at once with "database is locked". BEGIN IMMEDIATE takes
    the write lock first, so writers wait their turn (busy_timeout) and see each other's
    commits; WAL keeps readers going meanwhile. Pattern: SQLAlchemy SQLite dialect docs,
    "Using SQLAlchemy to emit BEGIN in lieu of SQLite's transaction control".
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Turn off the driver's own (lazy, deferred) BEGIN; we emit ours in "begin" below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
