"""Graceful stop hands callers still waiting to the dialplan's plain Queue(): nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.engine.agent_fsm import AgentInput
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import floor_harness


@pytest.mark.asyncio
async def test_graceful_stop_hands_waiting_callers_to_the_fallback_queue(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=1, keep_events=True) as h:
        agent = h.settings.agents[0].id
        await h.daemon.acd.agent_input(agent, AgentInput.PAUSE, "meeting")
        for i in range(2):
            await h.place(CallerBehaviour(number=f"555080{i}", hangup_after=None))
        await h.wait_for(
            lambda: h.floor(lambda f, _now: len(f.router.waiting_calls()) == 2), "two waiting"
        )
        await h.stop_daemon()
        # the simulator's fallback Queue() must take both (its member is not paused there)
        await h.wait_for(lambda: len(h.sim_events("QueueCallerJoin")) == 2, "fallback queueing")
        await h.wait_for(lambda: len(h.sim_events("AgentConnect")) == 2, "both answered", 15)
        outcomes = h.rows("SELECT outcome, hung_up_by FROM calls ORDER BY id")
        assert outcomes == [("fallback", "system"), ("fallback", "system")]
