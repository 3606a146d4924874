"""Whole IVR calls through the PBX simulator over real sockets: a simulated caller dials the
hotline, the simulated Asterisk connects to our FastAGI server, and the caller keys its choices
in reply to the prompts. Orders come from a real SQLite ``orders`` table."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from acd.asterisk.agi.router import Router
from acd.asterisk.aio.agi_server import AgiHandler, FastAgiServer
from acd.asterisk.aio.agi_session import AgiSession
from acd.cli.demo.plan import prompt_names
from acd.daemon.ivr_port import IvrOutcome
from acd.settings.loader import load_settings
from acd.settings.names import CHANNEL_LANGUAGE
from acd.sim.plan import CallerBehaviour, DialplanPlan, SimPlan
from acd.sim.runtime import Simulator
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import Order
from ivr.order_status import TableOrderStatusSource
from ivr.runner import MenuRunner
from tests.ivr.scripted_call import CLOSED_TIME, OPEN_TIME, ticking_clock

SETTINGS = load_settings(Path(__file__).resolve().parents[2] / "config", require_secrets=False)
# every configured prompt plays for 0.3 s; the order-status prompts are part of the sound set too
SOUNDS = dict.fromkeys(prompt_names(SETTINGS), 0.3) | {
    f"hotline/zh/{name}": 0.3
    for name in (
        "order-enter-number",
        "order-number-is",
        "order-status-shipped",
        "order-courier",
        "sf-express",
        "order-not-found",
        "callback-offer",
    )
}


async def _run_call(
    caller: CallerBehaviour, tmp_path: Path, *, when: dt.datetime = OPEN_TIME
) -> IvrOutcome:
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}")
    await upgrade(db)
    async with session_factory(db)() as session, session.begin():
        session.add(
            Order(
                order_number="20261123",
                customer_number=caller.number,
                status="shipped",
                courier="sf-express",
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
    runner = MenuRunner.from_settings(
        SETTINGS,
        orders=TableOrderStatusSource(session_factory(db)),
        clock=ticking_clock(),
        wall_clock=lambda: when,
    )
    outcome: asyncio.Future[IvrOutcome] = asyncio.get_running_loop().create_future()

    async def ivr(session: AgiSession) -> None:
        language = runner.language(session)  # set with the call's variables by the call flow
        await session.set_variable(CHANNEL_LANGUAGE, language)
        outcome.set_result(
            await runner(session, caller_number=caller.number, vip=False, language=language)
        )

    route: AgiHandler = ivr
    try:
        async with FastAgiServer(Router({"ivr": route}), port=0) as server:
            plan = SimPlan(dialplan=DialplanPlan(agi_port=server.port), sounds=SOUNDS)
            async with Simulator(plan, seed=5, recordings_dir=tmp_path, time_scale=10.0) as sim:
                await sim.place_call(caller)
                async with asyncio.timeout(20):
                    return await outcome
    finally:
        await db.dispose()


def _caller(*keys: str, hangup_after: float = 120.0) -> CallerBehaviour:
    return CallerBehaviour(
        number="13800138000", prompt_answers=keys, answer_delay=0.2, hangup_after=hangup_after
    )


@pytest.mark.asyncio
async def test_orders_then_an_order_lookup(tmp_path: Path) -> None:
    outcome = await _run_call(_caller("1", "1", "20261123#"), tmp_path)
    assert (outcome.kind, outcome.order_number) == ("self_service", "20261123")
    assert [n["node"] for n in outcome.path] == ["main", "orders", "order_status"]


@pytest.mark.asyncio
async def test_after_sales_reason_then_the_queue(tmp_path: Path) -> None:
    outcome = await _run_call(_caller("2", "4"), tmp_path)
    assert (outcome.kind, outcome.queue, outcome.reason) == (
        "queue",
        "after_sales",
        "late_delivery",
    )


@pytest.mark.asyncio
async def test_complaint_at_complaint_priority(tmp_path: Path) -> None:
    outcome = await _run_call(_caller("3", "2"), tmp_path)
    assert (outcome.kind, outcome.queue, outcome.priority) == ("queue", "complaints", 7)
    assert outcome.reason == "service_attitude"


@pytest.mark.asyncio
async def test_garbage_keys_then_a_valid_choice(tmp_path: Path) -> None:
    outcome = await _run_call(_caller("7", "99999", "0"), tmp_path)
    assert outcome.kind == "queue"
    assert outcome.queue == SETTINGS.default_queue
    # one-key menu: GET DATA takes one digit of "99999", an invalid choice like "7"
    assert outcome.path[0]["keys"][:2] == ["7", "9"]


@pytest.mark.asyncio
async def test_hang_up_in_the_middle_of_the_menu(tmp_path: Path) -> None:
    outcome = await _run_call(_caller(hangup_after=0.5), tmp_path)
    assert outcome.kind == "hangup"
    assert outcome.path[0]["node"] == "main"


@pytest.mark.asyncio
async def test_after_hours_the_caller_hears_closed(tmp_path: Path) -> None:
    outcome = await _run_call(_caller(), tmp_path, when=CLOSED_TIME)
    assert outcome.kind in ("closed", "callback")
    assert outcome.path[-1]["result"] == "closed"
