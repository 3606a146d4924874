"""The daemon's process dies (SIGKILL) while callers wait: what Asterisk then does with them.

The simulator does what the recording shows (ami_daemon_killed_3_waiting.raw, and the dev
captures q2_agi_dies_ami*.txt): the FastAGI socket closing ends the pending WAIT FOR DIGIT at
once, AGI() returns AGISTATUS=SUCCESS and every variable the daemon set is kept. The shipped
dialplan does not read that as "done" (HOTLINE_DONE is set only when the daemon finished with
the caller, DIALSTATUS=ANSWER only after a conversation): ``[hotline-resume]`` offers them to a
daemon again, and with none listening, its plain Queue() takes them with the priority the
daemon gave them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.engine.floor_inputs import AgentAction
from acd.settings import names
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import floor_harness


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
        # no daemon listens: every resume attempt is refused, then the fallback Queue()
        await h.wait_for(
            lambda: len(h.sim_events("QueueCallerJoin")) == 2, "both in the fallback Queue()"
        )
        resumes = [
            m
            for m in h.sim_events("VarSet")
            if m.get("Variable") == names.VAR_RESUMES and m.get("Value") != "0"
        ]
        tries = {int(m.get("Value") or 0) for m in resumes}
        assert tries == set(range(1, names.RESUME_ATTEMPTS + 1))
        prios = [m for m in h.sim_events("VarSet") if m.get("Variable") == "QUEUE_PRIO"]
        queue = h.settings.default_queue
        expected = str(h.settings.queue(queue).priority)
        assert [m.get("Value") for m in prios] == [expected, expected]
        waiting = [c for c in h.sim.pbx.channels() if c.context == names.CONTEXT_FALLBACK]
        assert len(waiting) == 2  # still there, waiting in Queue(): nobody was hung up
