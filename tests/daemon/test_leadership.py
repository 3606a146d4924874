"""Leadership from the machine's PostgreSQL (advisory lock), and the SQLite file lock.

Two ``PgLeadership`` objects in one process stand for two daemons: each has its own server
session, which is all the lock knows about. The network cut goes through a relay that
black-holes the active one's connection (``tests.daemon.pg_proxy``): no FIN, no RST.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import text

from acd.daemon.leadership import (
    AnotherDaemon,
    FileLeadership,
    PgLeadership,
    lock_oids,
    session_settings,
)
from acd.settings.schema_system import LeadershipSettings
from acd.storage.engine import create_engine
from tests.daemon.pg_proxy import PgProxy
from tests.storage.conftest import PG_ADMIN_DSN, admin_connection

pytestmark = pytest.mark.postgres
FAST = LeadershipSettings(lock_id=0, try_every_s=0.1, check_every_s=0.5)
LIMIT_S = 10.0  # safety net only


@pytest_asyncio.fixture
async def settings() -> AsyncIterator[LeadershipSettings]:
    """A lock id of this test's own: tests running at once never contend."""
    admin = await admin_connection()
    try:
        lock_id = int.from_bytes(os.urandom(7), "big")
        yield FAST.model_copy(update={"lock_id": lock_id})
    finally:
        await admin.close()


def test_bigint_keys_as_pg_locks_shows_them() -> None:
    assert lock_oids(0x0000_0001_0000_0002) == (1, 2)
    assert lock_oids(-1) == (0xFFFF_FFFF, 0xFFFF_FFFF)
    assert dict(session_settings(1.0))["idle_session_timeout"] == "3000"


async def acquired_within(leader: PgLeadership, limit_s: float) -> None:
    async with asyncio.timeout(limit_s):  # a safety net only
        await leader.acquire()


@pytest.mark.asyncio
async def test_one_leader_at_a_time_and_the_standby_takes_over_on_release(
    settings: LeadershipSettings,
) -> None:
    active, standby = PgLeadership(PG_ADMIN_DSN, settings), PgLeadership(PG_ADMIN_DSN, settings)
    try:
        await acquired_within(active, LIMIT_S)
        waiting = asyncio.create_task(standby.acquire())
        await asyncio.sleep(0.5)
        assert not waiting.done()
        assert standby.tries >= 3  # it keeps trying, every try_every_s
        await active.release()
        async with asyncio.timeout(LIMIT_S):
            await waiting
        assert standby.held
        assert not active.held
    finally:
        await standby.release()
        await active.release()


@pytest.mark.asyncio
async def test_a_terminated_session_is_noticed_at_once(settings: LeadershipSettings) -> None:
    # checks so rare that only the connection's termination listener can notice in time
    settings = settings.model_copy(update={"check_every_s": 3600.0})
    active, standby = PgLeadership(PG_ADMIN_DSN, settings), PgLeadership(PG_ADMIN_DSN, settings)
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await acquired_within(active, LIMIT_S)
        holding = asyncio.create_task(active.hold())
        await asyncio.sleep(0.2)
        assert not holding.done()  # held: hold() does not return
        # the server restarts / an administrator ends the session: the process is alive
        classid, objid = lock_oids(settings.lock_id)
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'"
            " AND classid = $1::oid AND objid = $2::oid",
            classid,
            objid,
        )
        assert ended == 1
        async with asyncio.timeout(LIMIT_S):
            why = await holding
        assert "closed" in why or "failed" in why
        await acquired_within(standby, LIMIT_S)
    finally:
        await admin.close()
        await standby.release()
        await active.release()


@pytest.mark.asyncio
async def test_a_leader_cut_off_from_postgresql_steps_down_before_the_standby_leads(
    settings: LeadershipSettings,
) -> None:
    proxy = PgProxy()
    await proxy.start()
    host_part = PG_ADMIN_DSN.rsplit("@", 1)[1].split("/", 1)
    via_proxy = f"postgresql://postgres@127.0.0.1:{proxy.port}/{host_part[1]}"
    active = PgLeadership(via_proxy, settings)
    standby = PgLeadership(PG_ADMIN_DSN, settings)
    try:
        await acquired_within(active, LIMIT_S)
        holding = asyncio.create_task(active.hold())
        waiting = asyncio.create_task(standby.acquire())
        await asyncio.sleep(1.2)
        assert not holding.done()
        assert not waiting.done()
        proxy.cut()
        async with asyncio.timeout(LIMIT_S):
            why = await holding  # its check went unanswered
        assert "no answer" in why
        assert not waiting.done()  # the server still has the old session: no two leaders
        # the server ends the session silent for three checks (idle_session_timeout): only
        # then does the standby get the lock (TCP alone would keep it for hours: the relay
        # keeps both connections open and says nothing)
        async with asyncio.timeout(LIMIT_S):
            await waiting
    finally:
        for task in (holding, waiting):
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(holding, waiting, return_exceptions=True)
        await standby.release()
        await active.release()
        await proxy.close()


@pytest.mark.asyncio
async def test_a_standby_that_cannot_reach_postgresql_keeps_trying(
    settings: LeadershipSettings,
) -> None:
    proxy = PgProxy()
    await proxy.start()
    proxy.cut()
    path = PG_ADMIN_DSN.rsplit("/", 1)[1]
    standby = PgLeadership(f"postgresql://postgres@127.0.0.1:{proxy.port}/{path}", settings)
    try:
        waiting = asyncio.create_task(standby.acquire())
        await asyncio.sleep(2.5)  # one connect attempt times out (2 s): then it tries again
        assert not waiting.done()
        assert standby.tries >= 2
        proxy.heal()
        async with asyncio.timeout(LIMIT_S):
            await waiting
        assert standby.held
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await standby.release()
        await proxy.close()


@pytest.mark.asyncio
async def test_one_daemon_per_sqlite_file(tmp_path: Path) -> None:
    lock = tmp_path / "hotline.db.lock"
    first, second = FileLeadership(lock), FileLeadership(lock)
    await first.acquire()
    with pytest.raises(AnotherDaemon, match=f"pid {os.getpid()}"):
        await second.acquire()
    holding = asyncio.create_task(first.hold())
    await asyncio.sleep(0.05)
    assert not holding.done()  # a file lock is not lost while held
    holding.cancel()
    await asyncio.gather(holding, return_exceptions=True)
    await first.release()
    await second.acquire()
    await second.release()


@pytest.mark.asyncio
async def test_a_transaction_left_open_by_a_daemon_cut_off_is_ended_by_the_server() -> None:
    """The row locks of a daemon that lost the database mid-transaction do not stay for the
    server's TCP keepalive time: the new active daemon writes the same rows."""
    await (await admin_connection()).close()
    engine = create_engine(PG_ADMIN_DSN)
    try:
        async with engine.connect() as conn:
            shown = await conn.scalar(text("SHOW idle_in_transaction_session_timeout"))
    finally:
        await engine.dispose()
    assert shown == "30s"
