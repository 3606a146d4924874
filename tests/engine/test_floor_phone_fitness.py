"""An agent whose phone is unreachable or too slow (``PhoneFitness``) is paused with that reason
and unpaused when the phone is fit again, but only while still paused for it."""

from __future__ import annotations

import pytest

from acd.engine import journal
from acd.engine.agent import AgentState, DeviceState
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged, Offer
from acd.engine.floor_inputs import (
    AgentAction,
    AgentRequest,
    CallEnded,
    CallerArrived,
    DeviceStateChanged,
    PhoneFitness,
    RestoreAgent,
    RingAnswered,
    Tick,
    UnknownAgent,
)
from acd.engine.model import WaitingCall
from tests.engine.test_floor import make_floor

A = AgentAction
UNREACHABLE, SLOW = "phone-unreachable", "phone-slow"


def state(floor: Floor, agent: str = "alice") -> tuple[AgentState, str | None]:
    record = floor.agents[agent]
    return record.state, record.pause_reason


def ready_floor() -> Floor:
    floor = make_floor(wrap_up_s=10.0)
    floor.handle(AgentRequest("alice", A.LOGIN), 0.0)
    return floor


def test_an_unfit_phone_pauses_with_its_reason_and_the_fit_phone_unpauses() -> None:
    floor = ready_floor()
    (change,) = floor.handle(PhoneFitness("alice", SLOW), 1.0)
    assert isinstance(change, AgentChanged)
    assert (change.new, change.reason) == (AgentState.PAUSED, SLOW)
    assert "alice" not in floor.router.ready
    # no offer while paused
    assert floor.handle(CallerArrived(WaitingCall("c1", "orders", 2.0)), 2.0) == []
    # worse: the reason follows the phone
    floor.handle(PhoneFitness("alice", UNREACHABLE), 3.0)
    assert state(floor) == (AgentState.PAUSED, UNREACHABLE)
    effects = floor.handle(PhoneFitness("alice", None), 4.0)
    assert state(floor) == (AgentState.RESERVED, None)  # unpaused and offered the waiting call
    assert [e.call_id for e in effects if isinstance(e, Offer)] == ["c1"]


def test_an_agent_paused_for_another_reason_keeps_it_and_is_held_when_unpausing() -> None:
    floor = ready_floor()
    floor.handle(AgentRequest("alice", A.PAUSE, "lunch"), 1.0)
    assert floor.handle(PhoneFitness("alice", UNREACHABLE), 2.0) == []
    assert state(floor) == (AgentState.PAUSED, "lunch")
    # back from lunch while the phone is still unfit: paused again, for the phone
    floor.handle(AgentRequest("alice", A.UNPAUSE), 3.0)
    assert state(floor) == (AgentState.PAUSED, UNREACHABLE)
    assert "alice" not in floor.router.ready
    floor.handle(PhoneFitness("alice", None), 4.0)
    assert state(floor) == (AgentState.READY, None)


def test_a_fit_phone_never_ends_a_pause_it_did_not_cause() -> None:
    floor = ready_floor()
    floor.handle(PhoneFitness("alice", SLOW), 1.0)
    floor.handle(AgentRequest("alice", A.PAUSE, "break"), 2.0)  # the agent's own reason now
    floor.handle(PhoneFitness("alice", None), 3.0)
    assert state(floor) == (AgentState.PAUSED, "break")
    assert floor.handle(PhoneFitness("alice", None), 4.0) == []  # fit twice: nothing


def test_a_phone_going_bad_during_a_call_pauses_the_agent_once_ready() -> None:
    floor = ready_floor()
    floor.handle(CallerArrived(WaitingCall("c1", "orders", 0.0)), 0.0)
    floor.handle(RingAnswered("c1"), 1.0)
    assert floor.handle(PhoneFitness("alice", SLOW), 2.0) == []
    assert state(floor) == (AgentState.ON_CALL, None)  # the call goes on
    floor.handle(CallEnded("c1"), 30.0)
    assert state(floor) == (AgentState.WRAP_UP, None)
    floor.handle(Tick(), 40.0)  # wrap-up over: ready, but not its phone
    assert state(floor) == (AgentState.PAUSED, SLOW)
    assert "alice" not in floor.router.ready


def test_a_logged_out_agent_is_paused_at_login_while_the_phone_is_unfit() -> None:
    floor = make_floor()
    assert floor.handle(PhoneFitness("alice", UNREACHABLE), 0.0) == []
    floor.handle(AgentRequest("alice", A.LOGIN), 1.0)
    assert state(floor) == (AgentState.PAUSED, UNREACHABLE)
    with pytest.raises(UnknownAgent):
        floor.handle(PhoneFitness("nobody", SLOW), 2.0)


def test_phone_fitness_is_journalled_and_replays() -> None:
    line = journal.encode(PhoneFitness("alice", SLOW), 1.5)
    assert journal.decode(line) == (PhoneFitness("alice", SLOW), 1.5)
    floor = ready_floor()
    journal.replay(floor, [line])
    assert state(floor) == (AgentState.PAUSED, SLOW)


def test_unreachable_after_the_device_went_unavailable_takes_the_phones_reason() -> None:
    """Asterisk 22 may send DeviceStateChange UNAVAILABLE before ContactStatus Unreachable."""
    floor = ready_floor()
    floor.handle(DeviceStateChanged("PJSIP/1001", DeviceState.UNAVAILABLE), 1.0)
    assert state(floor) == (AgentState.PAUSED, "phone-unavailable")
    floor.handle(PhoneFitness("alice", UNREACHABLE), 1.1)
    assert state(floor) == (AgentState.PAUSED, UNREACHABLE)
    # back: NOT_INUSE first does not unpause (the phone's reason stands), Reachable does
    floor.handle(DeviceStateChanged("PJSIP/1001", DeviceState.NOT_INUSE), 2.0)
    assert state(floor) == (AgentState.PAUSED, UNREACHABLE)
    floor.handle(PhoneFitness("alice", None), 2.1)
    assert state(floor) == (AgentState.READY, None)


def test_reachable_before_the_device_is_back_leaves_the_device_pause_to_the_device() -> None:
    floor = ready_floor()
    floor.handle(PhoneFitness("alice", UNREACHABLE), 1.0)
    floor.handle(DeviceStateChanged("PJSIP/1001", DeviceState.UNAVAILABLE), 1.1)
    assert state(floor) == (AgentState.PAUSED, UNREACHABLE)
    floor.handle(PhoneFitness("alice", None), 2.0)  # unpaused, but the device is still lost
    assert state(floor) == (AgentState.PAUSED, "phone-unavailable")
    floor.handle(DeviceStateChanged("PJSIP/1001", DeviceState.NOT_INUSE), 2.1)
    assert state(floor) == (AgentState.READY, None)


def test_an_agent_restored_ready_while_the_phone_is_unfit_is_paused_for_it() -> None:
    floor = make_floor()
    floor.handle(PhoneFitness("alice", UNREACHABLE), 0.0)  # heard before the restore
    floor.handle(RestoreAgent("alice", AgentState.READY), 1.0)
    assert state(floor) == (AgentState.PAUSED, UNREACHABLE)
    assert "alice" not in floor.router.ready
