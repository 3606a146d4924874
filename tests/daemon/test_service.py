"""The owner task applies floor inputs posted as data, answers refusals to whoever waits, and
journals every applied input so that a fresh floor replays to the same state."""

from __future__ import annotations

import asyncio
import time

import pytest

from acd.daemon.service import AcdService
from acd.engine.agent import AgentChanged, AgentState, DeviceState, InvalidTransition
from acd.engine.floor import Floor
from acd.engine.floor_effects import Offer
from acd.engine.floor_inputs import AgentAction, UnknownAgent
from acd.engine.journal import replay
from acd.engine.model import AgentSpec, QueueSpec, WaitingCall


def make_floor() -> Floor:
    return Floor(
        [QueueSpec("orders", "orders", wrap_up_s=0.05)],
        [AgentSpec("alice", "PJSIP/1001", {"orders": 1})],
    )


class Recorded:
    """The outputs the owner task writes to: here, kept in a list."""

    def __init__(self) -> None:
        self.changes: list[AgentChanged] = []

    def agent_changed(self, change: AgentChanged) -> None:
        self.changes.append(change)

    def floor_changed(self, floor: Floor, now: float) -> None:
        pass


@pytest.mark.asyncio
async def test_inputs_are_applied_in_order_refusals_answered_and_the_day_journalled() -> None:
    lines: list[str] = []
    outputs = Recorded()
    floor = make_floor()
    acd = AcdService(floor, outputs, clock=time.monotonic, journal_sink=lines.append)
    async with asyncio.TaskGroup() as tasks:
        owner = tasks.create_task(acd.run())
        with pytest.raises(InvalidTransition):
            await acd.agent_input("alice", AgentAction.UNPAUSE)
        with pytest.raises(UnknownAgent):
            await acd.agent_input("mallory", AgentAction.LOGIN)
        await acd.agent_input("alice", AgentAction.LOGIN)
        offers: asyncio.Queue[Offer] = asyncio.Queue()  # the call's own inbox
        await acd.enqueue(WaitingCall("c1", "orders", time.monotonic()), offers)
        offer = await asyncio.wait_for(offers.get(), 5.0)
        assert (offer.call_id, offer.agent_id) == ("c1", "alice")
        await acd.agent_input("alice", AgentAction.PAUSE, "break")  # waits for the Dial
        acd.offer_answered("c1")
        acd.device_state("PJSIP/1001", DeviceState.INUSE)
        acd.call_ended("c1")
        await acd.read(lambda _f, _now: None)  # everything posted before is applied
        assert outputs.changes[-1].new is AgentState.PAUSED
        owner.cancel()
    fresh = make_floor()
    replay(fresh, lines)
    assert fresh.agents == floor.agents
    assert [c.new for c in outputs.changes] == [
        AgentState.READY,
        AgentState.RESERVED,
        AgentState.ON_CALL,
        AgentState.WRAP_UP,
        AgentState.PAUSED,
    ]
    assert len(lines) == acd.requests_applied >= 8
