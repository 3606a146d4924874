"""Agent state machine: every (state, input) pair, plus the conditional transitions and effects."""

from __future__ import annotations

import itertools

import pytest

from acd.engine.agent_fsm import (
    AUTO_PAUSE_REASON,
    TRANSITIONS,
    AgentInput,
    AgentState,
    AgentStatus,
    AutoPaused,
    CancelWrapUpTimer,
    InvalidTransition,
    OfferWithdrawn,
    RoutableChanged,
    StartWrapUpTimer,
    StateChanged,
    apply,
)

S = AgentState
I = AgentInput  # noqa: E741

ALL_PAIRS = list(itertools.product(AgentState, AgentInput))


def at(state: AgentState, **kw: object) -> AgentStatus:
    return AgentStatus("1001", state, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("state", "event"), ALL_PAIRS, ids=[f"{s}-{e}" for s, e in ALL_PAIRS])
def test_every_pair_follows_the_table(state: AgentState, event: AgentInput) -> None:
    status = at(state, pause_reason="lunch" if state is S.PAUSED else None)
    target = TRANSITIONS.get((state, event))
    if target is None:
        with pytest.raises(InvalidTransition) as err:
            apply(status, event, 5.0, reason="break", wrap_up_s=30.0, auto_pause_misses=3)
        assert err.value.state is state
        assert err.value.event is event
        assert state.value in str(err.value)
    else:
        new, _ = apply(status, event, 5.0, reason="break", wrap_up_s=30.0, auto_pause_misses=3)
        assert new.state is target


def test_table_has_the_expected_shape() -> None:
    # Every state can be left somehow, and logged_out accepts only login and device news.
    for state in AgentState:
        assert any(TRANSITIONS.get((state, e)) not in (None, state) for e in AgentInput), state
    allowed = {e for (s, e) in TRANSITIONS if s is S.LOGGED_OUT}
    assert allowed == {I.LOGIN, I.DEVICE_REACHABLE, I.DEVICE_UNREACHABLE}


def test_login_logs_a_state_change_and_becomes_routable() -> None:
    new, effects = apply(at(S.LOGGED_OUT), I.LOGIN, 10.0)
    assert new.state is S.READY
    assert new.since == 10.0
    assert effects == [
        StateChanged("1001", S.LOGGED_OUT, S.READY, "login", 10.0),
        RoutableChanged("1001", True, 10.0),
    ]


def test_call_end_starts_wrap_up_timer() -> None:
    new, effects = apply(at(S.ON_CALL), I.CALL_END, 100.0, wrap_up_s=20.0)
    assert new.state is S.WRAP_UP
    assert StartWrapUpTimer("1001", 120.0) in effects


def test_call_end_without_wrap_up_goes_ready() -> None:
    new, effects = apply(at(S.ON_CALL), I.CALL_END, 100.0, wrap_up_s=0.0)
    assert new.state is S.READY
    assert RoutableChanged("1001", True, 100.0) in effects
    assert not any(isinstance(e, StartWrapUpTimer) for e in effects)


def test_early_end_of_wrap_up_by_supervisor_cancels_timer() -> None:
    new, effects = apply(at(S.WRAP_UP), I.FORCE_READY, 3.0, reason="supervisor:42")
    assert new.state is S.READY
    assert CancelWrapUpTimer("1001") in effects
    assert effects[0] == StateChanged("1001", S.WRAP_UP, S.READY, "supervisor:42", 3.0)


def test_wrap_up_end_does_not_cancel_its_own_timer() -> None:
    _, effects = apply(at(S.WRAP_UP), I.WRAP_UP_END, 3.0)
    assert not any(isinstance(e, CancelWrapUpTimer) for e in effects)


def test_consecutive_misses_auto_pause() -> None:
    status = at(S.RESERVED)
    for n in (1, 2):
        status, effects = apply(status, I.RING_NO_ANSWER, float(n), auto_pause_misses=3)
        assert status.state is S.READY
        assert status.misses == n
        assert OfferWithdrawn("1001", "ring_no_answer") in effects
        status, _ = apply(status, I.OFFER, float(n))
    status, effects = apply(status, I.RING_NO_ANSWER, 3.0, auto_pause_misses=3)
    assert status.state is S.PAUSED
    assert status.pause_reason == AUTO_PAUSE_REASON
    assert AutoPaused("1001", 3) in effects
    assert StateChanged("1001", S.RESERVED, S.PAUSED, AUTO_PAUSE_REASON, 3.0) in effects


def test_answer_resets_the_miss_count() -> None:
    status, _ = apply(at(S.RESERVED, misses=2), I.ANSWER, 1.0)
    assert status.misses == 0


def test_caller_abandon_during_ring_is_not_a_strike() -> None:
    status, effects = apply(at(S.RESERVED, misses=2), I.CALLER_ABANDONED_DURING_RING, 1.0)
    assert status.state is S.READY
    assert status.misses == 2
    assert any(isinstance(e, OfferWithdrawn) for e in effects)


def test_change_of_pause_reason_is_a_new_interval() -> None:
    status, effects = apply(
        at(S.PAUSED, pause_reason="lunch", since=1.0), I.PAUSE, 9.0, reason="training"
    )
    assert status.pause_reason == "training"
    assert status.since == 9.0
    assert effects == [StateChanged("1001", S.PAUSED, S.PAUSED, "training", 9.0)]


def test_same_pause_reason_is_no_new_interval() -> None:
    status, effects = apply(
        at(S.PAUSED, pause_reason="lunch", since=1.0), I.PAUSE, 9.0, reason="lunch"
    )
    assert status.since == 1.0
    assert effects == []


def test_unreachable_device_keeps_logical_state_but_is_not_routable() -> None:
    status, effects = apply(at(S.READY), I.DEVICE_UNREACHABLE, 4.0)
    assert status.state is S.READY
    assert not status.routable
    assert effects == [RoutableChanged("1001", False, 4.0)]
    status, effects = apply(status, I.DEVICE_REACHABLE, 8.0)
    assert status.routable
    assert effects == [RoutableChanged("1001", True, 8.0)]


def test_unreachable_paused_agent_unpauses_into_unroutable_ready() -> None:
    status, _ = apply(at(S.PAUSED, pause_reason="lunch"), I.DEVICE_UNREACHABLE, 1.0)
    status, effects = apply(status, I.UNPAUSE, 2.0)
    assert status.state is S.READY
    assert not status.routable
    assert not any(isinstance(e, RoutableChanged) for e in effects)


def test_unreachable_while_ringing_withdraws_the_offer() -> None:
    status, effects = apply(at(S.RESERVED), I.DEVICE_UNREACHABLE, 1.0)
    assert status.state is S.READY
    assert not status.routable
    assert OfferWithdrawn("1001", "device_unreachable") in effects


def test_logout_during_call_waits_for_the_call_end() -> None:
    status, _ = apply(at(S.ON_CALL), I.LOGOUT, 1.0)
    assert status.state is S.PENDING_LOGOUT
    status, effects = apply(status, I.CALL_END, 2.0, wrap_up_s=30.0)
    assert status.state is S.LOGGED_OUT
    assert not any(isinstance(e, StartWrapUpTimer) for e in effects)
