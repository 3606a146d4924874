"""Agent sessions across daemon runs: a crash's open intervals, a report around a restart, a
phone lost meanwhile, a conversation that outlives a killed daemon."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.engine.floor_inputs import AgentAction
from acd.reports import queries
from acd.reports.build import build_report, state_seconds
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from acd.storage.engine import create_engine
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
    harness = floor_harness(tmp_path, settings=settings, behaviour=phones, keep_events=True)
    async with harness as h:
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
        # the first caller's talk outlived the daemon: DIALSTATUS=ANSWER ends it in the
        # dialplan, not offered to a daemon again (no HOTLINE_DONE is needed for it)
        [first] = {e.get("Channel") for e in h.sim_events("AGIExecStart")
                   if "5551101" in (e.get("CallerIDNum") or "")}  # fmt: skip
        after = [e.get("Application") for e in h.sim_events("Newexten")
                 if e.get("Channel") == first and e.get("Context") == "hotline-resume"]  # fmt: skip
    assert "Hangup" in after
    assert "AGI" not in after
    assert h.rows("select agent_id, outcome from calls where caller_number = '5551102'") == [
        (other, "answered")
    ]
    assert h.rows("select count(*) from agent_state_log where ended_at is null") == [(0,)]


@pytest.mark.asyncio
async def test_killed_during_wrap_up_the_restarted_daemon_keeps_what_is_left_of_it(
    tmp_path: Path,
) -> None:
    # The wrap-up is on the call's row (calls.agent_legs: the leg's end and its deadline; no
    # agent state write, issue 13). SIGKILL during it: the next start lays the leg over the
    # agent's stored ready session and takes the agent back in wrap-up until the deadline; the
    # report counts the talk and the wrap-up up to the kill (the last time known), then the
    # restored wrap-up, as the stored intervals did before.
    settings = floor_settings(1, wrap_up_s=60.0)
    [agent] = (a.id for a in settings.agents)
    async with floor_harness(tmp_path, settings=settings) as h:
        started = datetime.now(UTC)
        await h.place(CallerBehaviour(number="5551301", hangup_after=None))
        await h.wait_for(lambda: state_is(h, agent, "wrap_up"), "the agent in wrap-up")
        await h.daemon.writer.wait_drained()
        await h.sigkill_daemon()
        [(state,)] = h.rows("select state from agent_state_log where ended_at is null")
        [(legs, row_due)] = h.rows(
            "select agent_legs, wrap_up_due from calls where caller_number = '5551301'"
        )
        restarted = await h.start_daemon(login=False)
        assert restarted.restored is not None
        assert restarted.restored.agents == 1
        left = await h.floor(
            lambda f, now: (f.agents[agent].state.value, (f.agents[agent].wrap_up_due or 0) - now)
        )
        await h.stop_daemon()
        ended = datetime.now(UTC)
    assert state == "ready"  # the log's latest interval: the conversation is not in it
    [leg] = json.loads(legs)
    assert leg["agent_id"] == agent
    assert row_due is not None
    talk_end, due = (datetime.fromisoformat(leg[k]) for k in ("ended_at", "wrap_up_due"))
    assert (due - talk_end).total_seconds() == pytest.approx(60.0, abs=1e-3)
    assert left[0] == "wrap_up"
    assert 0 < left[1] < 60.0  # what was left of it, not a new wrap-up
    # the report: the killed daemon's part from the row (talk, then wrap-up up to the close of
    # the ready interval at the last time known), the restarted one's from its own interval
    url = f"sqlite+aiosqlite:///{h.db_path}"
    engine = create_engine(url)
    async with engine.connect() as conn:
        logged = await queries.fetch_logged_states(conn, started, ended)
        states = await queries.fetch_states(conn, started, ended)
    await engine.dispose()
    closed = next(r.ended_at for r in logged if r.state == "ready")  # the crash's close
    assert closed is not None
    assert closed >= talk_end  # no earlier than the leg's end (the last time known)
    mine = [(r.state, r.started_at, r.ended_at) for r in states if r.agent_id == agent]
    assert mine[:2] == [
        ("ready", mine[0][1], datetime.fromisoformat(leg["answered_at"])),
        ("on_call", datetime.fromisoformat(leg["answered_at"]), talk_end),
    ]
    [restored] = [r for r in logged if r.state == "wrap_up"]  # the restarted daemon's
    seconds = state_seconds(states, started, ended, ended, agent)
    before_kill = max(0.0, (min(closed, due) - talk_end).total_seconds())
    after = ((restored.ended_at or ended) - restored.started_at).total_seconds()
    assert seconds["wrap_up"] == pytest.approx(before_kill + after)
    assert seconds["on_call"] == pytest.approx((talk_end - mine[1][1]).total_seconds())


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
