"""The floor keeps agents' state machines and the router in step, with time as data."""

from __future__ import annotations

import pytest

from acd.engine.agent import AgentState, DeviceState, InvalidTransition
from acd.engine.estimate import DEFAULT_HANDLE_S
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged, FloorEffect, Offer
from acd.engine.floor_inputs import (
    AgentAction,
    AgentRequest,
    Assign,
    CallEnded,
    CallerArrived,
    CallerLeft,
    DeviceStateChanged,
    DeviceStatesUnknown,
    RingAnswered,
    RingFailed,
    Tick,
    UnknownAgent,
)
from acd.engine.model import AgentSpec, QueueSpec, RelaxRule, WaitingCall

A = AgentAction


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


def offers(effects: list[FloorEffect]) -> list[Offer]:
    return [e for e in effects if isinstance(e, Offer)]


def arrive(floor: Floor, call: WaitingCall, now: float) -> list[FloorEffect]:
    return floor.handle(CallerArrived(call), now)


def ask(
    floor: Floor, agent: str, action: AgentAction, now: float, reason: str | None = None
) -> list[FloorEffect]:
    return floor.handle(AgentRequest(agent, action, reason), now)


def device(floor: Floor, name: str, state: DeviceState, now: float) -> list[FloorEffect]:
    return floor.handle(DeviceStateChanged(name, state), now)


def test_waiting_caller_is_offered_to_the_agent_who_logs_in() -> None:
    floor = make_floor()
    assert arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0) == []
    effects = ask(floor, "alice", A.LOGIN, 1.0)
    (offer,) = offers(effects)
    assert (offer.call_id, offer.agent_id, offer.endpoint) == ("c1", "alice", "PJSIP/1001")
    assert offer.ring_timeout_s == 15.0
    assert floor.agents["alice"].state is AgentState.RESERVED


def test_low_level_agent_gets_the_caller_only_after_relaxing() -> None:
    floor = make_floor()
    ask(floor, "bob", A.LOGIN, 0.0)
    assert offers(arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)) == []
    assert floor.next_deadline() == 10.0
    assert offers(floor.handle(Tick(), 9.9)) == []
    (offer,) = offers(floor.handle(Tick(), 10.0))
    assert offer.agent_id == "bob"


def test_ring_no_answer_offers_the_next_agent_and_auto_pauses_after_misses() -> None:
    floor = make_floor(misses=1)
    ask(floor, "alice", A.LOGIN, 0.0)
    ask(floor, "bob", A.LOGIN, 0.0)
    (first,) = offers(arrive(floor, WaitingCall("c1", "orders", 0.0, min_level=1), 0.0))
    effects = floor.handle(RingFailed("c1"), 15.0)
    (second,) = offers(effects)
    assert second.agent_id != first.agent_id
    missed = floor.agents[first.agent_id]
    assert missed.state is AgentState.PAUSED
    assert missed.pause_reason == "missed-offers"
    assert any(isinstance(e, AgentChanged) and e.auto_paused for e in effects)


def test_call_end_wrap_up_then_ready_and_next_caller() -> None:
    floor = make_floor(wrap_up_s=10.0)
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    floor.handle(RingAnswered("c1"), 3.0)
    assert floor.agents["alice"].state is AgentState.ON_CALL
    assert arrive(floor, WaitingCall("c2", "orders", 5.0), 5.0) == []
    floor.handle(CallEnded("c1"), 63.0)
    assert floor.agents["alice"].state is AgentState.WRAP_UP
    assert floor.next_deadline() == 73.0
    (offer,) = offers(floor.handle(Tick(), 73.0))
    assert offer.call_id == "c2"
    # handle time = 60 s talk + 10 s wrap-up feeds the estimate
    assert floor.handle_times.of("orders", "alice") == pytest.approx(70.0)


def test_pause_while_ringing_is_kept_until_the_call_ends() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    assert ask(floor, "alice", A.PAUSE, 1.0, reason="break") == []
    assert floor.agents["alice"].state is AgentState.RESERVED
    floor.handle(RingAnswered("c1"), 2.0)
    assert floor.agents["alice"].state is AgentState.ON_CALL  # a call cannot be paused
    floor.handle(CallEnded("c1"), 60.0)
    paused = floor.agents["alice"]
    assert (paused.state, paused.pause_reason) == (AgentState.PAUSED, "break")


def test_a_phone_blip_while_ringing_leaves_the_agent_routable() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    device(floor, "PJSIP/1001", DeviceState.UNAVAILABLE, 1.0)
    device(floor, "PJSIP/1001", DeviceState.NOT_INUSE, 1.5)
    floor.handle(RingFailed("c1"), 15.0)
    agent = floor.agents["alice"]
    assert (agent.state, agent.device) == (AgentState.READY, DeviceState.NOT_INUSE)
    assert "alice" in floor.router.ready


def test_caller_hanging_up_during_ring_frees_the_agent_at_once() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    floor.handle(CallerLeft("c1"), 4.0)
    assert floor.agents["alice"].state is AgentState.READY
    assert floor.engaged_agent("c1") is None
    (offer,) = offers(arrive(floor, WaitingCall("c2", "orders", 5.0), 5.0))
    assert offer.agent_id == "alice"


