"""The daemon unreachable, killed, restarted or stopped: calls still reach agents, and a
restarted daemon rebuilds its view without releasing anything that is alive."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.engine.floor_inputs import AgentAction
from acd.sim.faults import FaultPlan
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import floor_harness


@pytest.mark.asyncio
async def test_unreachable_daemon_calls_go_to_the_dialplan_queue(tmp_path: Path) -> None:
    # AGISTATUS=FAILURE (connect refused): the dialplan runs plain Queue() and a member answers.
    async with floor_harness(
        tmp_path, agents=2, faults=FaultPlan(refuse_agi=True), keep_events=True
    ) as h:
        await h.place(CallerBehaviour(number="5550501", hangup_after=None))
        await h.wait_for(lambda: bool(h.sim_events("AgentConnect")), "a queue member to answer")
        await h.wait_for(h.quiet, "the call to end")
        [join] = h.sim_events("QueueCallerJoin")
        assert join.get("Queue") == h.settings.default_queue
        assert len(h.daemon.registry) == 0
        await h.stop_daemon()
    assert h.rows("select count(*) from calls") == [(0,)]  # the daemon never saw it


@pytest.mark.asyncio
async def test_killed_daemon_fallback_then_restart_rebuilds_the_floor(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=2, keep_events=True) as h:
        await h.place(CallerBehaviour(number="5550601", hangup_after=None))
        await h.wait_for(h.quiet, "the first call to end")
        await h.kill_daemon()
        # Nothing listens on the FastAGI port now: the connect is refused, Queue() takes it.
        await h.place(CallerBehaviour(number="5550602", hangup_after=None))
        await h.wait_for(lambda: bool(h.sim_events("AgentConnect")), "a queue member to answer")
        # Restarted while that fallback call is still talking: the new daemon must not
        # release anything (it owns no call) and must route new calls again.
        restarted = await h.start_daemon()
        assert restarted.watcher.released == 0
        assert len(restarted.registry) == 0
        # Restored as the killed daemon left them (one may still be in its wrap-up), then ready.
        async def all_ready() -> bool:
            return set((await h.agent_states()).values()) == {"ready"}

        await h.wait_for(all_ready, "every agent ready")
        await h.place(CallerBehaviour(number="5550603", hangup_after=None))
        await h.wait_for(h.quiet, "every call to end")
        assert restarted.watcher.released == 0
        await h.stop_daemon()
    rows = dict(h.rows("select caller_number, outcome from calls"))
    assert rows == {"5550601": "answered", "5550603": "answered"}
    # The agent state log continues across the restart: the clean stop closed every interval,
    # and no two intervals of an agent overlap (the kill's were closed at the last time known).
    assert h.rows("select count(*) from agent_state_log where ended_at is null") == [(0,)]
    intervals = h.rows(
        "select agent_id, started_at, ended_at from agent_state_log order by agent_id, started_at, id"
    )
    for (a, _s1, end), (b, start, _e2) in zip(intervals, intervals[1:], strict=False):
        assert a != b or end <= start


@pytest.mark.asyncio
async def test_graceful_stop_with_callers_waiting_writes_every_call(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=1) as h:
        agent = h.settings.agents[0].id
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "meeting")
        for i in range(3):
            await h.place(CallerBehaviour(number=f"555070{i}", hangup_after=None))
        await h.wait_for(
            lambda: h.floor(lambda f, _now: len(f.router.waiting_calls()) == 3),
            "three callers waiting",
        )
        await h.stop_daemon()
    rows = h.rows("select caller_number, outcome, queued_at is not null, ended_at from calls")
    assert sorted(r[0] for r in rows) == ["5550700", "5550701", "5550702"]
    for _number, outcome, queued, ended in rows:
        assert outcome is not None
        assert queued == 1
        assert ended is not None
