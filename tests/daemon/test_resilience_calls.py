"""Callers who leave early are released at once: no agent stays reserved, no caller queued.

Real daemon, real simulator, loopback sockets (tests/daemon/harness.py). After each hang-up the
floor must be clean, and a next call must still be answered, which fails if an agent were left
reserved for the caller who is gone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.engine.floor_inputs import AgentAction
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.harness import FAST_AGENT, Harness, floor_harness, floor_settings

NEVER_ANSWERS = AgentBehaviour(answer_after=None)


async def _assert_clean(h: Harness) -> None:
    await h.wait_for(h.quiet, "every call to be over")
    engaged = await h.floor(lambda f, _now: f.engaged_calls())
    waiting = await h.floor(lambda f, _now: f.router.waiting_calls())
    assert engaged == []
    assert waiting == []
    assert len(h.daemon.registry) == 0


async def _waiting(h: Harness, count: int) -> bool:
    return bool(await h.floor(lambda f, _now: len(f.router.waiting_calls()) == count))


async def _agent_is(h: Harness, agent_id: str, state: str) -> bool:
    return (await h.agent_states())[agent_id] == state


@pytest.mark.asyncio
async def test_caller_hanging_up_while_queued_is_released(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=1) as h:
        agent = h.settings.agents[0].id
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "break")
        await h.place(CallerBehaviour(number="5550001", hangup_after=2.0))
        await _assert_clean(h)
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        assert await _agent_is(h, agent, "ready")  # nothing was offered to the paused agent
        await h.place(CallerBehaviour(number="5550002", hangup_after=None))
        await _assert_clean(h)
        await h.stop_daemon()
    rows = dict(h.rows("select caller_number, outcome from calls"))
    assert rows == {"5550001": "abandoned", "5550002": "answered"}


@pytest.mark.asyncio
async def test_caller_hanging_up_while_the_agent_rings_frees_the_agent(tmp_path: Path) -> None:
    # A long ring limit (20 simulated s): the agent must be freed by the hang-up, not the limit.
    settings = floor_settings(1, ring_timeout_s=20.0)
    phone = settings.agents[0].endpoint
    async with floor_harness(tmp_path, settings=settings, behaviour={phone: NEVER_ANSWERS}) as h:
        agent = settings.agents[0].id
        await h.place(CallerBehaviour(number="5550003", hangup_after=3.0))
        await h.wait_for(lambda: _agent_is(h, agent, "reserved"), "the agent to ring")
        await _assert_clean(h)
        assert await _agent_is(h, agent, "ready")
        await h.stop_daemon()
    rows = h.rows("select outcome, ring_count, hung_up_by from calls")
    assert rows == [("abandoned", 1, "caller")]
    states = [s for (s,) in h.rows("select state from agent_state_log order by id")]
    assert states == ["ready"]  # a ring with no answer is stored as ready throughout (issue 13)


@pytest.mark.asyncio
async def test_hangup_during_an_agi_command_releases_queued_and_ringing_callers(
    tmp_path: Path,
) -> None:
    # hangup_in_agi: the caller hangs up while a blocking command runs, before its reply
    # (scenario D of ami_events_full_call.txt). With the agent paused that command is the
    # WAIT FOR DIGIT poll (queued); with the agent ready it is the EXEC Dial (ringing).
    settings = floor_settings(1, ring_timeout_s=20.0)
    phone = settings.agents[0].endpoint
    async with floor_harness(tmp_path, settings=settings, behaviour={phone: NEVER_ANSWERS}) as h:
        agent = settings.agents[0].id
        h.sim.faults.hangup_in_agi()
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "break")
        await h.place(CallerBehaviour(number="5550004", hangup_after=None))
        await _assert_clean(h)
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        await h.place(CallerBehaviour(number="5550005", hangup_after=None))
        await _assert_clean(h)
        assert await _agent_is(h, agent, "ready")
        h.sim.faults.clear()
        await h.stop_daemon()
    rows = dict(h.rows("select caller_number, outcome from calls"))
    assert rows == {"5550004": "abandoned", "5550005": "abandoned"}
    rings = dict(h.rows("select caller_number, ring_count from calls"))
    assert rings == {"5550004": 0, "5550005": 1}


@pytest.mark.asyncio
async def test_busy_floor_after_hang_ups_still_answers_everyone(tmp_path: Path) -> None:
    # Two agents, five callers: two leave while queued; the other three are all answered.
    # The two hang up once all five are queued (both agents on a break meanwhile), not after a
    # fixed patience: on a loaded machine a caller once ran out of it before being queued.
    async with floor_harness(tmp_path, agents=2, behaviour=FAST_AGENT) as h:
        agents = [a.id for a in h.settings.agents]
        for agent in agents:
            await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "break")
        for i in range(5):
            await h.place(CallerBehaviour(number=f"555010{i}", hangup_after=None))
        await h.wait_for(lambda: _waiting(h, 5), "all five callers queued")
        context = h.sim.plan.dialplan.context
        leaving = [
            c.name
            for c in h.sim.pbx.channels()
            if c.context == context and c.cid_num in ("5550102", "5550103")
        ]
        assert len(leaving) == 2
        for channel in leaving:
            assert h.hang_up(channel)
        await h.wait_for(lambda: _waiting(h, 3), "the two gone from the queue")
        for agent in agents:
            await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        await _assert_clean(h)
        await h.stop_daemon()
    rows = dict(h.rows("select caller_number, outcome from calls"))
    assert sorted(rows.values()) == ["abandoned", "abandoned", "answered", "answered", "answered"]
    assert {rows["5550102"], rows["5550103"]} == {"abandoned"}