def test_unreachable_phone_is_not_routable_until_it_returns() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    device(floor, "PJSIP/1001", DeviceState.UNAVAILABLE, 1.0)
    assert offers(arrive(floor, WaitingCall("c1", "orders", 2.0), 2.0)) == []
    (offer,) = offers(device(floor, "PJSIP/1001", DeviceState.NOT_INUSE, 3.0))
    assert offer.agent_id == "alice"


def test_estimate_uses_live_handle_times_of_eligible_agents() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)  # alice rings
    arrive(floor, WaitingCall("c2", "orders", 1.0, min_level=5), 1.0)
    floor.handle_times.record("orders", "alice", 120.0)
    # one eligible agent busy with c1, c2 first in line: one completion at 1/120 per second
    assert floor.estimate_wait("c2") == pytest.approx(120.0)
    assert floor.estimate_wait("nobody") is None


def test_estimates_between_two_inputs_share_one_scan_and_follow_the_next_input() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    ask(floor, "bob", A.LOGIN, 0.0)
    ask(floor, "alice", A.PAUSE, 0.5, reason="lunch")
    arrive(floor, WaitingCall("c1", "orders", 1.0, min_level=5), 1.0)  # only alice could
    arrive(floor, WaitingCall("c2", "orders", 1.0), 1.0)  # bob rings
    assert floor.staff("orders") == ("alice", "bob")
    assert floor.estimate_wait("c1") == floor.estimate_wait("c1")
    # c1 is estimated from every agent holding the skill who is on the floor (bob, on a ring)
    assert floor.estimate_wait("c1") == pytest.approx(DEFAULT_HANDLE_S)
    ask(floor, "bob", A.LOGOUT, 2.0)  # the next input: bob is leaving, alice is paused
    assert floor.estimate_wait("c1") is None  # nobody on the floor could take it
    ask(floor, "alice", A.UNPAUSE, 4.0)  # alice is offered c1 at once
    assert floor.estimate_wait("c1") is None  # not waiting any more


def test_supervisor_assignment_rings_the_named_agent_or_says_why_not() -> None:
    from acd.engine.routing import AssignmentError

    floor = make_floor()
    ask(floor, "bob", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)  # bob (level 1) not eligible yet
    with pytest.raises(AssignmentError) as refused:
        floor.handle(Assign("c1", "alice"), 1.0)
    assert refused.value.reason == "agent-not-ready"
    (offer,) = offers(floor.handle(Assign("c1", "bob"), 1.0))
    assert (offer.call_id, offer.agent_id) == ("c1", "bob")
    with pytest.raises(AssignmentError) as gone:
        floor.handle(Assign("nobody", "bob"), 2.0)
    assert gone.value.reason == "caller-gone"


def test_a_call_lost_mid_conversation_releases_the_agent() -> None:
    """The FastAGI session can die while agent and caller talk (connection lost, a bug): the
    call flow's final release must end the call, not leave the agent on_call for ever."""
    floor = make_floor(wrap_up_s=0.0)
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    floor.handle(RingAnswered("c1"), 2.0)
    floor.handle(CallerLeft("c1"), 50.0)
    assert floor.agents["alice"].state is AgentState.READY
    assert floor.engaged_calls() == []
    # the normal end arriving afterwards (or twice) changes nothing
    assert floor.handle(CallEnded("c1"), 51.0) == []
    assert floor.handle(CallerLeft("c1"), 52.0) == []


def test_a_caller_missed_by_the_only_agent_is_offered_to_it_again_after_a_ring_timeout() -> None:
    floor = make_floor(misses=0)  # never auto-pause
    ask(floor, "alice", A.LOGIN, 0.0)
    (first,) = offers(arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0))
    assert offers(floor.handle(RingFailed("c1"), 15.0)) == []  # not straight back to the same phone
    assert floor.next_deadline() == 30.0  # one ring timeout (3 rings x 5 s) later
    assert offers(floor.handle(Tick(), 29.0)) == []
    (again,) = offers(floor.handle(Tick(), 30.0))
    assert (again.call_id, again.agent_id) == ("c1", first.agent_id)


def test_an_agent_whose_phone_is_still_in_use_after_the_call_waits_for_not_inuse() -> None:
    floor = make_floor(wrap_up_s=0.0)
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    floor.handle(RingAnswered("c1"), 1.0)
    device(floor, "PJSIP/1001", DeviceState.INUSE, 1.1)  # during the call: kept for its end
    floor.handle(CallEnded("c1"), 30.0)
    assert floor.agents["alice"].state is AgentState.READY
    assert offers(arrive(floor, WaitingCall("c2", "orders", 31.0), 31.0)) == []
    (offer,) = offers(device(floor, "PJSIP/1001", DeviceState.NOT_INUSE, 32.0))
    assert (offer.call_id, offer.agent_id) == ("c2", "alice")


def test_asterisk_saying_in_use_before_the_daemon_knows_keeps_the_agent_from_offers() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    device(floor, "PJSIP/1001", DeviceState.RINGING, 1.0)  # a call the daemon did not place
    assert offers(arrive(floor, WaitingCall("c1", "orders", 2.0), 2.0)) == []
    assert floor.agents["alice"].state is AgentState.READY


