"""A daemon starting while AMI is down restores its agents from the database alone, and the
resync once AMI is back reconciles them with Asterisk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.daemon.sessions import Restored
from acd.engine.floor_inputs import AgentAction
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import FAST_AGENT, floor_harness, floor_settings
from tests.daemon.test_resilience_sessions import LONG_TALK, state_is


@pytest.mark.asyncio
async def test_restored_without_asterisk_the_resync_ends_a_conversation_that_is_over(
    tmp_path: Path,
) -> None:
    # AMI is down at the start: the stored conversation is taken to go on (the agent is not
    # offered); once AMI is back, the resync finds no channel on the phone and frees the agent.
    settings = floor_settings(2)
    talker, other = (a.id for a in settings.agents)
    phones = {a.endpoint: FAST_AGENT for a in settings.agents}
    phones[settings.agents[0].endpoint] = LONG_TALK
    async with floor_harness(tmp_path, settings=settings, behaviour=phones) as h:
        await h.daemon.acd.agent_input(other, AgentAction.PAUSE, "meeting")
        await h.place(CallerBehaviour(number="5551201", hangup_after=None))
        await h.wait_for(lambda: state_is(h, talker, "on_call"), "the agent talking")
        await h.stop_daemon()
        h.sim.faults.refuse_ami()
        old = h.daemon
        starting = asyncio.create_task(h.start_daemon(login=False))
        await h.wait_for(
            lambda: h.daemon is not old and h.daemon.started.is_set(),
            "the restore without Asterisk",
        )
        assert h.daemon.restored == Restored(2, 1, None, asterisk=False)
        assert await h.agent_states() == {talker: "on_call", other: "paused"}
        await h.wait_for(lambda: not h.sim.pbx.channels(), "the talk to end", limit_s=12.0)
        h.sim.faults.refuse_ami(on=False)
        await starting
        await h.wait_for(lambda: state_is(h, talker, "ready"), "the resync to free the agent")
        await h.stop_daemon()
    states = h.rows(
        "select state from agent_state_log where agent_id = ? order by started_at, id", (talker,)
    )
    assert [s for (s,) in states][-3:] == ["on_call", "wrap_up", "ready"]
