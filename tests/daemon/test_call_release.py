"""The floor hears that a caller left exactly once per call, however the call ended: abandoned
in the queue, a missed ring, answered, a call-back booked. Real daemon, real simulator."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from acd.app.daemon import Daemon
from acd.engine.floor_inputs import AgentAction
from acd.settings.schema_routing import OverflowStep
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.flow_daemon import FlowSetup, flow_daemon, flow_settings
from tests.daemon.harness import Harness, floor_harness, floor_settings

MISSES_ONCE = AgentBehaviour(answer_after=0.5, answer_probability=0.0)


def count_releases(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every ``caller_left`` the floor's owner task is sent, by call id."""
    released: Counter[str] = Counter()
    acd = daemon.acd
    left = acd.caller_left

    def spy(call_id: str) -> None:
        released[call_id] += 1
        left(call_id)

    monkeypatch.setattr(acd, "caller_left", spy)
    return released


async def _waiting(h: Harness, count: int) -> bool:
    return bool(await h.floor(lambda f, _now: len(f.router.waiting_calls()) == count))


async def _engaged(h: Harness, count: int) -> bool:
    return bool(await h.floor(lambda f, _now: len(f.engaged_calls()) == count))


@pytest.mark.asyncio
async def test_abandoned_missed_and_answered_calls_are_each_released_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = floor_settings(2)
    first, second = settings.agents
    phones = {first.endpoint: MISSES_ONCE, second.endpoint: AgentBehaviour(answer_after=0.5)}
    async with floor_harness(tmp_path, settings=settings, behaviour=phones) as h:
        released = count_releases(h.daemon, monkeypatch)
        for agent in (first.id, second.id):
            await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "break")
        # Each caller hangs up once the step is reached, not after a fixed time: a loaded
        # machine once took longer than 2 s to queue the first (it was reported ivr_hangup).
        await h.place(CallerBehaviour(number="5551001", hangup_after=None))  # leaves the queue
        await h.wait_for(lambda: _waiting(h, 1), "the first caller queued")
        (caller,) = h.caller_channels()
        assert h.hang_up(caller)
        await h.wait_for(h.quiet, "the abandoned call to end")
        await h.daemon.acd.agent_input(first.id, AgentAction.UNPAUSE)
        await h.place(CallerBehaviour(number="5551002", hangup_after=None))  # rings, missed, left
        await h.wait_for(lambda: _engaged(h, 1), "the second caller offered")
        await h.wait_for(lambda: _engaged(h, 0), "the ring missed")
        (caller,) = h.caller_channels()
        assert h.hang_up(caller)
        await h.wait_for(h.quiet, "the missed call to end")
        await h.daemon.acd.agent_input(second.id, AgentAction.UNPAUSE)
        await h.place(CallerBehaviour(number="5551003", hangup_after=None))  # answered
        await h.wait_for(h.quiet, "the answered call to end")
        await h.stop_daemon()
    rows = dict(h.rows("select caller_number, outcome from calls"))
    assert rows == {"5551001": "abandoned", "5551002": "abandoned", "5551003": "answered"}
    call_ids = [c for (c,) in h.rows("select id from calls")]
    assert released == Counter(dict.fromkeys(call_ids, 1))
    rings = dict(h.rows("select caller_number, ring_count from calls"))
    assert rings["5551002"] >= 1  # the missed ring happened before the caller left


@pytest.mark.asyncio
async def test_a_call_back_booked_and_a_call_cut_by_the_stop_are_released_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ladder = {"enquiries": [OverflowStep(after_s=0.3, action="offer_callback")]}
    settings = flow_settings(tmp_path, 1, overflow=ladder)
    talks = AgentBehaviour(answer_after=0.5, talk_time=300.0, hangs_up="agent")
    async with floor_harness(tmp_path, settings=settings, behaviour=talks, start=False) as h:
        async with flow_daemon(h, FlowSetup()) as daemon:
            released = count_releases(daemon, monkeypatch)
            await h.place(CallerBehaviour(number="5551004", hangup_after=None))  # takes the agent
            await h.wait_for(lambda: any(c.state.talking for c in daemon.registry), "a talk")
            # the next caller is offered a call-back keeping the place, and books it ("1")
            await h.place(CallerBehaviour(number="5551005", prompt_answers=("1",)))
            await h.wait_for(lambda: len(daemon.registry.recent) == 1, "the call-back booking")
        # the daemon stopped with the first call still talking: it ends now, released too
        assert [c.outcome for c in daemon.registry.recent] == ["callback", "failed"]
    call_ids = [c for (c,) in h.rows("select id from calls")]
    assert len(call_ids) == 2
    assert released == Counter(dict.fromkeys(call_ids, 1))
