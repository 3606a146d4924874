"""Agent sessions taken back at start: the stored session and Asterisk's channels decide, the
floor restores the record, and a restored conversation ends with the phone."""

from __future__ import annotations

import pytest

from acd.engine import journal
from acd.engine.agent import PHONE_UNAVAILABLE_REASON, AgentState, DeviceState
from acd.engine.floor_effects import AgentChanged, FloorEffect, Offer
from acd.engine.floor_inputs import (
    AgentAction,
    AgentRequest,
    CallerArrived,
    DeviceStateChanged,
    FloorInput,
    OutsideCallEnded,
    RestoreAgent,
    Tick,
)
from acd.engine.model import WaitingCall
from acd.engine.sessions import AgentSession, StoredLeg, restore_inputs, session_of, with_calls
from tests.engine.test_floor import make_floor

S = AgentState


def stored(agent: str, state: AgentState, **kw: object) -> AgentSession:
    return AgentSession(agent, state, **kw)  # type: ignore[arg-type]


def test_restore_rules_from_the_stored_session_and_the_phones() -> None:
    sessions = {
        "out": stored("out", S.LOGGED_OUT),
        "ready": stored("ready", S.READY),
        "paused": stored("paused", S.PAUSED, reason="lunch"),
        "talking": stored("talking", S.ON_CALL, call_id="c1", queue="orders"),
        "ended": stored("ended", S.ON_CALL, call_id="c2", queue="orders"),
        "ringing": stored("ringing", S.RESERVED, call_id="c3", queue="orders"),
        "leaving": stored("leaving", S.PENDING_LOGOUT, call_id="c4"),
        "left": stored("left", S.PENDING_LOGOUT, call_id="c5"),
        "wrapping": stored("wrapping", S.WRAP_UP, wrap_up_due=130.0, queue="orders"),
        "wrapped": stored("wrapped", S.WRAP_UP, wrap_up_due=90.0, queue="orders"),
    }
    busy = {"talking": "u1", "ringing": "u3", "leaving": "u4", "ready": "u9"}
    got = {i.agent_id: i for i in restore_inputs(sessions, busy, now=100.0)}
    assert "out" not in got
    assert "left" not in got
    # stored ready with a call on the phone (the answer's write lost with the daemon): busy
    assert got["ready"] == RestoreAgent("ready", S.ON_CALL, outside_call="u9")
    assert got["paused"] == RestoreAgent("paused", S.PAUSED, reason="lunch")
    assert got["talking"] == RestoreAgent("talking", S.ON_CALL, queue="orders", outside_call="u1")
    assert got["ringing"].state is S.ON_CALL
    assert got["ringing"].outside_call == "u3"
    assert got["ended"] == RestoreAgent("ended", S.READY, queue="orders")
    assert got["leaving"].state is S.PENDING_LOGOUT
    assert got["leaving"].outside_call == "u4"
    assert got["wrapping"] == RestoreAgent(
        "wrapping", S.WRAP_UP, wrap_up_left_s=30.0, queue="orders"
    )
    assert got["wrapped"] == RestoreAgent("wrapped", S.READY, queue="orders")


def test_without_asterisk_a_stored_conversation_is_taken_to_go_on() -> None:
    sessions = {"talking": stored("talking", S.ON_CALL, call_id="c1")}
    [inp] = restore_inputs(sessions, None, now=0.0)
    assert inp.state is S.ON_CALL
    assert inp.outside_call == "c1"


def _changes(effects: list[FloorEffect]) -> list[tuple[str, S, S]]:
    return [(e.agent_id, e.old, e.new) for e in effects if isinstance(e, AgentChanged)]


def test_a_restored_talking_agent_is_never_offered_until_the_phone_hangs_up() -> None:
    floor = make_floor(wrap_up_s=10.0)
    effects = floor.handle(RestoreAgent("alice", S.ON_CALL, queue="orders", outside_call="u1"), 5.0)
    assert _changes(effects) == [("alice", S.LOGGED_OUT, S.ON_CALL)]
    effects = floor.handle(CallerArrived(WaitingCall("c1", "orders", 6.0, 0)), 6.0)
    assert not [e for e in effects if isinstance(e, Offer)]
    assert session_of(floor, "alice").call_id == "u1"
    # the phone is free again: the conversation is over, wrap-up, then the waiting caller
    effects = floor.handle(DeviceStateChanged("PJSIP/1001", DeviceState.NOT_INUSE), 20.0)
    assert _changes(effects) == [("alice", S.ON_CALL, S.WRAP_UP)]
    assert floor.agents["alice"].outside_call is None
    effects = floor.handle(Tick(), 30.0)
    assert [e.agent_id for e in effects if isinstance(e, Offer)] == ["alice"]


def test_the_outside_call_ends_once_and_a_link_loss_does_not_end_it() -> None:
    floor = make_floor(wrap_up_s=0.0)
    floor.handle(RestoreAgent("bob", S.PENDING_LOGOUT, outside_call="u2"), 1.0)
    floor.handle(DeviceStateChanged("PJSIP/1002", DeviceState.UNKNOWN), 2.0)
    assert floor.agents["bob"].state is S.PENDING_LOGOUT
    effects = floor.handle(OutsideCallEnded("bob"), 3.0)
    assert _changes(effects) == [("bob", S.PENDING_LOGOUT, S.LOGGED_OUT)]
    assert floor.handle(OutsideCallEnded("bob"), 4.0) == []


