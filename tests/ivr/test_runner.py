"""Whole IVR calls: ``MenuRunner`` behind our FastAGI server, a scripted Asterisk on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.ivr_port import IvrOutcome
from acd.settings.loader import load_settings
from ivr.order_status import OrderInfo
from ivr.runner import MenuRunner
from tests.ivr.scripted_call import (
    CLOSED_TIME,
    EVENING,
    HANGUP_MID_PROMPT,
    MISSING_FILE,
    OPEN_TIME,
    TIMEOUT,
    keys,
    ok,
    played,
    pressed,
    run_call,
    ticking_clock,
)

SETTINGS = load_settings(Path(__file__).resolve().parents[2] / "config", require_secrets=False)
ESC = '"0123456789*#"'


class FakeOrders:
    """An in-memory order source (the table source has its own test over SQLite)."""

    def __init__(self, orders: dict[str, OrderInfo]) -> None:
        self.orders = orders
        self.asked: list[str] = []

    async def status(self, order_number: str) -> OrderInfo | None:
        self.asked.append(order_number)
        return self.orders.get(order_number)


ORDERS = FakeOrders({"20261123": OrderInfo("20261123", "shipped", "SF Express")})


async def call(
    script: list[tuple[str, bytes]],
    *,
    when: dt.datetime = OPEN_TIME,
    agi_script: str = "ivr",
    orders: FakeOrders | None = ORDERS,
    language: str = "zh",
) -> IvrOutcome:
    runner = MenuRunner.from_settings(
        SETTINGS, orders=orders, clock=ticking_clock(), wall_clock=lambda: when
    )

    async def handler(session: AgiSession) -> IvrOutcome:
        chosen = runner.language(session)  # the call flow sets it on the channel
        assert chosen == language
        return await runner(session, caller_number="5550200", vip=False, language=chosen)

    run = await run_call(handler, script, agi_script=agi_script)
    assert isinstance(run.result, IvrOutcome)
    return run.result


def welcome(lang: str = "zh") -> str:
    return f"STREAM FILE hotline/{lang}/welcome {ESC}"


def main_menu(lang: str = "zh") -> str:
    return f"GET DATA hotline/{lang}/main-menu 5000 1"


def submenu(name: str) -> str:
    return f"GET DATA hotline/zh/{name}-menu 5000 1"


ENTER_ORDER = "GET DATA hotline/zh/order-enter-number 10000 20"


@pytest.mark.asyncio
async def test_orders_then_order_status_is_spoken() -> None:
    outcome = await call([
        (welcome(), played()),
        (main_menu(), keys("1")),
        (submenu("orders"), keys("1")),
        (ENTER_ORDER, keys("20261123")),
        ('STREAM FILE hotline/zh/order-number-is ""', played()),
        ('SAY DIGITS 20261123 ""', ok("0")),
        ('STREAM FILE hotline/zh/order-status-shipped ""', played()),
        ('STREAM FILE hotline/zh/order-courier ""', played()),
        ('STREAM FILE hotline/zh/sf-express ""', played()),
    ])  # fmt: skip
    assert outcome.kind == "self_service"
    assert outcome.order_number == "20261123"
    assert [n["node"] for n in outcome.path] == ["main", "orders", "order_status"]
    assert [n["result"] for n in outcome.path] == ["submenu", "self_service", "told"]


@pytest.mark.asyncio
async def test_unknown_order_number_gets_one_retry_then_an_agent() -> None:
    outcome = await call([
        (welcome(), played()),
        (main_menu(), keys("1")),
        (submenu("orders"), keys("1")),
        (ENTER_ORDER, keys("111")),
        (f"STREAM FILE hotline/zh/order-not-found {ESC}", played()),
        (ENTER_ORDER, keys("222")),
        ('STREAM FILE hotline/zh/order-transfer ""', played()),
    ])  # fmt: skip
    assert (outcome.kind, outcome.queue, outcome.reason) == ("queue", "orders", "order_status")
    assert outcome.order_number == "222"
    assert outcome.path[-1]["attempts"] == 2


@pytest.mark.asyncio
async def test_after_sales_reason_keyed_during_the_welcome() -> None:
    # "2" interrupts the first prompt: no GET DATA for the main menu at all
    outcome = await call([
        (welcome(), pressed("2")),
        (submenu("after-sales"), keys("3")),
    ])  # fmt: skip
    assert (outcome.kind, outcome.queue, outcome.reason) == ("queue", "after_sales", "item_missing")
    assert outcome.priority is None
    assert outcome.language == "zh"


@pytest.mark.asyncio
async def test_complaint_is_queued_at_priority_7() -> None:
    outcome = await call([
        (welcome(), played()),
        (main_menu(), keys("3")),
        (submenu("complaints"), keys("2")),
    ])  # fmt: skip
    assert (outcome.kind, outcome.queue, outcome.priority) == ("queue", "complaints", 7)
    assert outcome.reason == "service_attitude"
    assert outcome.path[0]["keys"] == ["3"]
    assert outcome.path[1]["seconds"] > 0


@pytest.mark.asyncio
async def test_garbage_then_the_default_action() -> None:
    invalid = f"STREAM FILE hotline/zh/invalid-choice {ESC}"
    no_choice = f"STREAM FILE hotline/zh/no-choice {ESC}"
    outcome = await call([
        (welcome(), played()),
        (main_menu(), keys("ab")),  # non-digit keys
        (invalid, played()), (welcome(), played()),
        (main_menu(), keys("12")),  # too many digits
        (invalid, played()), (welcome(), played()),
        (main_menu(), TIMEOUT),
        (no_choice, played()), (welcome(), played()),
        (main_menu(), keys("7")),  # no such option: the 4th failure, max_retries is 3
    ])  # fmt: skip
    assert (outcome.kind, outcome.queue) == ("queue", SETTINGS.default_queue)
    assert outcome.path[0]["keys"] == ["ab", "12", "7"]
    assert outcome.path[0]["timeouts"] == 1


@pytest.mark.asyncio
async def test_hang_up_in_the_middle_of_a_prompt() -> None:
    outcome = await call([
        (welcome(), played()),
        (main_menu(), keys("2")),
        (submenu("after-sales"), keys("9")),
        (f"STREAM FILE hotline/zh/invalid-choice {ESC}", HANGUP_MID_PROMPT),
    ])  # fmt: skip
    assert outcome.kind == "hangup"
    assert [(n["node"], n["keys"], n["result"]) for n in outcome.path] == [
        ("main", ["2"], "submenu"),
        ("after_sales", ["9"], "hangup"),
    ]


@pytest.mark.asyncio
async def test_hang_up_while_keys_are_read() -> None:
    outcome = await call([(welcome(), played()), (main_menu(), b"200 result=-1\nHANGUP\n")])
    assert outcome.kind == "hangup"
    assert outcome.path[0]["result"] == "hangup"


@pytest.mark.asyncio
async def test_missing_sound_files_do_not_stall_the_call() -> None:
    outcome = await call([
        (welcome(), MISSING_FILE),
        (main_menu(), ok("-1")),  # GET DATA whose prompt is missing
        ('GET DATA "" 5000 1', keys("0")),  # the keys are read again without a prompt
    ])  # fmt: skip
    assert (outcome.kind, outcome.queue) == ("queue", SETTINGS.default_queue)


@pytest.mark.asyncio
async def test_after_hours_the_caller_can_ask_for_a_call_back() -> None:
    outcome = await call([
        (f"STREAM FILE hotline/zh/closed {ESC}", played()),
        ("GET DATA hotline/zh/callback-offer 5000 1", keys("1")),
    ], when=CLOSED_TIME)  # fmt: skip
    assert (outcome.kind, outcome.queue) == ("callback", SETTINGS.default_queue)
    assert outcome.path[0]["node"] == "closed"
    assert outcome.path[0]["calendar"] == "business"


@pytest.mark.asyncio
async def test_after_hours_without_a_choice_is_closed() -> None:
    outcome = await call([
        (f"STREAM FILE hotline/zh/closed {ESC}", played()),
        ("GET DATA hotline/zh/callback-offer 5000 1", TIMEOUT),
    ], when=CLOSED_TIME)  # fmt: skip
    assert outcome.kind == "closed"


@pytest.mark.asyncio
async def test_evening_closed_queue_after_the_choice_but_complaints_open() -> None:
    closed = await call([
        (welcome(), played()),
        (main_menu(), keys("2")),
        (submenu("after-sales"), keys("1")),
        (f"STREAM FILE hotline/zh/closed {ESC}", played()),
        ("GET DATA hotline/zh/callback-offer 5000 1", TIMEOUT),
    ], when=EVENING)  # fmt: skip
    assert (closed.kind, closed.queue) == ("closed", "after_sales")
    assert [n["node"] for n in closed.path] == ["main", "after_sales", "closed"]
    complaint = await call([
        (welcome(), pressed("3")),
        (submenu("complaints"), keys("5")),
    ], when=EVENING)  # fmt: skip
    assert (complaint.kind, complaint.queue, complaint.priority) == ("queue", "complaints", 7)


@pytest.mark.asyncio
async def test_language_from_the_agi_query() -> None:
    outcome = await call([
        (welcome("en"), played()),
        (main_menu("en"), keys("0")),
    ], agi_script="ivr?lang=en", language="en")  # fmt: skip
    assert outcome.language == "en"
    assert outcome.kind == "queue"
