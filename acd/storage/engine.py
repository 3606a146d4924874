"""Engine set-up: SQLite (aiosqlite) made safe for concurrent writers, or PostgreSQL (asyncpg).

Everything above this module runs the same code on both back-ends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DEFAULT_URL = "sqlite+aiosqlite:///var/hotline.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000


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


def create_engine(url: str | URL, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``url`` with our transaction semantics on both back-ends."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, echo=echo, **kwargs)
        _make_sqlite_safe(engine)
        return engine
    # pre_ping: after a server restart or terminated backends, pooled connections are dead;
    # test them at checkout instead of failing the first write after recovery.
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(parsed, echo=echo, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: rows read in a transaction stay usable after it ends (no lazy
    # reload, which async sessions cannot do implicitly).
    return async_sessionmaker(engine, expire_on_commit=False)


def _make_sqlite_safe(engine: AsyncEngine) -> None:
    """WAL, busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for every transaction.

    Why BEGIN IMMEDIATE: pysqlite/aiosqlite by default open a *deferred* transaction, and only
    lazily, just before the first INSERT/UPDATE; a SELECT runs outside any transaction. Two
    read-modify-write transactions (read the agent's open interval, then close it) can then
    both read the same row and the later write silently overwrites the earlier one: a lost
    update. Even with an explicit deferred BEGIN, the reader's upgrade to a write lock fails
    with "database is locked" without waiting, because SQLite cannot honour busy_timeout when
    a waiting reader would deadlock. BEGIN IMMEDIATE takes the write lock up front, so writers
    queue politely on busy_timeout and each sees the previous one's committed result. WAL
    lets readers proceed while a writer holds that lock. Pattern from SQLAlchemy's SQLite
    dialect docs ("Enabling non-legacy SQLite transactional modes ... Using SQLAlchemy to emit
    BEGIN in lieu of SQLite's transaction control").
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
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
