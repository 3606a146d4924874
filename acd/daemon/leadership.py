"""Which ``hotline run`` process is the active daemon: PostgreSQL decides, or a file lock.

Several daemons may share one PostgreSQL database (a standby on another host, ``hotline run
--standby``). The active one holds a session-level advisory lock (``pg_try_advisory_lock``) on a
connection of its own, outside the connection pool; a standby tries to take it every
``try_every_s``. PostgreSQL releases the lock when that session ends:

- the process dies (SIGKILL, a crash) or stops (SIGTERM): its socket closes, the server ends the
  session at once, and the standby's next try succeeds;
- the network to PostgreSQL is cut: the active daemon's check (every ``check_every_s``, which
  must answer within that time) fails and it steps down at once; the server ends the session
  after ``idle_session_timeout`` (three intervals without a query: PostgreSQL 14+), or after its
  TCP keepalives and ``tcp_user_timeout`` give up on the silent client, so by then the old
  active has long stopped taking calls;
- PostgreSQL restarts or an administrator terminates the session: the connection's termination
  listener wakes the check at once.

``hold()`` returns when the lock is lost, and ``acd.app.daemon.Daemon`` then steps down. With
SQLite there is one daemon per database file: ``FileLeadership`` takes an exclusive ``flock``
on ``<database>.lock`` (never on the database itself: closing any descriptor of a file drops
the process's POSIX locks, SQLite's included) and a second daemon is refused at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from acd.logging import get_logger
from acd.settings.schema_system import LeadershipSettings

log = get_logger(__name__)

CONNECT_TIMEOUT_S = 2.0
# Server-side settings of the lock session, each tried on its own: an older server that lacks
# one still gives the others (SET, not startup parameters, which would refuse the connection).
_TCP_SETTINGS: tuple[tuple[str, str], ...] = (
    ("tcp_keepalives_idle", "1"),
    ("tcp_keepalives_interval", "1"),
    ("tcp_keepalives_count", "2"),
)
LOCK_SQL = "SELECT pg_try_advisory_lock($1)"
HELD_SQL = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = $1::oid AND objid = $2::oid AND objsubid = 1"
)
HOLDER_SQL = (
    "SELECT a.pid, a.application_name, host(a.client_addr) FROM pg_locks l"
    " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
    " AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 1"
)


class AnotherDaemon(RuntimeError):
    """Another daemon already uses this SQLite database (it holds the file lock)."""


class Leadership(Protocol):
    """What the daemon needs of its leadership: wait for it, notice its loss, give it up."""

    @property
    def description(self) -> str: ...

    async def acquire(self) -> None:
        """Return once this process is the active daemon (a standby waits here)."""

    async def hold(self) -> str:
        """Return (with why) once the leadership is lost; never while it is held."""

    async def release(self) -> None:
        """Give the leadership up (stop, or after it was lost); idempotent."""


def lock_oids(lock_id: int) -> tuple[int, int]:
    """How ``pg_locks`` shows a bigint advisory key: high half in classid, low in objid."""
    unsigned = lock_id & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def session_settings(check_every_s: float) -> list[tuple[str, str]]:
    """The lock session's server settings: TCP keepalives and a user timeout so the server
    notices a client cut off from it, and an idle timeout of three checks, so a session that
    stopped asking is ended (and its lock freed) even when TCP notices nothing."""
    idle_ms = str(round(3 * check_every_s * 1000))
    return [*_TCP_SETTINGS, ("tcp_user_timeout", idle_ms), ("idle_session_timeout", idle_ms)]


def application_name() -> str:
    """Shown in ``pg_stat_activity`` (and by a waiting standby): which daemon holds the lock."""
    return f"hotline {socket.gethostname()} pid {os.getpid()}"[:63]


Connect = Callable[..., Awaitable[Any]]


class PgLeadership:
    def __init__(
        self, dsn: str, settings: LeadershipSettings, *, connect: Connect = asyncpg.connect
    ) -> None:
        self._dsn = dsn
        self._settings = settings
        self._connect = connect
        self._oids = lock_oids(settings.lock_id)
        self._conn: Any = None
        self._lost = asyncio.Event()
        self.held = False
        self.tries = 0  # lock attempts (a standby's)

    @property
    def description(self) -> str:
        return f"PostgreSQL advisory lock {self._settings.lock_id}"

    async def acquire(self) -> None:
        told = False
        while True:
            self.tries += 1
            try:
                if await self._try_lock():
                    break
                if not told:
                    log.info("standby_waiting", active=await self._holder(), lock=self.description)
                    told = True
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                await self._drop()
                if not told:
                    log.warning("standby_database_unreachable", error=_short(exc))
                    told = True
            await asyncio.sleep(self._settings.try_every_s)
        self.held = True
        await self._limit_idle()
        log.info("leadership_acquired", lock=self.description, tries=self.tries)

    async def _try_lock(self) -> bool:
        if self._conn is None or self._conn.is_closed():
            self._conn = await self._open()
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            got = await self._conn.fetchval(
                "SELECT pg_try_advisory_lock($1)", self._settings.lock_id
            )
        return bool(got)

    async def _open(self) -> Any:
        self._lost.clear()
        conn = await self._connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": application_name()},
        )
        conn.add_termination_listener(lambda _conn: self._lost.set())
        for name, value in _TCP_SETTINGS:
            await _try_set(conn, name, value)
        return conn

    async def _limit_idle(self) -> None:
        """Once the lock is ours: the server ends this session if we stop checking."""
        for name, value in session_settings(self._settings.check_every_s)[len(_TCP_SETTINGS) :]:
            if not await _try_set(self._conn, name, value):
                log.warning(
                    "leadership_setting_unsupported",
                    setting=name,
                    why="PostgreSQL before 12/14: a daemon cut off from the database keeps the"
                    " lock until the server's TCP keepalives end its session",
                )

    async def _holder(self) -> str | None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                row = await self._conn.fetchrow(HOLDER_SQL, *self._oids)
            if row is not None:
                return f"{row[1] or 'pid ' + str(row[0])} from {row[2] or 'a local socket'}"
        return None

    async def hold(self) -> str:
        every = self._settings.check_every_s
        while True:
            lost = asyncio.create_task(self._lost.wait())
            try:
                await asyncio.wait({lost}, timeout=every)
            finally:
                lost.cancel()
                await asyncio.gather(lost, return_exceptions=True)
            why = await self._check(every)
            if why is not None:
                self.held = False
                await self._drop()
                log.error("leadership_lost", why=why, lock=self.description)
                return why

    async def _check(self, limit_s: float) -> str | None:
        """None while the lock is ours, else why not."""
        if self._conn is None or self._conn.is_closed():
            return "the lock's connection closed"
        try:
            async with asyncio.timeout(limit_s):
                held = await self._conn.fetchval(HELD_SQL, *self._oids)
        except TimeoutError:
            return f"no answer from PostgreSQL within {limit_s:g} s"
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            return f"the lock's connection failed: {_short(exc)}"
        return None if held else "the lock is no longer held"

    async def release(self) -> None:
        if self._conn is None:
            return
        if self.held:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    await self._conn.fetchval(
                        "SELECT pg_advisory_unlock($1)", self._settings.lock_id
                    )
                    await self._conn.close()
            log.info("leadership_released", lock=self.description)
        self.held = False
        await self._drop()

    async def _drop(self) -> None:
        """Abort the connection without waiting for the server (it may be unreachable)."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


class FileLeadership:
    """SQLite: one daemon per database file, enforced by an exclusive ``flock``."""

    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self._fd: int | None = None

    @property
    def description(self) -> str:
        return f"file lock {self.lock_file}"

    async def acquire(self) -> None:
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise AnotherDaemon(
                    f"another hotline daemon (pid {holder}) uses this SQLite database"
                    f" ({self.lock_file} is locked); a standby needs PostgreSQL"
                ) from exc
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    async def hold(self) -> str:
        await asyncio.Event().wait()  # a file lock is held until released or the process ends
        return "unreachable"

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


async def _try_set(conn: Any, name: str, value: str) -> bool:
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await conn.execute(f"SET {name} = {int(value)}")
    except asyncpg.PostgresError:
        return False
    return True


def _short(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200] or type(exc).__name__
