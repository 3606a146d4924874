"""A compressed day on the real daemon: ~100 short calls with missed rings, pauses and unpauses,
wrap-ups and callers who give up. At the end nothing may be stuck and every call is on record."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import datetime
from pathlib import Path

import pytest

from acd.engine.agent import InvalidTransition
from acd.engine.floor_inputs import AgentAction
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.harness import Harness, floor_harness, floor_settings

SEED = 20261123
CALLS = 100
AGENTS = 10
TIME_SCALE = 15.0
ARRIVALS_PER_S = 14.0  # wall-clock arrivals: ~7 s of traffic


def _phones(endpoints: list[str], rng: random.Random) -> dict[str, AgentBehaviour]:
    return {
        endpoint: AgentBehaviour(
            answer_after=round(rng.uniform(0.5, 2.5), 3),
            answer_probability=0.75,  # one ring in four is missed
            talk_time=round(rng.uniform(3.0, 9.0), 3),
            hangs_up="agent",
        )
        for endpoint in endpoints
    }


def _callers(rng: random.Random) -> list[tuple[float, CallerBehaviour]]:
    at = 0.0
    calls = []
    for i in range(CALLS):
        at += rng.expovariate(ARRIVALS_PER_S)
        patience = round(rng.uniform(2.0, 12.0), 3) if rng.random() < 0.3 else None
        calls.append((at, CallerBehaviour(number=f"139{i:08d}", hangup_after=patience)))
    return calls


async def _place_all(h: Harness, calls: list[tuple[float, CallerBehaviour]]) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for at, caller in calls:
        delay = start + at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await h.place(caller)


async def _supervise(h: Harness, rng: random.Random, placing: asyncio.Task[None]) -> int:
    """Agents take breaks and come back (auto-paused ones too) while calls arrive."""
    agents = [a.id for a in h.settings.agents]
    changes = 0
    while not placing.done():
        await asyncio.sleep(0.15)
        states = await h.agent_states()
        agent = rng.choice(agents)
        event = AgentAction.UNPAUSE if states[agent] == "paused" else AgentAction.PAUSE
        for paused in (a for a, s in states.items() if s == "paused" and rng.random() < 0.5):
            await _input(h, paused, AgentAction.UNPAUSE)
        changes += await _input(h, agent, event, "break" if event is AgentAction.PAUSE else None)
    return changes


async def _input(h: Harness, agent: str, event: AgentAction, reason: str | None = None) -> int:
    try:
        await h.daemon.acd.agent_input(agent, event, reason)
    except InvalidTransition:  # e.g. unpause of an agent who is ready again meanwhile
        return 0
    return 1


@pytest.mark.asyncio
async def test_a_compressed_day_leaves_nothing_stuck(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    settings = floor_settings(AGENTS, wrap_up_s=0.15, ring_timeout_s=4.0)
    phones = _phones([a.endpoint for a in settings.agents], rng)
    calls = _callers(rng)
    async with floor_harness(
        tmp_path, settings=settings, behaviour=phones, time_scale=TIME_SCALE, seed=SEED
    ) as h:
        placing = asyncio.create_task(_place_all(h, calls))
        changes = await _supervise(h, rng, placing)
        await placing
        for agent in [a for a, s in (await h.agent_states()).items() if s == "paused"]:
            await _input(h, agent, AgentAction.UNPAUSE)
        await h.wait_for(h.quiet, "the day's calls to end", limit_s=20.0)
        await h.wait_for(
            lambda: h.floor(lambda f, _now: f.next_deadline() is None), "wrap-ups to end"
        )
        states = await h.agent_states()
        assert not {"reserved", "on_call"} & set(states.values())
        assert await h.floor(lambda f, _now: f.router.waiting_calls()) == []
        assert len(h.daemon.registry) == 0
        outcomes = dict(h.daemon.outputs.outcomes)
        await h.stop_daemon()
    assert changes > 10  # the day really had pauses and unpauses
    rows = h.rows("select caller_number, count(*), min(outcome) from calls group by caller_number")
    assert len(rows) == CALLS == h.sim.calls_placed
    assert all(n == 1 and outcome is not None for _number, n, outcome in rows)
    # the mix the day was built to have: answers, callers giving up, and missed rings
    assert outcomes.get("answered", 0) > 0
    assert outcomes.get("abandoned", 0) > 0
    missed = h.rows("select count(*) from calls where ring_count > 1")[0][0]
    assert missed > 0
    _assert_no_overlapping_intervals(h)


def _assert_no_overlapping_intervals(h: Harness) -> None:
    rows = h.rows(
        "select agent_id, started_at, ended_at from agent_state_log order by agent_id, started_at"
    )
    by_agent: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for agent, started, ended in rows:
        by_agent.setdefault(agent, []).append(
            (datetime.fromisoformat(started), datetime.fromisoformat(ended) if ended else None)
        )
    assert len(by_agent) == AGENTS
    for agent, intervals in by_agent.items():
        # the clean stop closed every interval (the sessions stay for the next start)
        assert [e for _s, e in intervals].count(None) == 0, agent
        last_start, last_end = intervals[-1]
        assert last_end is not None
        assert last_start <= last_end, agent
        for (start, end), (next_start, _next_end) in itertools.pairwise(intervals):
            assert end is not None, agent
            assert start <= end <= next_start, agent
