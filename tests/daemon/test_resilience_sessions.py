"""Agent sessions across daemon runs: a crash's open intervals, a report around a restart, a
phone lost meanwhile, a conversation that outlives a killed daemon."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.engine.floor_inputs import AgentAction
from acd.reports.build import build_report
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.daemon.harness import FAST_AGENT, Harness, floor_harness, floor_settings

LONG_TALK = AgentBehaviour(answer_after=0.5, talk_time=40.0, hangs_up="agent")


async def state_is(h: Harness, agent: str, state: str) -> bool:
    return (await h.agent_states())[agent] == state


@pytest.mark.asyncio
async def test_a_report_over_a_closed_period_is_the_same_before_and_after_a_restart(
    tmp_path: Path,
) -> None:
    async with floor_harness(tmp_path, agents=2) as h:
        started = datetime.now(UTC)
        paused = h.settings.agents[1].id
        await h.daemon.acd.agent_input(paused, AgentAction.PAUSE, "training")
        await h.place(CallerBehaviour(number="5550901", hangup_after=None))
        await h.wait_for(h.quiet, "the call to end")
        await h.stop_daemon()
        period_end = datetime.now(UTC)  # the period closes between the stop and the start
        url = f"sqlite+aiosqlite:///{h.db_path}"
        before = await build_report(url, start=started, end=period_end, by="agent")
        await h.start_daemon()
        assert (await h.agent_states())[paused] == "paused"
        await h.place(CallerBehaviour(number="5550902", hangup_after=None))
        await h.wait_for(h.quiet, "the next call to end")
        await h.stop_daemon()
    after = await build_report(url, start=started, end=period_end, by="agent")
    assert after == before
    assert before.total.calls == 1
    assert [r.occupancy is not None for r in before.rows] == [True]


@pytest.mark.asyncio
async def test_after_a_crash_open_intervals_close_at_the_last_time_known(tmp_path: Path) -> None:
    async with floor_harness(tmp_path, agents=2) as h:
        ready, paused = (a.id for a in h.settings.agents)
        await h.daemon.acd.agent_input(paused, AgentAction.PAUSE, "training")
        await h.daemon.writer.wait_drained()
        await h.kill_daemon()  # no clean stop: the intervals stay open
        [(open_before,)] = h.rows("select count(*) from agent_state_log where ended_at is null")
        [(beat,)] = h.rows("select seen_at from daemon_heartbeats")
        [(last_change,)] = h.rows("select max(started_at) from agent_state_log")
        restarted = await h.start_daemon(login=False)  # nothing logs them in but the restore
        assert restarted.restored is not None
        assert restarted.restored.agents == 2
        closed_at = restarted.restored.closed_at
        assert closed_at is not None
        known = max(datetime.fromisoformat(beat), datetime.fromisoformat(last_change))
        assert closed_at == known.replace(tzinfo=UTC)
        states = await h.floor(
            lambda f, _now: {a: (r.state.value, r.pause_reason) for a, r in f.agents.items()}
        )
        assert states == {ready: ("ready", None), paused: ("paused", "training")}
        await h.stop_daemon()
    assert open_before == 2
    closed = h.rows(
        "select agent_id, state from agent_state_log where ended_at = ? order by agent_id, id",
        (max(beat, last_change),),  # as SQLite stores it
    )
    # the paused agent's ready interval ended at the pause, which is also the last time known
    assert closed == [(ready, "ready"), (paused, "ready"), (paused, "paused")]
    reopened = h.rows(
        "select agent_id, state, reason from agent_state_log where started_at > ? "
        "order by agent_id",
        (max(beat, last_change),),
    )
    assert reopened == [(ready, "ready", None), (paused, "paused", "training")]


@pytest.mark.asyncio
async def test_a_phone_unregistered_while_the_daemon_was_down_pauses_its_restored_agent(
    tmp_path: Path,
) -> None:
    async with floor_harness(tmp_path, agents=2) as h:
        lost, fine = h.settings.agents
        await h.stop_daemon()
        h.sim.faults.phone_unreachable(lost.endpoint)  # DeviceStateList says UNAVAILABLE now
        await h.start_daemon(login=False)
        states = await h.floor(
            lambda f, _now: {a: (r.state.value, r.pause_reason) for a, r in f.agents.items()}
        )
        assert states == {lost.id: ("paused", "phone-unavailable"), fine.id: ("ready", None)}
        h.sim.faults.phone_reachable(lost.endpoint)
        await h.wait_for(lambda: state_is(h, lost.id, "ready"), "the phone back, the agent ready")
        await h.stop_daemon()
    assert h.sessions() == [
        (lost.id, "ready", None),
        (fine.id, "ready", None),
    ]


@pytest.mark.asyncio
async def test_killed_mid_conversation_the_restarted_daemon_keeps_the_agent_talking(
    tmp_path: Path,
) -> None:
    settings = floor_settings(2)
    talker, other = (a.id for a in settings.agents)
    phones = {a.endpoint: FAST_AGENT for a in settings.agents}
    phones[settings.agents[0].endpoint] = LONG_TALK
    async with floor_harness(tmp_path, settings=settings, behaviour=phones) as h:
        await h.daemon.acd.agent_input(other, AgentAction.PAUSE, "meeting")
        await h.place(CallerBehaviour(number="5551101", hangup_after=None))
        await h.wait_for(lambda: state_is(h, talker, "on_call"), "the agent talking")
        await h.daemon.acd.agent_input(other, AgentAction.UNPAUSE)
        await h.daemon.writer.wait_drained()
        await h.sigkill_daemon()  # the bridge stays up in Asterisk (RECORDED q2 d)

        restarted = await h.start_daemon(login=False)
        assert restarted.restored is not None
        assert restarted.restored.talking == 1
        assert await h.agent_states() == {talker: "on_call", other: "ready"}
        await h.place(CallerBehaviour(number="5551102", hangup_after=None))
        await h.wait_for(lambda: state_is(h, talker, "ready"), "the talk to end", limit_s=12.0)
        await h.wait_for(h.quiet, "every call to end")
        await h.stop_daemon()
    assert h.rows("select agent_id, outcome from calls where caller_number = '5551102'") == [
        (other, "answered")
    ]
    assert h.rows("select count(*) from agent_state_log where ended_at is null") == [(0,)]


@pytest.mark.asyncio
async def test_killed_during_wrap_up_the_restarted_daemon_keeps_what_is_left_of_it(
    tmp_path: Path,
) -> None:
    # The wrap-up deadline rides on the wrap_up interval (one row write per change): the crash
    # leaves it open, the next start closes it and takes the agent back in wrap-up.
    settings = floor_settings(1, wrap_up_s=60.0)
    [agent] = (a.id for a in settings.agents)
    async with floor_harness(tmp_path, settings=settings) as h:
        await h.place(CallerBehaviour(number="5551301", hangup_after=None))
        await h.wait_for(lambda: state_is(h, agent, "wrap_up"), "the agent in wrap-up")
        await h.daemon.writer.wait_drained()
        await h.sigkill_daemon()
        [(state, due, call_queue)] = h.rows(
            "select state, wrap_up_due, queue from agent_state_log where ended_at is null"
        )
        restarted = await h.start_daemon(login=False)
        assert restarted.restored is not None
        assert restarted.restored.agents == 1
        left = await h.floor(
            lambda f, now: (f.agents[agent].state.value, (f.agents[agent].wrap_up_due or 0) - now)
        )
        await h.stop_daemon()
    [(queue,)] = h.rows("select queue from calls where caller_number = '5551301'")
    assert (state, call_queue) == ("wrap_up", queue)
    assert due is not None
    assert left[0] == "wrap_up"
    assert 0 < left[1] < 60.0  # what was left of it, not a new wrap-up


@pytest.mark.asyncio
async def test_killed_during_a_ring_the_agent_is_restored_busy_and_offered_once_free(
    tmp_path: Path,
) -> None:
    # A ring is not stored (one row write per change, issue 13): the agent's session is its
    # ready interval. The restored agent's phone still has the old daemon's Dial on it, so it
    # is restored busy (a call outside this daemon) and offered nothing until the phone is
    # free; the next caller waits for it, not dropped.
    settings = floor_settings(2, ring_timeout_s=60.0)
    ringer, other = (a.id for a in settings.agents)
    phones = {a.endpoint: FAST_AGENT for a in settings.agents}
    phones[settings.agents[0].endpoint] = AgentBehaviour(
        answer_after=40.0, talk_time=30.0, hangs_up="agent"
    )
    async with floor_harness(tmp_path, settings=settings, behaviour=phones) as h:
        await h.daemon.acd.agent_input(other, AgentAction.PAUSE, "meeting")
        await h.place(CallerBehaviour(number="5551401", hangup_after=None))
        await h.wait_for(lambda: state_is(h, ringer, "reserved"), "the agent's phone ringing")
        await h.daemon.writer.wait_drained()
        await h.sigkill_daemon()  # the ringing Dial goes on in Asterisk (RECORDED q2 c2)
        restarted = await h.start_daemon(login=False)
        assert restarted.restored is not None
        assert (restarted.restored.agents, restarted.restored.talking) == (2, 1)
        await h.place(CallerBehaviour(number="5551402", hangup_after=None))

        async def waiting() -> bool:
            return await h.floor(lambda f, _now: f.router.waiting_count() == 1)

        await h.wait_for(waiting, "the second caller on the floor")
        assert await h.agent_states() == {ringer: "on_call", other: "paused"}  # not offered
        await h.wait_for(
            lambda: state_is(h, ringer, "on_call"), "the phone free, then offered", limit_s=15.0
        )
        await h.wait_for(h.quiet, "every call to end", limit_s=15.0)
        await h.stop_daemon()
    assert h.rows("select agent_id, outcome from calls where caller_number = '5551402'") == [
        (ringer, "answered")
    ]