def test_a_local_endpoint_gets_the_device_state_asterisk_names_without_the_option() -> None:
    floor = Floor(
        [QueueSpec("orders", "orders")],
        [AgentSpec("carol", "Local/1003@agent-phones/n", {"orders": 1})],
    )
    ask(floor, "carol", A.LOGIN, 0.0)
    device(floor, "Local/1003@agent-phones", DeviceState.UNAVAILABLE, 1.0)
    agent = floor.agents["carol"]
    assert (agent.state, agent.pause_reason) == (AgentState.PAUSED, "phone-unavailable")
    assert device(floor, "Local/1003@agent-phones/n", DeviceState.NOT_INUSE, 2.0) == []


def test_the_ami_link_lost_makes_devices_unknown_but_keeps_a_phone_pause() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    ask(floor, "bob", A.LOGIN, 0.0)
    device(floor, "PJSIP/1001", DeviceState.INUSE, 1.0)  # its NOT_INUSE will be lost
    device(floor, "PJSIP/1002", DeviceState.UNAVAILABLE, 1.0)
    floor.handle(DeviceStatesUnknown(), 2.0)
    assert floor.agents["alice"].device is DeviceState.UNKNOWN
    assert "alice" in floor.router.ready
    bob = floor.agents["bob"]
    assert (bob.state, bob.pause_reason) == (AgentState.PAUSED, "phone-unavailable")
    device(floor, "PJSIP/1002", DeviceState.NOT_INUSE, 3.0)  # the resync reports it back
    assert floor.agents["bob"].routable


def test_requests_while_ringing_wait_for_the_dial_and_a_miss_is_not_undone() -> None:
    floor = make_floor(misses=1)
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    assert ask(floor, "alice", A.UNPAUSE, 1.0) == []  # waits: the Dial decides first
    effects = floor.handle(RingFailed("c1", "NOANSWER"), 15.0)
    changes = [(e.old, e.new, e.reason) for e in effects if isinstance(e, AgentChanged)]
    assert changes == [
        (AgentState.RESERVED, AgentState.PAUSED, "missed-offers"),
        (AgentState.PAUSED, AgentState.READY, "unpause"),
    ]


def test_refused_inputs_raise_and_change_nothing() -> None:
    floor = make_floor()
    with pytest.raises(UnknownAgent):
        ask(floor, "mallory", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    with pytest.raises(ValueError, match="already on the floor"):
        arrive(floor, WaitingCall("c1", "orders", 1.0), 1.0)
    assert [c.arrived_at for c in floor.router.waiting_calls()] == [0.0]
    with pytest.raises(InvalidTransition):
        ask(floor, "alice", A.UNPAUSE, 2.0)
    assert floor.agents["alice"].state is AgentState.LOGGED_OUT


def test_news_of_a_ring_already_over_is_ignored() -> None:
    floor = make_floor()
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    floor.handle(CallerLeft("c1"), 3.0)
    assert floor.handle(RingAnswered("c1"), 3.1) == []
    assert floor.handle(RingFailed("c1", "CANCEL"), 3.2) == []
    assert floor.agents["alice"].state is AgentState.READY


def test_a_wrap_up_ended_early_leaves_no_timer_behind() -> None:
    floor = make_floor(wrap_up_s=10.0)
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    floor.handle(RingAnswered("c1"), 1.0)
    floor.handle(CallEnded("c1"), 20.0)
    assert floor.next_deadline() == 30.0
    ask(floor, "alice", A.END_WRAP_UP, 22.0)
    assert floor.agents["alice"].state is AgentState.READY
    assert floor.next_deadline() is None
    assert floor.handle_times.of("orders", "alice") == pytest.approx(21.0)  # 19 s talk + 2 s


def test_a_call_ended_while_logging_out_counts_once_in_the_handle_time() -> None:
    floor = make_floor(wrap_up_s=0.0)
    ask(floor, "alice", A.LOGIN, 0.0)
    arrive(floor, WaitingCall("c1", "orders", 0.0), 0.0)
    floor.handle(RingAnswered("c1"), 1.0)
    ask(floor, "alice", A.LOGOUT, 5.0)
    floor.handle(CallEnded("c1"), 41.0)  # 40 s of talk, then logged out
    assert floor.agents["alice"].state is AgentState.LOGGED_OUT
    assert floor.handle_times.of("orders", "alice") == pytest.approx(40.0)
    ask(floor, "alice", A.LOGIN, 100.0)
    arrive(floor, WaitingCall("c2", "orders", 100.0), 100.0)
    floor.handle(RingAnswered("c2"), 101.0)
    ask(floor, "alice", A.LOGOUT, 102.0)  # the call goes on: nothing to count yet
    assert floor.handle_times.of("orders", "alice") == pytest.approx(40.0)
    floor.handle(CallEnded("c2"), 111.0)
    assert floor.handle_times.of("orders", "alice") == pytest.approx(40.0 + 0.2 * (10.0 - 40.0))
