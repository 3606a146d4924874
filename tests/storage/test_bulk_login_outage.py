"""Bulk log-in (``AgentBatch``) while PostgreSQL is down: the floor changes at once, the agents'
state rows wait in the spool and land exactly once when the database is back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from acd.daemon.outputs import Outputs
from acd.daemon.service import AcdService
from acd.engine.agent import AgentState
from acd.engine.floor import Floor
from acd.engine.floor_inputs import AgentAction
from acd.engine.model import AgentSpec, QueueSpec
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import AgentStateLog
from acd.storage.spool import Spool
from acd.storage.writer import StorageWriter
from tests.storage.conftest import ScratchDatabase

pytestmark = pytest.mark.postgres
AGENTS = 300


@pytest.mark.asyncio
async def test_a_bulk_login_during_an_outage_is_stored_once_when_the_database_is_back(
    pg_db: ScratchDatabase, tmp_path: Path
) -> None:
    engine = create_engine(pg_db.url)
    await upgrade(engine)
    outage = asyncio.Event()
    spool = Spool(tmp_path / "spool")
    writer = StorageWriter(
        engine,
        spool,
        retry_initial_s=0.05,
        retry_max_s=0.2,
        on_outage=lambda down: outage.set() if down else None,
    )
    ids = [f"a{i}" for i in range(AGENTS)]
    floor = Floor(
        [QueueSpec("orders", "orders")],
        [AgentSpec(a, f"PJSIP/{1000 + i}", {"orders": 3}) for i, a in enumerate(ids)],
    )
    acd = AcdService(floor, Outputs(publisher=None, writer=writer), clock=time.monotonic)
    await writer.start()
    owner = asyncio.create_task(acd.run())
    try:
        async with asyncio.timeout(60):  # a hang guard only
            await pg_db.set_available(False)
            assert await acd.agents_input(ids, AgentAction.LOGIN) == ()
            assert all(floor.agents[a].state is AgentState.READY for a in ids)  # at once
            await outage.wait()
            assert writer.spooling
            await pg_db.set_available(True)
            writer.retry_now()
            await writer.wait_drained()
            # a second bulk log-in changes nothing and writes nothing
            refused = await acd.agents_input(ids, AgentAction.LOGIN)
            assert [r.agent_id for r in refused] == ids
            await writer.wait_drained()
    finally:
        owner.cancel()
        await asyncio.gather(owner, return_exceptions=True)
        await writer.close()
    assert not spool.has_entries()
    async with session_factory(engine)() as session:
        rows = (
            await session.execute(
                select(AgentStateLog.agent_id, func.count())
                .where(AgentStateLog.state == "ready", AgentStateLog.ended_at.is_(None))
                .group_by(AgentStateLog.agent_id)
            )
        ).all()
        total = await session.scalar(select(func.count()).select_from(AgentStateLog))
    assert sorted(a for a, _ in rows) == sorted(ids)
    assert {n for _, n in rows} == {1}
    assert total == AGENTS  # exactly once
    await engine.dispose()
