"""The AMI link drops, stalls and comes back: the daemon reconnects, resynchronises, and no
agent stays reserved for a call that no longer exists."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from acd.daemon.dialling import DialResult
from acd.engine.model import WaitingCall
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.harness import Harness, floor_harness, floor_settings

NEVER_ANSWERS = AgentBehaviour(answer_after=None)


@pytest.mark.asyncio
async def test_caller_hangs_up_while_ami_is_down(tmp_path: Path) -> None:
    settings = floor_settings(1, ring_timeout_s=20.0)
    phone = settings.agents[0].endpoint
    async with floor_harness(tmp_path, settings=settings, behaviour={phone: NEVER_ANSWERS}) as h:
        agent = settings.agents[0].id
        await h.place(CallerBehaviour(number="5550201", hangup_after=None))
        await h.wait_for(
            lambda: _state(h, agent, "reserved"), "the agent's phone to ring for the caller"
        )
        # The link goes down and, before the daemon could see anything on it, the caller leaves.
        h.sim.faults.drop_ami()
        [caller] = h.caller_channels()
        assert h.hang_up(caller)
        await h.wait_for(lambda: h.daemon.watcher.resyncs == 2, "the AMI resync after reconnect")
        await h.wait_for(h.quiet, "the call to be released")
        assert h.daemon.ami.counters.reconnects == 1
        assert await _state(h, agent, "ready")
        await h.stop_daemon()
    assert h.rows("select outcome from calls") == [("abandoned",)]


@pytest.mark.asyncio
async def test_resync_releases_an_agent_reserved_for_a_call_nobody_handles(
    tmp_path: Path,
) -> None:
    # A reservation the call flow does not know (lost with a crashed handler): only the resync
    # after a reconnect can see that no live call stands behind it.
    settings = floor_settings(1)
    async with floor_harness(tmp_path, settings=settings) as h:
        agent = settings.agents[0].id
        ghost = WaitingCall("ghost-1", settings.default_queue, h.daemon.clocks.steady(), 0)
        await h.daemon.acd.enqueue(ghost, asyncio.Queue())
        assert await h.floor(lambda f, _now: f.engaged_agent("ghost-1")) == agent
        h.sim.faults.drop_ami()
        await h.wait_for(lambda: h.daemon.watcher.resyncs == 2, "the AMI resync after reconnect")
        await h.wait_for(lambda: _state(h, agent, "ready"), "the ghost reservation to go")
        assert await h.floor(lambda f, _now: f.engaged_calls()) == []
        assert h.daemon.watcher.released == 1
        # and the floor still works: the next caller is answered by that agent
        await h.place(CallerBehaviour(number="5550202", hangup_after=None))
        await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
    assert h.rows("select outcome, agent_id from calls") == [("answered", agent)]


@pytest.mark.asyncio
async def test_link_drops_under_traffic_release_nothing_wrongly(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=4) as h:
        for i in range(12):
            await h.place(CallerBehaviour(number=f"55503{i:02d}", hangup_after=None))
            if i in (3, 8):
                h.sim.faults.drop_ami()
        await h.wait_for(h.quiet, "every call to end")
        assert h.daemon.watcher.resyncs >= 2
        assert h.daemon.watcher.released == 0
        await h.stop_daemon()
    outcomes = [o for (o,) in h.rows("select outcome from calls")]
    assert outcomes == ["answered"] * 12


@pytest.mark.asyncio
async def test_stalled_ami_is_noticed_by_the_ping_and_the_client_reconnects(
    tmp_path: Path,
) -> None:
    settings = floor_settings(1, ping_interval_s=0.2)
    async with floor_harness(tmp_path, settings=settings) as h:
        ami = h.daemon.ami
        assert ami.connected
        h.sim.faults.stall_ami()
        await h.wait_for(lambda: not ami.connected, "the stalled link to be given up")
        # One unanswered Ping was enough: the link is dropped one interval after that Ping
        # was sent, i.e. within two ping intervals of the stall.
        assert h.sim.faults.ami_actions_ignored == 1
        h.sim.faults.stall_ami(on=False)
        await h.wait_for(lambda: ami.connected and h.daemon.watcher.resyncs == 2, "reconnection")
        assert ami.counters.reconnects == 1
        await h.place(CallerBehaviour(number="5550401", hangup_after=None))
        await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
    assert h.rows("select outcome from calls") == [("answered",)]


@pytest.mark.asyncio
async def test_a_conversation_begun_while_ami_was_down_shows_the_agent_talking(
    tmp_path: Path,
) -> None:
    # AMI is down when the agent answers: no DialEnd is heard, so the floor still has the agent
    # reserved. The resync after the reconnect finds the caller bridged and catches the answer
    # up: the agent is on_call while still talking, and the call row is answered.
    settings = floor_settings(1, ring_timeout_s=20.0)
    phone = settings.agents[0].endpoint
    talks = AgentBehaviour(answer_after=0.5, talk_time=30.0, hangs_up="agent")
    async with floor_harness(
        tmp_path, settings=settings, behaviour={phone: talks}, keep_events=True
    ) as h:
        agent = settings.agents[0].id
        h.sim.faults.refuse_ami()
        await h.wait_for(lambda: not h.daemon.ami.connected, "the link to go")
        await h.place(CallerBehaviour(number="5550501", hangup_after=None))
        await h.wait_for(lambda: bool(h.sim_events("BridgeEnter")), "the agent to answer")
        assert await _state(h, agent, "reserved")  # what the daemon knows without AMI
        assert not h.daemon.ami.connected
        h.sim.faults.refuse_ami(on=False)
        await h.wait_for(lambda: h.daemon.watcher.resyncs == 2, "the resync after reconnect")
        await h.wait_for(lambda: _state(h, agent, "on_call"), "the agent shown talking")
        assert h.daemon.watcher.answers_caught_up == 1
        assert h.sim.pbx.channels()  # still talking: shown on_call during the call, not after
        await h.wait_for(h.quiet, "the call to end", limit_s=12.0)
        await h.stop_daemon()
    [(outcome, agent_id, answered)] = h.rows(
        "select outcome, agent_id, answered_at is not null from calls"
    )
    assert (outcome, agent_id, answered) == ("answered", agent, 1)


async def _state(h: Harness, agent: str, state: str) -> bool:
    return (await h.agent_states())[agent] == state


@pytest.mark.asyncio
async def test_a_whole_call_without_ami_is_timed_from_the_dial_result(tmp_path: Path) -> None:
    # No DialEnd is ever heard: the answer and the talk come from the one GET FULL VARIABLE
    # after the Dial (DIALSTATUS and ANSWEREDTIME together).
    settings = floor_settings(1, ring_timeout_s=20.0)
    phone = settings.agents[0].endpoint
    talks = AgentBehaviour(answer_after=0.5, talk_time=2.0, hangs_up="agent")
    # real time: the daemon times the Dial with its own clock
    async with floor_harness(
        tmp_path, settings=settings, behaviour={phone: talks}, time_scale=1.0
    ) as h:
        h.sim.faults.refuse_ami()
        await h.wait_for(lambda: not h.daemon.ami.connected, "the link to go")
        await h.place(CallerBehaviour(number="5550502", hangup_after=None))
        await h.wait_for(lambda: h.daemon.outputs.outcomes["answered"] == 1, "the call over", 15)
        await h.stop_daemon()
    [(outcome, agent_id, answered, ended)] = h.rows(
        "select outcome, agent_id, answered_at, ended_at from calls"
    )
    assert (outcome, agent_id) == ("answered", settings.agents[0].id)
    talk = datetime.fromisoformat(ended) - datetime.fromisoformat(answered)
    # from the Dial's start (ANSWEREDTIME is the caller's up time since the IVR answered): the
    # 2 s talk and the 0.5 s ring, never the caller's time before the Dial
    assert 2.0 <= talk.total_seconds() <= 3.5


def test_without_ami_the_answer_is_never_before_the_dial() -> None:
    # ANSWEREDTIME is the caller's up time: 30 s of IVR and waiting before a 5 s Dial
    ivr_then_dial = DialResult("ANSWER", ended_at=100.0, talk_s=35.0, caller_gone=False,
                               started_at=95.0)  # fmt: skip
    assert ivr_then_dial.answered_at() == 95.0
    # a caller answered by the Dial itself (not ours, but what ANSWEREDTIME means then)
    answered_by_dial = DialResult("ANSWER", ended_at=100.0, talk_s=3.0, caller_gone=False,
                                  started_at=95.0)  # fmt: skip
    assert answered_by_dial.answered_at() == 97.0
