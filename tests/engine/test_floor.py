"""The floor keeps agents' state machines and the router in step, with time as data."""

from __future__ import annotations

import pytest

from acd.engine.agent_fsm import AgentInput, AgentState
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged, Offer
from acd.engine.model import AgentSpec, QueueSpec, RelaxRule, WaitingCall

I = AgentInput  # noqa: E741


def make_floor(wrap_up_s: float = 10.0, misses: int = 2) -> Floor:
    queues = [
        QueueSpec(
            "orders", "orders", min_level=3, wrap_up_s=wrap_up_s, ring_timeout_rings=3,
            ring_cadence_s=5.0, auto_pause_misses=misses, relax=(RelaxRule(10.0, 1),),
        ),
    ]  # fmt: skip
    agents = [
        AgentSpec("alice", "PJSIP/1001", {"orders": 5}),
        AgentSpec("bob", "PJSIP/1002", {"orders": 1}),
    ]
    return Floor(queues, agents)


def offers(effects: list[object]) -> list[Offer]:
    return [e for e in effects if isinstance(e, Offer)]


def test_waiting_caller_is_offered_to_the_agent_who_logs_in() -> None:
    floor = make_floor()
    assert floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0) == []
    effects = floor.agent_input("alice", I.LOGIN, 1.0)
    (offer,) = offers(effects)
    assert (offer.call_id, offer.agent_id, offer.endpoint) == ("c1", "alice", "PJSIP/1001")
    assert offer.ring_timeout_s == 15.0
    assert floor.status["alice"].state is AgentState.RESERVED


def test_low_level_agent_gets_the_caller_only_after_relaxing() -> None:
    floor = make_floor()
    floor.agent_input("bob", I.LOGIN, 0.0)
    assert offers(floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)) == []
    assert floor.next_deadline() == 10.0
    assert offers(floor.tick(9.9)) == []
    (offer,) = offers(floor.tick(10.0))
    assert offer.agent_id == "bob"


def test_ring_no_answer_offers_the_next_agent_and_auto_pauses_after_misses() -> None:
    floor = make_floor(misses=1)
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.agent_input("bob", I.LOGIN, 0.0)
    (first,) = offers(floor.caller_arrived(WaitingCall("c1", "orders", 0.0, min_level=1), 0.0))
    effects = floor.offer_failed("c1", 15.0)
    (second,) = offers(effects)
    assert second.agent_id != first.agent_id
    missed = floor.status[first.agent_id]
    assert missed.state is AgentState.PAUSED
    assert missed.pause_reason == "missed-offers"
    assert any(isinstance(e, AgentChanged) and e.auto_paused for e in effects)


def test_call_end_wrap_up_then_ready_and_next_caller() -> None:
    floor = make_floor(wrap_up_s=10.0)
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)
    floor.offer_answered("c1", 3.0)
    assert floor.status["alice"].state is AgentState.ON_CALL
    assert floor.caller_arrived(WaitingCall("c2", "orders", 5.0), 5.0) == []
    floor.call_ended("c1", 63.0)
    assert floor.status["alice"].state is AgentState.WRAP_UP
    assert floor.next_deadline() == 73.0
    (offer,) = offers(floor.tick(73.0))
    assert offer.call_id == "c2"
    # handle time = 60 s talk + 10 s wrap-up feeds the estimate
    assert floor.handle_times.of("orders", "alice") == pytest.approx(70.0)


def test_pause_while_ringing_is_kept_until_the_call_ends() -> None:
    floor = make_floor()
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)
    assert floor.agent_input("alice", I.PAUSE, 1.0, reason="break") == []
    assert floor.status["alice"].state is AgentState.RESERVED
    floor.offer_answered("c1", 2.0)
    assert floor.status["alice"].state is AgentState.ON_CALL  # a call cannot be paused
    floor.call_ended("c1", 60.0)
    paused = floor.status["alice"]
    assert (paused.state, paused.pause_reason) == (AgentState.PAUSED, "break")


