"""The daemon unreachable, killed, restarted or stopped: calls still reach agents, and a
restarted daemon rebuilds its view without releasing anything that is alive."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.daemon.sessions import Restored
from acd.engine.floor_inputs import AgentAction
from acd.sim.faults import FaultPlan
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.harness import FAST_AGENT, Harness, floor_harness, floor_settings


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
        "select agent_id, started_at, ended_at from agent_state_log "
        "order by agent_id, started_at, id"
    )
    for (a, _s1, end), (b, start, _e2) in itertools.pairwise(intervals):
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


LONG_TALK = AgentBehaviour(answer_after=0.5, talk_time=40.0, hangs_up="agent")


async def _state(h: Harness, agent: str, state: str) -> bool:
    return (await h.agent_states())[agent] == state


@pytest.mark.asyncio
async def test_restart_under_traffic_keeps_every_login_and_the_talking_agent_busy(
    tmp_path: Path,
) -> None:
    # SIGTERM, then start: the paused agent keeps its reason, the agent in a conversation (it
    # goes on in Asterisk: the bridged Dial outlives the FastAGI session) is on_call and never
    # offered, and is ready once its phone hangs up.
    settings = floor_settings(3)
    talker, other, luncher = (a.id for a in settings.agents)
    phones = {a.endpoint: FAST_AGENT for a in settings.agents}
    phones[settings.agents[0].endpoint] = LONG_TALK
    async with floor_harness(tmp_path, settings=settings, behaviour=phones) as h:
        await h.daemon.acd.agent_input(luncher, AgentAction.PAUSE, "lunch")
        await h.daemon.acd.agent_input(other, AgentAction.PAUSE, "meeting")
        await h.place(CallerBehaviour(number="5550801", hangup_after=None))
        await h.wait_for(lambda: _state(h, talker, "on_call"), "the first agent talking")
        await h.daemon.acd.agent_input(other, AgentAction.UNPAUSE)
        await h.stop_daemon()
        stopped_at = datetime.now(UTC)

        restarted = await h.start_daemon()  # logs in the configured agents who are out
        assert restarted.restored == Restored(3, 1, None, asterisk=True)
        states = await h.floor(
            lambda f, _now: {a: (r.state.value, r.pause_reason) for a, r in f.agents.items()}
        )
        assert states == {
            talker: ("on_call", None),
            other: ("ready", None),
            luncher: ("paused", "lunch"),
        }
        await h.place(CallerBehaviour(number="5550802", hangup_after=None))
        await h.wait_for(lambda: _state(h, talker, "ready"), "the talk to end", limit_s=12.0)
        await h.wait_for(h.quiet, "every call to end")
        await h.stop_daemon()
    assert h.rows("select agent_id, outcome from calls where caller_number = '5550802'") == [
        (other, "answered")
    ]
    assert h.sessions() == sorted(
        [(talker, "ready", None), (other, "ready", None), (luncher, "paused", "lunch")]
    )
    assert h.rows("select count(*) from agent_state_log where ended_at is null") == [(0,)]
    # Intervals closed at the stop and reopened at the start: none spans the gap.
    spanning = h.rows(
        "select count(*) from agent_state_log where started_at < ? and ended_at > ?",
        (stopped_at.isoformat(), stopped_at.isoformat()),
    )
    assert spanning == [(0,)]
    talks = h.rows(
        "select count(*) from agent_state_log where agent_id = ? and state = 'on_call'", (talker,)
    )
    assert talks == [(1,)]  # restored after the stop (a call outside this daemon)
    # before the stop: the conversation on the call's row, held open at the stop (issue 13)
    [(legs,)] = h.rows("select agent_legs from calls where caller_number = '5550801'")
    [leg] = json.loads(legs)
    assert (leg["agent_id"], leg["ended_at"], leg["wrap_up_due"]) == (talker, None, None)
