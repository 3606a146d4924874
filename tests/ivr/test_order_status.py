"""Order status self-service: pure parts, and the default source over a real SQLite table."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.storage.engine import create_engine, session_factory
from acd.storage.models import Base, Order
from ivr.order_status import (
    MAX_ORDER_DIGITS,
    OrderDialog,
    OrderInfo,
    PlayFile,
    SayDigits,
    TableOrderStatusSource,
    parse_order_number,
    status_speech,
)


@pytest.mark.parametrize(
    ("digits", "number"),
    [
        ("20261123", "20261123"),
        ("0042", "0042"),  # leading zeros are part of the number
        ("", None),
        ("12*3", None),
        ("١٢٣", None),  # non-ASCII digits are not keys a phone sends
        ("9" * MAX_ORDER_DIGITS, "9" * MAX_ORDER_DIGITS),
        ("9" * (MAX_ORDER_DIGITS + 1), None),
    ],
)
def test_parse_order_number(digits: str, number: str | None) -> None:
    assert parse_order_number(digits) == number


@pytest.mark.parametrize(
    ("status", "courier", "tail"),
    [
        ("placed", None, ["hotline/en/order-status-placed"]),
        ("paid", "SF Express", ["hotline/en/order-status-paid"]),  # courier only when shipped
        ("shipped", "SF Express",
         ["hotline/en/order-status-shipped", "hotline/en/order-courier", "hotline/en/sf-express"]),
        ("shipped", None, ["hotline/en/order-status-shipped"]),
        ("completed", None, ["hotline/en/order-status-completed"]),
        ("cancelled", None, ["hotline/en/order-status-cancelled"]),
    ],
)  # fmt: skip
def test_status_speech(status: str, courier: str | None, tail: list[str]) -> None:
    speech = status_speech(OrderInfo("123", status, courier), "en")
    assert speech is not None
    assert speech[:2] == (PlayFile("hotline/en/order-number-is"), SayDigits("123"))
    assert [p.name for p in speech[2:] if isinstance(p, PlayFile)] == tail


def test_unknown_status_cannot_be_spoken() -> None:
    assert status_speech(OrderInfo("123", "on_hold"), "zh") is None


@pytest.mark.parametrize(
    ("found", "steps"),
    [
        ([True], ["speak"]),
        ([False, True], ["retry", "speak"]),
        ([False, False], ["retry", "agent"]),
    ],
)
def test_dialog_gives_one_retry(found: list[bool], steps: list[str]) -> None:
    dialog = OrderDialog()
    order = OrderInfo("1", "paid")
    assert [dialog.entered(order if f else None) for f in found] == steps


@pytest_asyncio.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    factory = session_factory(engine)
    async with factory() as db, db.begin():
        when = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
        db.add_all([
            Order(order_number="20261123", customer_number="5550200", status="shipped",
                  courier="SF Express", updated_at=when),
            Order(order_number="777", status="paid", courier=None, updated_at=when),
        ])  # fmt: skip
    yield factory
    await engine.dispose()


@pytest.mark.asyncio
async def test_table_source(sessions: async_sessionmaker[AsyncSession]) -> None:
    source = TableOrderStatusSource(sessions)
    assert await source.status("20261123") == OrderInfo("20261123", "shipped", "SF Express")
    assert await source.status("777") == OrderInfo("777", "paid", None)
    assert await source.status("404") is None