def test_restore_keeps_pause_reasons_and_wrap_up_and_applies_the_device_rules() -> None:
    floor = make_floor(wrap_up_s=10.0)
    floor.handle(DeviceStateChanged("PJSIP/1002", DeviceState.UNAVAILABLE), 0.0)
    floor.handle(RestoreAgent("alice", S.WRAP_UP, wrap_up_left_s=4.0, queue="orders"), 1.0)
    effects = floor.handle(RestoreAgent("bob", S.READY), 1.0)
    assert floor.agents["bob"].state is S.PAUSED
    assert floor.agents["bob"].pause_reason == PHONE_UNAVAILABLE_REASON
    assert [e.auto_paused for e in effects if isinstance(e, AgentChanged)] == [True]
    assert floor.next_deadline() == 5.0
    assert _changes(floor.handle(Tick(), 5.0)) == [("alice", S.WRAP_UP, S.READY)]


def test_only_a_logged_out_agent_is_restored() -> None:
    floor = make_floor()
    floor.handle(AgentRequest("alice", AgentAction.LOGIN), 0.0)
    with pytest.raises(ValueError, match="not restorable"):
        floor.handle(RestoreAgent("alice", S.PAUSED, reason="x"), 1.0)
    assert floor.agents["alice"].state is S.READY


def test_restores_replay_from_the_journal() -> None:
    inputs: list[tuple[FloorInput, float]] = [
        (RestoreAgent("alice", S.ON_CALL, queue="orders", outside_call="u1"), 1.0),
        (RestoreAgent("bob", S.PAUSED, reason="lunch"), 1.0),
        (OutsideCallEnded("alice"), 2.0),
    ]
    lines = [journal.encode(inp, at) for inp, at in inputs]
    assert [journal.decode(line) for line in lines] == inputs
    live, replayed = make_floor(), make_floor()
    for inp, at in inputs:
        live.handle(inp, at)
    journal.replay(replayed, lines)
    assert {a: (r.state, r.pause_reason) for a, r in live.agents.items()} == {
        a: (r.state, r.pause_reason) for a, r in replayed.agents.items()
    }


# -- the conversations and wrap-ups on the calls rows (issue 13) -------------------------------


def leg(agent: str, answered: float, ended: float | None, due: float | None) -> StoredLeg:
    return StoredLeg(agent, f"call-{answered:g}", "orders", answered, ended, due)


def test_an_open_leg_since_the_stored_ready_is_a_conversation() -> None:
    sessions = with_calls({"a1": stored("a1", S.READY, since=10.0)}, [leg("a1", 20.0, None, None)])
    assert sessions["a1"] == AgentSession("a1", S.ON_CALL, None, 20.0, None, "call-20", "orders")
    # restored talking while its phone has a channel, ready once it has none
    [talking] = restore_inputs(sessions, {"a1": "chan-1"}, 100.0)
    assert (talking.state, talking.outside_call) == (S.ON_CALL, "chan-1")
    [free] = restore_inputs(sessions, {}, 100.0)
    assert free.state is S.READY


def test_an_ended_leg_is_wrap_up_until_its_deadline_then_ready() -> None:
    stored_ = {"a1": stored("a1", S.READY, since=10.0)}
    sessions = with_calls(stored_, [leg("a1", 20.0, 50.0, 110.0)])
    assert (sessions["a1"].state, sessions["a1"].wrap_up_due) == (S.WRAP_UP, 110.0)
    [left] = restore_inputs(sessions, {}, 100.0)
    assert (left.state, left.wrap_up_left_s) == (S.WRAP_UP, 10.0)
    [over] = restore_inputs(sessions, {}, 120.0)
    assert over.state is S.READY
    # no wrap-up time (the deadline is the end): ready as stored
    assert with_calls(stored_, [leg("a1", 20.0, 50.0, 50.0)]) == stored_


def test_a_change_stored_after_the_answer_wins_over_the_leg() -> None:
    # a ready pressed early (or any change) after the call: the log is newer than the leg
    early = {"a1": stored("a1", S.READY, since=60.0)}
    assert with_calls(early, [leg("a1", 20.0, 50.0, 110.0)]) == early
    # a pause, a pending logout, a logout: not laid over
    for state in (S.PAUSED, S.PENDING_LOGOUT, S.LOGGED_OUT):
        kept = {"a1": stored("a1", state, since=10.0)}
        assert with_calls(kept, [leg("a1", 20.0, None, None)]) == kept
    # no stored session: nothing to lay it over (the agent was never logged in here)
    assert with_calls({}, [leg("a1", 20.0, None, None)]) == {}


def test_the_latest_leg_of_each_agent_counts() -> None:
    stored_ = {"a1": stored("a1", S.READY, since=10.0), "a2": stored("a2", S.READY, since=10.0)}
    legs = [leg("a1", 20.0, 30.0, 200.0), leg("a1", 40.0, None, None), leg("a2", 15.0, 25.0, 35.0)]
    sessions = with_calls(stored_, legs)
    assert sessions["a1"].state is S.ON_CALL
    assert sessions["a2"].state is S.WRAP_UP
