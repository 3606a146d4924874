"""The daemon's process dies (SIGKILL) while callers wait: what Asterisk then does with them.

The simulator does what the recording shows (ami_daemon_killed_3_waiting.raw, and the dev
captures q2_agi_dies_ami*.txt): the FastAGI socket closing ends the pending WAIT FOR DIGIT at
once, AGI() returns AGISTATUS=SUCCESS and every variable the daemon set is kept. The shipped
dialplan then reads HOTLINE_HANDLED=1 (set at answer) as "done" and hangs the callers up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.engine.floor_inputs import AgentAction
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import floor_harness


@pytest.mark.xfail(
    strict=True,
    reason="issue 12 item 1: HOTLINE_HANDLED=1 is set at answer, so callers waiting when the "
    "daemon dies are hung up (AGISTATUS=SUCCESS) instead of reaching the fallback Queue()",
)
@pytest.mark.asyncio
async def test_callers_waiting_when_the_daemon_is_killed_reach_the_fallback_queue(
    tmp_path: Path,
) -> None:
    async with floor_harness(tmp_path, agents=1, keep_events=True) as h:
        agent = h.settings.agents[0].id
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "meeting")
        for i in range(2):
            await h.place(CallerBehaviour(number=f"555090{i}", hangup_after=None))
        await h.wait_for(
            lambda: h.floor(lambda f, _now: len(f.router.waiting_calls()) == 2), "two waiting"
        )
        await h.sigkill_daemon()
        # both leave [hotline] at once: to the fallback Queue(), or hung up
        await h.wait_for(lambda: not h.caller_channels(), "the callers to leave [hotline]")
        assert len(h.sim_events("QueueCallerJoin")) == 2
