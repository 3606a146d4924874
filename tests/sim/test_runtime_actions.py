"""AMI actions on a live call, over TCP: lists, variables, Hangup, sync Originate, slow readers.

The call waits in queue ``sales`` whose only member never answers (FastAGI is refused, so the
dialplan falls back to ``Queue()``), which keeps it alive while the actions run.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from acd.asterisk.ami.message import Message
from acd.sim.faults import FaultPlan
from acd.sim.plan import AgentBehaviour, CallerBehaviour, QueueMember, QueuePlan, SimPlan
from acd.sim.runtime import Simulator
from tests.sim.runtime_support import AmiProbe, is_event
from tests.sim.test_runtime_ami import names, recorded_reply

NEVER = "Local/agent1@agents/n"


@dataclass
class Live:
    sim: Simulator
    probe: AmiProbe
    caller: str  # the caller's ;1 channel, waiting in the queue


@pytest_asyncio.fixture
async def live() -> AsyncIterator[Live]:
    member = QueueMember(NEVER, "Agent One", "Local/agent1@agents")
    plan = SimPlan(
        queues=(QueuePlan("sales", "linear", 4.0, 1.0, (member,)),),
        agents={NEVER: AgentBehaviour(answer_after=None)},
    )
    sim = Simulator(plan, seed=5, faults=FaultPlan(refuse_agi=True))
    await sim.start()
    probe = await AmiProbe.connect(sim.ami_port)
    assert (await probe.login_md5()).ok
    await sim.place_call(CallerBehaviour(number="5550102", hangup_after=None))
    joined = await probe.wait_event(is_event("QueueCallerJoin", Queue="sales"))
    try:
        yield Live(sim, probe, joined["Channel"])
    finally:
        await probe.close()
        await sim.close()


def header_names(items: tuple[Message, ...]) -> set[tuple[str, ...]]:
    return {tuple(names(m)) for m in items}


@pytest.mark.asyncio
async def test_channel_lists_have_the_recorded_headers(live: Live) -> None:
    shown = await live.probe.action("CoreShowChannels")
    assert live.caller in [m["Channel"] for m in shown.events]
    recorded_item = recorded_reply("23.")[1]
    assert header_names(shown.events) == {tuple(names(recorded_item))}
    status = await live.probe.action("Status")
    recorded_status = recorded_reply("24.")
    assert header_names(status.events) == {tuple(names(recorded_status[1]))}
    assert status.complete is not None
    assert names(status.complete) == names(recorded_status[-1])  # ... ListItems, Items
    queue = await live.probe.action("QueueStatus", [("Queue", "sales")])
    entry = next(m for m in queue.events if m.name == "QueueEntry")
    assert entry["Channel"] == live.caller
    assert names(entry) == names(recorded_reply("28c.")[3])


@pytest.mark.asyncio
async def test_setvar_then_getvar_and_the_varset_event(live: Live) -> None:
    target = [("Channel", live.caller)]
    done = await live.probe.action("Setvar", [*target, ("Variable", "AMI_SET"), ("Value", "42")])
    assert done.message == "Variable Set"
    varset = await live.probe.wait_event(is_event("VarSet", Variable="AMI_SET"))
    assert (varset["Channel"], varset["Value"]) == (live.caller, "42")
    got = await live.probe.action("Getvar", [*target, ("Variable", "AMI_SET")])
    assert names(got.response) == names(recorded_reply("25.")[0])
    assert got.response["Value"] == "42"
    nochan = await live.probe.action(
        "Getvar", [("Channel", "Local/nope-00000000;1"), ("Variable", "X")]
    )
    assert nochan.message == "No such channel"


@pytest.mark.asyncio
async def test_hangup_of_a_queued_caller_abandons(live: Live) -> None:
    done = await live.probe.action("Hangup", [("Channel", live.caller), ("Cause", "16")])
    assert done.message == "Channel Hungup"
    abandon = await live.probe.wait_event(is_event("QueueCallerAbandon", Queue="sales"))
    assert abandon["Channel"] == live.caller
    await live.probe.wait_event(is_event("Hangup", Channel=live.caller))
    await live.sim.wait_idle()
    assert live.sim.pbx.channels() == []


@pytest.mark.asyncio
async def test_sync_originate_replies_after_the_outcome(live: Live) -> None:
    failed = await live.probe.action(
        "Originate",
        [("Channel", "Local/nosuchexten@caller-sim/n"), ("Application", "Wait"), ("Data", "1")],
    )
    # recorded 38: a sync Originate to a missing extension
    assert (failed.response.name, failed.message) == ("Error", "Originate failed")
    answered = await live.probe.action(
        "Originate",
        [("Channel", "Local/5550103@caller-sim/n"), ("Application", "Wait"), ("Data", "1")],
    )
    assert (answered.response.name, answered.message) == (
        "Success",
        "Originate successfully queued",
    )
    # a synchronous Originate emits no OriginateResponse (shared README)
    # (the one OriginateResponse seen belongs to the fixture's async caller, without ActionID)
    responses = [m for m in live.probe.events if m.name == "OriginateResponse"]
    assert [m.get("ActionID") for m in responses] == [None]


@pytest.mark.asyncio
async def test_a_client_that_stops_reading_is_disconnected() -> None:
    sim = Simulator(seed=2, max_ami_write_buffer=64 * 1024)
    await sim.start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", sim.ami_port))
    reader, writer = await asyncio.open_connection(sock=sock)
    slow = AmiProbe(reader, writer)
    try:
        assert (await slow.login_md5()).ok
        sender = await AmiProbe.connect(sim.ami_port)
        assert (await sender.login_md5()).ok
        payload = "x" * 30_000
        sent = 400  # 12 MB of events: far more than socket buffers plus the 64 KiB allowance
        for n in range(sent):
            await sender.action("UserEvent", [("UserEvent", f"Flood{n}"), ("Data", payload)])
        await slow.read_to_eof()  # the simulator dropped it instead of buffering without bound
        floods = [m for m in slow.events if m.name == "UserEvent"]
        assert len(floods) < sent
        assert (await sender.action("Ping")).ok  # the reading client is unaffected
        await sender.close()
    finally:
        await slow.close()
        await sim.close()


@pytest.mark.asyncio
async def test_mixmonitor_actions_on_a_live_channel(live: Live) -> None:
    target = [("Channel", live.caller)]
    started = await live.probe.action(
        "MixMonitor", [*target, ("File", "ami-mixmon-test.wav"), ("Options", "i(MMID)")]
    )
    recorded = recorded_reply("26.")
    assert names(started.response) == names(recorded[0])  # Response, ActionID, MixMonitorID
    mm_id = started.response["MixMonitorID"]
    await live.probe.wait_event(is_event("MixMonitorStart", Channel=live.caller))
    muted = await live.probe.action(
        "MixMonitorMute", [*target, ("Direction", "both"), ("State", "1")]
    )
    assert muted.ok
    bad = await live.probe.action("MixMonitorMute", [*target, ("State", "1")])
    assert bad.message == "No direction specified. Must be read, write or both"
    stopped = await live.probe.action("StopMixMonitor", [*target, ("MixMonitorID", mm_id)])
    assert names(stopped.response) == names(recorded_reply("27.")[0])  # no Message header
    await live.probe.wait_event(is_event("MixMonitorStop", Channel=live.caller))


@pytest.mark.asyncio
async def test_redirect_and_device_state_list(live: Live) -> None:
    moved = await live.probe.action(
        "Redirect",
        [("Channel", live.caller), ("Context", "parking-lot"), ("Exten", "transfer")],
    )
    assert moved.message == "Redirect successful"
    await live.probe.wait_event(is_event("QueueCallerLeave", Channel=live.caller))
    states = await live.probe.action("DeviceStateList")
    assert states.response["Message"] == "Device State Changes will follow"
    assert states.complete is not None
    assert states.complete.name == "DeviceStateListComplete"
    assert states.complete["ListItems"] == str(len(states.events))
    assert all(m.name == "DeviceStateChange" for m in states.events)
