"""A call's timeline rides on its calls row writes (issue 13), no ``call_events`` rows: what the
database holds mid-conversation is what a SIGKILL at that moment would leave behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.harness import floor_harness

TALKS_LONG = AgentBehaviour(answer_after=0.3, talk_time=3600.0, hangs_up="agent")


def kinds(timeline: str) -> list[str]:
    steps = json.loads(timeline)
    assert [s["seq"] for s in steps] == sorted({s["seq"] for s in steps})
    return [s["kind"] for s in steps]


@pytest.mark.asyncio
async def test_the_row_holds_the_timeline_up_to_the_answer_while_talking_then_all_of_it(
    tmp_path: Path,
) -> None:
    async with floor_harness(tmp_path, agents=1, behaviour=TALKS_LONG) as h:
        await h.place(CallerBehaviour(number="5550800", hangup_after=None))
        daemon = h.daemon
        await h.wait_for(
            lambda: any(c.state.answered_at is not None for c in daemon.registry),
            "the agent to answer",
        )
        await daemon.writer.wait_drained()  # the answer's row write is committed
        # Read while the daemon runs: the state a SIGKILL now would leave.
        [(answered_at, outcome, timeline)] = h.rows(
            "select answered_at, outcome, timeline from calls"
        )
        assert answered_at is not None
        assert outcome is None
        assert kinds(timeline) == ["arrived", "ivr", "queued", "offered", "answered"]
        await h.sigkill_daemon()
        for channel in [c.name for c in h.sim.pbx.channels()]:
            h.hang_up(channel)
        await h.wait_for(lambda: not h.sim.pbx.has_channels(), "the channels to go")
    # The cancelled flow still ends its call: the last row write has the whole timeline.
    [(outcome, timeline)] = h.rows("select outcome, timeline from calls")
    assert outcome == "failed"
    assert kinds(timeline) == ["arrived", "ivr", "queued", "offered", "answered", "ended"]
    assert h.rows("select count(*) from call_events") == [(0,)]
