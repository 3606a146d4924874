"""Graceful stop hands callers still waiting to the dialplan's plain Queue(): nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.ivr_port import Features, IvrOutcome
from acd.engine.floor_inputs import AgentAction
from acd.settings import names
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import WAIT_LIMIT_S, floor_harness


@pytest.mark.asyncio
async def test_graceful_stop_hands_waiting_callers_to_the_fallback_queue(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=1, keep_events=True) as h:
        agent = h.settings.agents[0].id
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "meeting")
        for i in range(2):
            await h.place(CallerBehaviour(number=f"555080{i}", hangup_after=None))
        await h.wait_for(
            lambda: h.floor(lambda f, _now: len(f.router.waiting_calls()) == 2), "two waiting"
        )
        await h.stop_daemon()
        # no daemon takes their resume attempts (refused, music between them), then the
        # simulator's fallback Queue() takes both (its member is not paused there)
        every_attempt = names.RESUME_ATTEMPTS * names.RESUME_RETRY_WAIT_S + WAIT_LIMIT_S
        await h.wait_for(
            lambda: len(h.sim_events("QueueCallerJoin")) == 2, "fallback queueing", every_attempt
        )
        refused = [
            m
            for m in h.sim_events("VarSet")
            if m.get("Variable") == "AGISTATUS" and m.get("Value") == "FAILURE"
        ]
        assert len(refused) == 2 * names.RESUME_ATTEMPTS  # the stopping daemon took none
        await h.wait_for(lambda: len(h.sim_events("AgentConnect")) == 2, "both answered", 15)
        outcomes = h.rows("SELECT outcome, hung_up_by FROM calls ORDER BY id")
        assert outcomes == [("fallback", "system"), ("fallback", "system")]


class _BrokenIvr:
    """An IVR with a bug: the daemon must not hang up on the caller because of it."""

    def language(self, session: AgiSession) -> str:
        return "zh"

    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool, language: str
    ) -> IvrOutcome:
        raise RuntimeError("a bug in the IVR")


@pytest.mark.asyncio
async def test_a_bug_in_the_call_flow_leaves_the_caller_to_the_dialplan_queue(
    tmp_path: Path,
) -> None:
    broken = _BrokenIvr()
    features = Features(ivr=lambda _sessions: broken)
    async with floor_harness(tmp_path, agents=1, features=features, keep_events=True) as h:
        await h.place(CallerBehaviour(number="5550900", hangup_after=None))
        # HOTLINE_DONE never set: each resume meets the same bug (a caller never queued runs
        # the IVR again), then the simulator's dialplan runs the plain Queue()
        await h.wait_for(lambda: len(h.sim_events("QueueCallerJoin")) == 1, "fallback queueing")
        await h.wait_for(lambda: len(h.sim_events("AgentConnect")) == 1, "answered there", 15)
        await h.stop_daemon()
        assert h.rows("SELECT outcome FROM calls") == [("fallback",)]
