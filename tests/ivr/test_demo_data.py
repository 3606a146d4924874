"""``hotline db seed-demo``: demo customers (a VIP) and orders the IVR can speak, added once and
never overwriting what is there."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from acd.cli.main import main
from acd.exitcodes import ExitCode
from acd.storage.engine import create_engine, session_factory
from acd.storage.models import Customer
from ivr.demo_data import CUSTOMERS, ORDERS
from ivr.identify import TableCustomerLookup
from ivr.order_status import ORDER_STATUSES, TableOrderStatusSource, status_speech
from ivr.prompt_text import load_catalogue
from ivr.prompts import slug

REPO = Path(__file__).resolve().parents[2]


def seed(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, str]:
    assert main(["db", "seed-demo", "--db", url, "--json", *extra]) == ExitCode.OK
    rows = json.loads(capsys.readouterr().out)["seeded"]
    return {row["key"]: row["result"] for row in rows}


def test_seed_twice_adds_once_and_keeps_a_real_customer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'hotline.db'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    capsys.readouterr()

    async def real_customer() -> None:
        engine = create_engine(url)
        async with AsyncSession(engine) as session, session.begin():
            session.add(Customer(number="13700137000", name="A real person", vip=False))
        await engine.dispose()

    asyncio.run(real_customer())
    first = seed(url, capsys, "--vip", "+86 139-0000-1111")
    assert first["13700137000"] == "kept"  # the real row wins
    assert first["+8613900001111"] == "added"  # the operator's test phone, as stored
    assert {k: v for k, v in first.items() if k not in {"13700137000"}} == dict.fromkeys(
        [*(c.number for c in CUSTOMERS if c.number != "13700137000"), "+8613900001111",
         *(o.order_number for o in ORDERS)], "added"
    )  # fmt: skip
    second = seed(url, capsys)
    assert set(second.values()) == {"kept"}

    async def check() -> None:
        engine = create_engine(url)
        sessions = session_factory(engine)
        vip = await TableCustomerLookup(sessions).lookup("13800138000")
        real = await TableCustomerLookup(sessions).lookup("13700137000")
        order = await TableOrderStatusSource(sessions).status("20261123")
        await engine.dispose()
        assert vip is not None
        assert vip.vip
        assert real is not None
        assert real.name == "A real person"
        assert order is not None
        assert (order.status, order.courier) == ("shipped", "SF Express")

    asyncio.run(check())


def test_every_demo_order_can_be_spoken_in_both_languages() -> None:
    catalogue = load_catalogue(REPO / "config")
    for order in ORDERS:
        assert order.status in ORDER_STATUSES
        for language in ("zh", "en"):
            if order.courier:
                assert catalogue.provides(f"hotline/{language}/{slug(order.courier)}", language)
    assert any(c.vip for c in CUSTOMERS)
    assert {o.customer_number for o in ORDERS} <= {c.number for c in CUSTOMERS}


def test_status_speech_of_a_demo_order_names_the_courier_prompt() -> None:
    from ivr.order_status import OrderInfo, PlayFile

    speech = status_speech(OrderInfo("20261126", "shipped", "JD Logistics"), "zh")
    assert speech is not None
    assert PlayFile("hotline/zh/jd-logistics") in speech


def test_unreachable_database_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["db", "seed-demo", "--db", "postgresql://postgres@127.0.0.1:1/test"])
    assert code == ExitCode.UNAVAILABLE
    assert "database unreachable" in capsys.readouterr().err
