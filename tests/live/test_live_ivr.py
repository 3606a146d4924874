"""IVR paths on a real Asterisk: keys pressed with AMI PlayDTMF on the customer's Local channel,
asserted on the daemon's FastAGI commands (AGIExecStart) and its ``calls`` rows."""

from __future__ import annotations

import json

import pytest

from tests.live.rig import Caller, LiveRig

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

MAIN = "GET DATA hotline/zh/main-menu"


async def test_ivr_2_reason_then_queue_and_a_hang_up_while_waiting(rig: LiveRig) -> None:
    caller = await rig.call("13800000002")
    await _to_queue(rig, caller, ("2", "after-sales-menu", "3"), "after_sales")
    mark = rig.events.mark()
    await rig.hang_up(caller)
    await rig.gone(caller, after=mark)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["queue"], row["ivr_reason"], row["outcome"]) == (
        "after_sales",
        "item_missing",
        "abandoned",
    )
    path = [(step["node"], step["keys"], step["result"]) for step in json.loads(row["ivr_path"])]
    assert path == [("main", ["2"], "submenu"), ("after_sales", ["3"], "queue")]


async def test_ivr_3_complaint_gets_its_priority(rig: LiveRig) -> None:
    caller = await rig.call("13800000003")
    await _to_queue(rig, caller, ("3", "complaints-menu", "2"), "complaints")
    await rig.hang_up(caller)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["queue"], row["priority"], row["ivr_reason"]) == (
        "complaints",
        7,
        "service_attitude",
    )


async def test_a_bad_key_is_refused_and_the_menu_asked_again(rig: LiveRig) -> None:
    caller = await rig.call("13800000004")
    await rig.agi_command(caller, MAIN)
    mark = rig.events.mark()
    await rig.press(caller, "9")
    await rig.agi_command(caller, "STREAM FILE hotline/zh/invalid-choice", after=mark)
    await rig.agi_command(caller, MAIN, after=mark)
    mark = rig.events.mark()
    await rig.hang_up(caller)  # hung up in a prompt
    await rig.gone(caller, after=mark)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["outcome"], row["queue"]) == ("ivr_hangup", None)


async def test_silence_times_out_to_the_menus_default(rig: LiveRig) -> None:
    caller = await rig.call("13800000005")
    await rig.agi_command(caller, MAIN)
    mark = rig.events.mark()
    await rig.press(caller, "1")
    await rig.agi_command(caller, "GET DATA hotline/zh/orders-menu", after=mark)
    # no key: the prompt and 5 s, max_retries times, then orders' default action
    await rig.agi_command(caller, "STREAM FILE hotline/zh/no-choice", after=mark)
    waiting = await rig.daemon.until(
        lambda: _waiting(rig, caller.uniqueid), "the default queue", limit_s=90
    )
    assert waiting["queue"] == "orders"
    await rig.hang_up(caller)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["queue"], row["ivr_reason"], row["outcome"]) == (
        "orders",
        "order_enquiry",
        "abandoned",
    )


async def test_ivr_1_order_found(rig: LiveRig) -> None:
    await rig.daemon.command("db", "seed-demo")  # order 20261123: shipped (ivr/demo_data.py)
    caller = await rig.call("13800000006")
    # the caller's language goes with the call's variables, before the welcome: the channel
    # snapshot of the next command carries it (a function write: no VarSet)
    first = await rig.agi_command(caller, "EXEC MSet")
    assert "CHANNEL(language)=zh" in (first.get("Command") or "")
    welcome = await rig.agi_command(caller, "STREAM FILE hotline/zh/welcome")
    assert welcome.get("Language") == "zh"
    await rig.agi_command(caller, MAIN)
    mark = rig.events.mark()
    await rig.press(caller, "1")
    await rig.agi_command(caller, "GET DATA hotline/zh/orders-menu", after=mark)
    await rig.press(caller, "1")
    await rig.agi_command(caller, "GET DATA hotline/zh/order-enter-number", after=mark)
    await rig.press(caller, "20261123#")
    spoken = await rig.agi_command(caller, "STREAM FILE hotline/zh/order-status", after=mark)
    assert "shipped" in (spoken.get("Command") or "")
    row = await rig.daemon.ended_call(caller.uniqueid, limit_s=60)
    assert (row["outcome"], row["order_number"]) == ("self_service", "20261123")


async def test_ivr_1_order_not_found_twice_goes_to_an_agent(rig: LiveRig) -> None:
    await rig.daemon.command("db", "seed-demo")
    caller = await rig.call("13800000007")
    await rig.agi_command(caller, MAIN)
    mark = rig.events.mark()
    await rig.press(caller, "1")
    await rig.agi_command(caller, "GET DATA hotline/zh/orders-menu", after=mark)
    await rig.press(caller, "1")
    await rig.agi_command(caller, "GET DATA hotline/zh/order-enter-number", after=mark)
    await rig.press(caller, "11112222#")
    await rig.agi_command(caller, "STREAM FILE hotline/zh/order-not-found", after=mark)
    mark = rig.events.mark()
    await rig.agi_command(caller, "GET DATA hotline/zh/order-enter-number", after=mark)
    await rig.press(caller, "33334444#")
    await rig.agi_command(caller, "STREAM FILE hotline/zh/order-transfer", after=mark)
    waiting = await rig.daemon.until(
        lambda: _waiting(rig, caller.uniqueid), "the caller in the orders queue"
    )
    assert waiting["queue"] == "orders"
    await rig.hang_up(caller)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["outcome"], row["queue"]) == ("abandoned", "orders")


async def _to_queue(rig: LiveRig, caller: Caller, keys: tuple[str, str, str], queue: str) -> None:
    """The main menu's key, the submenu it asks (its prompt), that submenu's key: the caller
    ends up waiting in ``queue``."""
    key, submenu, choice = keys
    await rig.agi_command(caller, MAIN)
    mark = rig.events.mark()
    await rig.press(caller, key)
    await rig.agi_command(caller, f"GET DATA hotline/zh/{submenu}", after=mark)
    await rig.press(caller, choice)
    waiting = await rig.daemon.until(
        lambda: _waiting(rig, caller.uniqueid), f"the caller in the {queue} queue"
    )
    assert waiting["queue"] == queue


async def _waiting(rig: LiveRig, call_id: str) -> dict[str, object] | None:
    return (await rig.daemon.waiting()).get(call_id)
