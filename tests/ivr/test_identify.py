"""Caller identification over a real SQLite database, and the VIP priority boost."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.engine.model import VIP_PRIORITY_BOOST, QueueSpec, caller_priority
from acd.storage.engine import create_engine, session_factory
from acd.storage.models import Base, Call
from acd.storage.models import Customer as CustomerRow
from ivr.identify import Customer, TableCustomerLookup, normalise_number, priority_for

T0 = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)


@pytest_asyncio.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    factory = session_factory(engine)
    async with factory() as db, db.begin():
        db.add_all([
            CustomerRow(number="13800000001", name="Li Na", vip=True, last_agent_id="agent7"),
            CustomerRow(number="13800000002", name=None),
        ])  # fmt: skip
        db.add_all(
            Call(id=f"c{i}", caller_number="13800000001", arrived_at=T0 + dt.timedelta(hours=i),
                 queue="orders", agent_id="agent7", outcome="answered")
            for i in range(7)
        )  # fmt: skip
        db.add(Call(id="other", caller_number="13900000000", arrived_at=T0))
    yield factory
    await engine.dispose()


@pytest.mark.asyncio
async def test_known_vip_with_recent_calls(sessions: async_sessionmaker[AsyncSession]) -> None:
    customer = await TableCustomerLookup(sessions, recent=3).lookup("138-0000-0001")
    assert customer is not None
    assert (customer.name, customer.vip, customer.last_agent_id) == ("Li Na", True, "agent7")
    assert [c.call_id for c in customer.recent_calls] == ["c6", "c5", "c4"]  # newest first
    assert customer.recent_calls[0].queue == "orders"


@pytest.mark.asyncio
async def test_known_customer_without_calls(sessions: async_sessionmaker[AsyncSession]) -> None:
    customer = await TableCustomerLookup(sessions).lookup("13800000002")
    assert customer == Customer("13800000002")


@pytest.mark.asyncio
@pytest.mark.parametrize("number", ["13900000000", "", "  "])
async def test_unknown_or_withheld_number(
    sessions: async_sessionmaker[AsyncSession], number: str
) -> None:
    assert await TableCustomerLookup(sessions).lookup(number) is None


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("138 0000 0001", "13800000001"), ("+86 (138) 0000-0001", "+8613800000001"), ("", "")],
)
def test_normalise_number(raw: str, stored: str) -> None:
    assert normalise_number(raw) == stored


def test_vip_raises_priority() -> None:
    queue = QueueSpec("orders", "orders", priority=2)
    assert priority_for(queue, None) == 2
    assert priority_for(queue, Customer("1")) == 2
    assert priority_for(queue, Customer("1", vip=True)) == 2 + VIP_PRIORITY_BOOST
    assert priority_for(queue, Customer("1", vip=True), complaint=True) == caller_priority(
        queue, vip=True, complaint=True
    )
