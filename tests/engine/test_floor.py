"""Agent state machines and the router together: offers, misses, auto-pause, wrap-up, devices."""

from __future__ import annotations

import pytest

from acd.engine.agent_fsm import (
    AgentInput,
    AgentState,
    AutoPaused,
    StartWrapUpTimer,
    StateChanged,
)
from acd.engine.estimate import HandleTimes
from acd.engine.floor import Floor
from acd.engine.model import AgentSpec, QueueSpec, WaitingCall
from acd.engine.routing import AssignmentError

I = AgentInput  # noqa: E741
SALES = QueueSpec("sales", "sales", wrap_up_s=30.0, auto_pause_misses=2)


def floor(*ids: str) -> Floor:
    return Floor([SALES], [AgentSpec(a, f"PJSIP/{a}", {"sales": 1}) for a in ids])


def test_offer_answer_wrap_up_and_back_to_ready() -> None:
    f = floor("a1")
    f.agent_event("a1", I.LOGIN, 0.0)
    f.caller_arrived(WaitingCall("c1", "sales", 1.0))
    made, effects = f.route(1.0)
    assert [(a.call_id, a.agent_id) for a in made] == [("c1", "a1")]
    assert StateChanged("a1", AgentState.READY, AgentState.RESERVED, "offer", 1.0) in effects
    f.agent_event("a1", I.ANSWER, 4.0)
    effects = f.agent_event("a1", I.CALL_END, 100.0)
    assert StartWrapUpTimer("a1", 130.0) in effects
    f.caller_arrived(WaitingCall("c2", "sales", 110.0))
    assert f.route(110.0)[0] == []  # in wrap-up: not routable
    f.agent_event("a1", I.WRAP_UP_END, 130.0)
    made, _ = f.route(130.0)
    assert [a.call_id for a in made] == ["c2"]


def test_missed_offers_go_to_the_next_agent_then_auto_pause() -> None:
    f = floor("a1", "a2")
    f.agent_event("a1", I.LOGIN, 0.0)
    f.caller_arrived(WaitingCall("c1", "sales", 1.0))
    f.caller_arrived(WaitingCall("c2", "sales", 2.0))
    assert [a.agent_id for a in f.route(2.0)[0]] == ["a1"]
    f.agent_event("a1", I.RING_NO_ANSWER, 20.0)  # strike 1: c1 back in place, a1 ready
    made, _ = f.route(20.0)
    assert [(a.call_id, a.agent_id) for a in made] == [("c2", "a1")]
    effects = f.agent_event("a1", I.RING_NO_ANSWER, 38.0)  # strike 2: auto-pause
    assert AutoPaused("a1", 2) in effects
    assert f.status["a1"].state is AgentState.PAUSED
    assert f.route(38.0)[0] == []
    f.agent_event("a2", I.LOGIN, 40.0)
    made, _ = f.route(40.0)
    assert [(a.call_id, a.agent_id) for a in made] == [("c1", "a2")]
    assert f.router.waiting_count() == 1  # c2 still waits: a1 refused it, a2 is busy


def test_caller_hangs_up_while_ringing() -> None:
    f = floor("a1")
    f.agent_event("a1", I.LOGIN, 0.0)
    f.caller_arrived(WaitingCall("c1", "sales", 1.0))
    f.route(1.0)
    f.caller_left("c1", 3.0)
    assert f.status["a1"].state is AgentState.READY
    assert f.status["a1"].misses == 0
    assert f.router.waiting_count() == 0
    assert "a1" in f.router.ready


def test_unreachable_device_is_skipped_and_comes_back() -> None:
    f = floor("a1", "a2")
    f.agent_event("a1", I.LOGIN, 0.0)
    f.agent_event("a2", I.LOGIN, 1.0)
    f.agent_event("a1", I.DEVICE_UNREACHABLE, 2.0)
    f.caller_arrived(WaitingCall("c1", "sales", 3.0))
    assert [a.agent_id for a in f.route(3.0)[0]] == ["a2"]
    f.agent_event("a1", I.DEVICE_REACHABLE, 4.0)
    f.caller_arrived(WaitingCall("c2", "sales", 5.0))
    assert [a.agent_id for a in f.route(5.0)[0]] == ["a1"]


def test_supervisor_assign_explains_why_not() -> None:
    f = floor("a1", "a2")
    f.caller_arrived(WaitingCall("c1", "sales", 1.0))
    f.route(1.0)
    with pytest.raises(AssignmentError) as err:
        f.assign("c1", "a1", 2.0)
    assert err.value.reason == "agent-logged-out"
    f.agent_event("a1", I.LOGIN, 3.0)
    f.agent_event("a1", I.PAUSE, 3.0, reason="lunch")
    with pytest.raises(AssignmentError) as err:
        f.assign("c1", "a1", 4.0)
    assert err.value.reason == "agent-not-ready"
    assert "paused" in str(err.value)
    f.agent_event("a1", I.UNPAUSE, 5.0)
    assert f.route(5.0)[0][0].agent_id == "a1"  # the router got there first
    f.add_agent(AgentSpec("lead", "PJSIP/lead", {}))  # no sales skill: never routed to
    f.agent_event("lead", I.LOGIN, 6.0)
    f.caller_arrived(WaitingCall("c2", "sales", 6.0))
    assert f.route(6.0)[0] == []
    assignment, effects = f.assign("c2", "lead", 7.0)
    assert assignment.agent_id == "lead"
    assert f.status["lead"].state is AgentState.RESERVED
    assert StateChanged("lead", AgentState.READY, AgentState.RESERVED, "offer", 7.0) in effects


def test_estimated_wait_uses_eligible_working_agents_of_the_queue() -> None:
    f = floor("a1", "a2", "a3")
    times = HandleTimes(default_s=300.0)
    times.record("sales", "a1", 60.0)
    times.record("other", "a2", 1.0)  # another queue's handle time does not count
    for agent in ("a1", "a2", "a3"):
        f.agent_event(agent, I.LOGIN, 0.0)
    f.agent_event("a3", I.PAUSE, 0.5, reason="lunch")  # paused: not counted
    for n in range(4):
        f.caller_arrived(WaitingCall(f"c{n}", "sales", float(n)))
    f.route(4.0)  # a1 and a2 take c0 and c1; c2 and c3 wait
    # a1 (60 s) and a2 (300 s default): rate 1/60 + 1/300 = 1/50 per second.
    assert f.estimated_wait("c2", 6.0, times) == pytest.approx(50.0)
    assert f.estimated_wait("c3", 6.0, times) == pytest.approx(100.0)  # one caller ahead