def test_a_phone_blip_while_ringing_leaves_the_agent_routable() -> None:
    floor = make_floor()
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)
    floor.device_state("PJSIP/1001", False, 1.0)
    floor.device_state("PJSIP/1001", True, 1.5)
    floor.offer_failed("c1", 15.0)
    status = floor.status["alice"]
    assert status.reachable
    assert "alice" in floor.router.ready


def test_caller_hanging_up_during_ring_frees_the_agent_at_once() -> None:
    floor = make_floor()
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)
    floor.caller_left("c1", 4.0)
    assert floor.status["alice"].state is AgentState.READY
    assert floor.engaged_agent("c1") is None
    (offer,) = offers(floor.caller_arrived(WaitingCall("c2", "orders", 5.0), 5.0))
    assert offer.agent_id == "alice"


def test_unreachable_phone_is_not_routable_until_it_returns() -> None:
    floor = make_floor()
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.device_state("PJSIP/1001", False, 1.0)
    assert offers(floor.caller_arrived(WaitingCall("c1", "orders", 2.0), 2.0)) == []
    (offer,) = offers(floor.device_state("PJSIP/1001", True, 3.0))
    assert offer.agent_id == "alice"


def test_estimate_uses_live_handle_times_of_eligible_agents() -> None:
    floor = make_floor()
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)  # alice rings
    floor.caller_arrived(WaitingCall("c2", "orders", 1.0, min_level=5), 1.0)
    floor.handle_times.record("orders", "alice", 120.0)
    # one eligible agent busy with c1, c2 first in line: one completion at 1/120 per second
    assert floor.estimate_wait("c2") == pytest.approx(120.0)
    assert floor.estimate_wait("nobody") is None


def test_supervisor_assignment_rings_the_named_agent_or_says_why_not() -> None:
    from acd.engine.routing import AssignmentError

    floor = make_floor()
    floor.agent_input("bob", I.LOGIN, 0.0)
    floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)  # bob (level 1) not eligible yet
    with pytest.raises(AssignmentError) as refused:
        floor.assign("c1", "alice", 1.0)
    assert refused.value.reason == "agent-not-ready"
    (offer,) = offers(floor.assign("c1", "bob", 1.0))
    assert (offer.call_id, offer.agent_id) == ("c1", "bob")
    with pytest.raises(AssignmentError) as gone:
        floor.assign("nobody", "bob", 2.0)
    assert gone.value.reason == "caller-gone"


def test_a_call_lost_mid_conversation_releases_the_agent() -> None:
    """The FastAGI session can die while agent and caller talk (connection lost, a bug): the
    call flow's final release must end the call, not leave the agent on_call for ever."""
    floor = make_floor(wrap_up_s=0.0)
    floor.agent_input("alice", I.LOGIN, 0.0)
    floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0)
    floor.offer_answered("c1", 2.0)
    floor.caller_left("c1", 50.0)
    assert floor.status["alice"].state is AgentState.READY
    assert floor.engaged_calls() == []
    # the normal end arriving afterwards (or twice) changes nothing
    assert floor.call_ended("c1", 51.0) == []
    assert floor.caller_left("c1", 52.0) == []


def test_a_caller_missed_by_the_only_agent_is_offered_to_it_again_after_a_ring_timeout() -> None:
    floor = make_floor(misses=0)  # never auto-pause
    floor.agent_input("alice", I.LOGIN, 0.0)
    (first,) = offers(floor.caller_arrived(WaitingCall("c1", "orders", 0.0), 0.0))
    assert offers(floor.offer_failed("c1", 15.0)) == []  # not straight back to the same phone
    assert floor.next_deadline() == 30.0  # one ring timeout (3 rings x 5 s) later
    assert offers(floor.tick(29.0)) == []
    (again,) = offers(floor.tick(30.0))
    assert (again.call_id, again.agent_id) == ("c1", first.agent_id)
