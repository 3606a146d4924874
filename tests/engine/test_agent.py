"""The agent state machine, stated by hand: every (state, input) pair, then the conditional
transitions, deferrals and device rules. The expected table below is written out here, not
read from the module, so a change to the machine's table must be made twice, on purpose."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from acd.engine.agent import (
    AUTO_PAUSE_REASON,
    PHONE_UNAVAILABLE_REASON,
    Agent,
    AgentChanged,
    AgentInput,
    AgentState,
    DeviceState,
    InvalidTransition,
    Limits,
    render_markdown,
    step,
)

S = AgentState
I = AgentInput  # noqa: E741 - short alias keeps the table readable
D = DeviceState
DOC = Path(__file__).resolve().parents[2] / "docs" / "agent-states.md"

# What each input does in each state: a state, DEFER (waits, state unchanged), or None (refused).
DEFER = "defer"
COLUMNS = (
    I.LOGIN, I.LOGOUT, I.PAUSE, I.UNPAUSE, I.END_WRAP_UP, I.FORCE_READY, I.OFFER, I.ANSWER,
    I.RING_FAILED, I.RING_CANCELLED, I.CALL_END, I.WRAP_UP_OVER, I.DEVICE,
)  # fmt: skip
X = None
EXPECTED: dict[AgentState, tuple[AgentState | str | None, ...]] = {
    #                login     logout            pause     unpause  end_wrap force_rdy offer
    #                answer     ring_failed ring_cancel call_end      wrap_over device
    S.LOGGED_OUT: (S.READY, X, X, X, X, X, X,
                   X, X, X, X, X, S.LOGGED_OUT),
    S.READY: (X, S.LOGGED_OUT, S.PAUSED, X, X, X, S.RESERVED,
              X, X, X, X, X, S.READY),
    S.RESERVED: (X, DEFER, DEFER, DEFER, DEFER, DEFER, X,
                 S.ON_CALL, S.READY, S.READY, X, X, DEFER),
    S.ON_CALL: (X, S.PENDING_LOGOUT, DEFER, X, X, X, X,
                X, X, X, S.WRAP_UP, X, DEFER),
    S.WRAP_UP: (X, S.LOGGED_OUT, S.PAUSED, X, S.READY, S.READY, X,
                X, X, X, X, S.READY, S.WRAP_UP),
    S.PAUSED: (X, S.LOGGED_OUT, S.PAUSED, S.READY, X, S.READY, X,
               X, X, X, X, X, S.PAUSED),
    S.PENDING_LOGOUT: (S.ON_CALL, S.PENDING_LOGOUT, X, X, X, X, X,
                       X, X, X, S.LOGGED_OUT, X, DEFER),
}  # fmt: skip
PAIRS = [(s, i, EXPECTED[s][n]) for s in EXPECTED for n, i in enumerate(COLUMNS)]
LIMITS = Limits(wrap_up_s=30.0, miss_limit=3)


def agent_in(state: AgentState, **kw: object) -> Agent:
    agent = Agent("1001", state, since=1.0, device=D.NOT_INUSE)
    if state is S.PAUSED:
        agent.pause_reason = "lunch"
    for name, value in kw.items():
        setattr(agent, name, value)
    return agent


def test_the_expected_table_names_every_state_and_input() -> None:
    assert set(EXPECTED) == set(AgentState)
    assert sorted(COLUMNS) == sorted(AgentInput)
    assert all(len(row) == len(COLUMNS) for row in EXPECTED.values())


@pytest.mark.parametrize(
    ("state", "event", "expected"), PAIRS, ids=[f"{s}-{i}" for s, i, _ in PAIRS]
)
def test_every_pair(
    state: AgentState, event: AgentInput, expected: AgentState | str | None
) -> None:
    agent = agent_in(state)
    before = copy.deepcopy(agent)
    if expected is None:
        with pytest.raises(InvalidTransition) as err:
            step(agent, event, 5.0, LIMITS, reason="break", device=D.NOT_INUSE)
        assert f"{event.value!r} is not allowed in state {state.value}" in str(err.value)
        assert agent == before  # a refused input leaves no trace
    elif expected == DEFER:
        assert step(agent, event, 5.0, LIMITS, reason="break", device=D.INUSE) == []
        assert agent.state is state
        if event is I.DEVICE:
            assert (agent.deferred_device, agent.device) == (D.INUSE, D.NOT_INUSE)
        else:
            assert agent.deferred == [(event, "break")]
    else:
        step(agent, event, 5.0, LIMITS, reason="break", device=D.NOT_INUSE)
        assert agent.state is expected


def test_a_change_is_logged_with_its_reason_and_time() -> None:
    agent = agent_in(S.LOGGED_OUT)
    assert step(agent, I.LOGIN, 10.0) == [
        AgentChanged("1001", S.LOGGED_OUT, S.READY, "login", 10.0)
    ]
    assert (agent.since, agent.routable) == (10.0, True)
    assert step(agent, I.PAUSE, 12.0, reason="training") == [
        AgentChanged("1001", S.READY, S.PAUSED, "training", 12.0)
    ]
    assert step(agent, I.PAUSE, 13.0, reason="training") == []  # same reason: same interval
    assert agent.since == 12.0
    assert step(agent, I.PAUSE, 14.0) == [
        AgentChanged("1001", S.PAUSED, S.PAUSED, "unspecified", 14.0)
    ]


# -- misses in a row ------------------------------------------------------------------------


def test_misses_in_a_row_auto_pause_at_the_queue_limit() -> None:
    agent = agent_in(S.RESERVED)
    for n in (1, 2):
        assert [c.new for c in step(agent, I.RING_FAILED, float(n), LIMITS, reason="NOANSWER")] == [
            S.READY
        ]
        assert agent.misses == n
        step(agent, I.OFFER, float(n))
    changes = step(agent, I.RING_FAILED, 3.0, LIMITS, reason="BUSY")
    assert changes == [AgentChanged("1001", S.RESERVED, S.PAUSED, AUTO_PAUSE_REASON, 3.0, True)]
    assert agent.pause_reason == AUTO_PAUSE_REASON
    step(agent, I.UNPAUSE, 4.0)
    assert (agent.state, agent.misses) == (S.READY, 0)


def test_an_answer_resets_the_misses_and_a_caller_hanging_up_is_no_miss() -> None:
    agent = agent_in(S.RESERVED, misses=2)
    step(agent, I.RING_CANCELLED, 1.0, LIMITS)
    assert (agent.state, agent.misses) == (S.READY, 2)
    step(agent, I.OFFER, 2.0)
    step(agent, I.ANSWER, 3.0)
    assert agent.misses == 0


def test_a_miss_limit_of_zero_never_pauses() -> None:
    agent = agent_in(S.RESERVED, misses=50)
    step(agent, I.RING_FAILED, 1.0, Limits(miss_limit=0))
    assert agent.state is S.READY


# -- wrap-up ----------------------------------------------------------------------------------


def test_call_end_starts_the_wrap_up_timer_and_its_end_makes_the_agent_ready() -> None:
    agent = agent_in(S.ON_CALL)
    step(agent, I.CALL_END, 100.0, Limits(wrap_up_s=20.0))
    assert (agent.state, agent.wrap_up_due) == (S.WRAP_UP, 120.0)
    step(agent, I.DEVICE, 110.0, device=D.INUSE)  # device news keeps the timer
    assert agent.wrap_up_due == 120.0
    assert step(agent, I.WRAP_UP_OVER, 120.0) == [
        AgentChanged("1001", S.WRAP_UP, S.READY, "wrap_up_over", 120.0)
    ]
    assert agent.wrap_up_due is None


def test_no_wrap_up_time_goes_straight_back_to_ready() -> None:
    agent = agent_in(S.ON_CALL)
    assert step(agent, I.CALL_END, 100.0, Limits(wrap_up_s=0.0)) == [
        AgentChanged("1001", S.ON_CALL, S.READY, "call_end", 100.0)
    ]
    assert agent.wrap_up_due is None


def test_leaving_wrap_up_early_clears_the_timer() -> None:
    for event in (I.END_WRAP_UP, I.FORCE_READY, I.PAUSE, I.LOGOUT):
        agent = agent_in(S.WRAP_UP, wrap_up_due=50.0)
        step(agent, event, 10.0)
        assert agent.wrap_up_due is None, event


def test_logout_during_a_call_waits_for_its_end_without_wrap_up() -> None:
    agent = agent_in(S.ON_CALL)
    step(agent, I.LOGOUT, 1.0)
    assert agent.state is S.PENDING_LOGOUT
    step(agent, I.CALL_END, 2.0, Limits(wrap_up_s=30.0))
    assert (agent.state, agent.wrap_up_due) == (S.LOGGED_OUT, None)


# -- deferrals ------------------------------------------------------------------------------


def test_requests_while_ringing_follow_the_dials_outcome_in_arrival_order() -> None:
    agent = agent_in(S.RESERVED)
    step(agent, I.PAUSE, 1.0, reason="break")
    step(agent, I.UNPAUSE, 2.0)
    changes = step(agent, I.RING_FAILED, 3.0, LIMITS, reason="NOANSWER")
    assert [(c.old, c.new, c.reason) for c in changes] == [
        (S.RESERVED, S.READY, "NOANSWER"),
        (S.READY, S.PAUSED, "break"),
        (S.PAUSED, S.READY, "unpause"),
    ]
    assert agent.deferred == []


def test_the_other_order_gives_the_other_result() -> None:
    agent = agent_in(S.RESERVED)
    step(agent, I.UNPAUSE, 1.0)
    step(agent, I.PAUSE, 2.0, reason="break")
    step(agent, I.RING_FAILED, 3.0, LIMITS)
    # the unpause found the agent ready (refused, dropped); the pause then applied
    assert (agent.state, agent.pause_reason, agent.deferred) == (S.PAUSED, "break", [])


def test_pause_asked_while_ringing_then_answered_waits_for_the_end_of_the_call() -> None:
    agent = agent_in(S.RESERVED)
    step(agent, I.PAUSE, 1.0, reason="break")
    step(agent, I.ANSWER, 2.0)
    assert (agent.state, agent.deferred) == (S.ON_CALL, [(I.PAUSE, "break")])
    changes = step(agent, I.CALL_END, 60.0, LIMITS)
    assert [(c.old, c.new) for c in changes] == [(S.ON_CALL, S.WRAP_UP), (S.WRAP_UP, S.PAUSED)]
    assert (agent.pause_reason, agent.wrap_up_due, agent.deferred) == ("break", None, [])


def test_logout_asked_while_ringing_and_answered_logs_out_after_the_call() -> None:
    agent = agent_in(S.RESERVED)
    step(agent, I.LOGOUT, 1.0)
    step(agent, I.ANSWER, 2.0)
    assert agent.state is S.PENDING_LOGOUT
    step(agent, I.CALL_END, 9.0, LIMITS)
    assert agent.state is S.LOGGED_OUT


# -- the phone --------------------------------------------------------------------------------


@pytest.mark.parametrize("busy", [D.INUSE, D.BUSY, D.RINGING, D.RINGINUSE, D.ONHOLD])
def test_a_busy_phone_keeps_a_ready_agent_from_being_offered(busy: DeviceState) -> None:
    agent = agent_in(S.READY)
    step(agent, I.DEVICE, 1.0, device=busy)
    assert (agent.state, agent.routable) == (S.READY, False)
    step(agent, I.DEVICE, 2.0, device=D.NOT_INUSE)
    assert agent.routable


def test_an_unknown_device_state_is_routable() -> None:
    agent = agent_in(S.READY, device=D.INUSE)
    step(agent, I.DEVICE, 1.0, device=D.UNKNOWN)
    assert agent.routable


@pytest.mark.parametrize("lost", [D.UNAVAILABLE, D.INVALID])
def test_an_unreachable_phone_pauses_with_a_reason_and_its_return_unpauses(
    lost: DeviceState,
) -> None:
    agent = agent_in(S.READY)
    assert step(agent, I.DEVICE, 1.0, device=lost) == [
        AgentChanged("1001", S.READY, S.PAUSED, PHONE_UNAVAILABLE_REASON, 1.0, True)
    ]
    assert step(agent, I.DEVICE, 2.0, device=D.UNKNOWN) == []  # not a return: still unknown
    assert step(agent, I.DEVICE, 3.0, device=D.INUSE) == [
        AgentChanged("1001", S.PAUSED, S.READY, "device", 3.0)
    ]
    assert not agent.routable  # back, but busy: offered once NOT_INUSE
    step(agent, I.DEVICE, 4.0, device=D.NOT_INUSE)
    assert agent.routable


def test_an_agent_who_paused_meanwhile_stays_paused_when_the_phone_returns() -> None:
    agent = agent_in(S.READY)
    step(agent, I.DEVICE, 1.0, device=D.UNAVAILABLE)
    step(agent, I.PAUSE, 2.0, reason="lunch")
    step(agent, I.DEVICE, 3.0, device=D.NOT_INUSE)
    assert (agent.state, agent.pause_reason) == (S.PAUSED, "lunch")


def test_ready_with_a_lost_phone_is_paused_at_once() -> None:
    for state, event in (
        (S.LOGGED_OUT, I.LOGIN),
        (S.PAUSED, I.UNPAUSE),
        (S.WRAP_UP, I.WRAP_UP_OVER),
    ):
        agent = agent_in(state, device=D.UNAVAILABLE)
        (change,) = step(agent, event, 5.0)
        assert (change.old, change.new, change.reason) == (
            state,
            S.PAUSED,
            PHONE_UNAVAILABLE_REASON,
        )


def test_the_phone_during_a_call_is_applied_when_the_call_ends() -> None:
    agent = agent_in(S.ON_CALL)
    step(agent, I.DEVICE, 1.0, device=D.UNAVAILABLE)
    assert (agent.state, agent.device) == (S.ON_CALL, D.NOT_INUSE)
    step(agent, I.CALL_END, 2.0, Limits(wrap_up_s=0.0))
    assert (agent.state, agent.pause_reason, agent.device) == (
        S.PAUSED,
        PHONE_UNAVAILABLE_REASON,
        D.UNAVAILABLE,
    )


def test_a_blip_while_ringing_leaves_only_the_latest_state() -> None:
    agent = agent_in(S.RESERVED)
    step(agent, I.DEVICE, 1.0, device=D.UNAVAILABLE)
    step(agent, I.DEVICE, 1.5, device=D.NOT_INUSE)
    assert agent.deferred_device is D.NOT_INUSE
    step(agent, I.RING_FAILED, 15.0, LIMITS)
    assert (agent.state, agent.routable, agent.deferred_device) == (S.READY, True, None)


def test_device_states_are_parsed_as_asterisk_writes_them() -> None:
    assert DeviceState.parse("NOT_INUSE") is D.NOT_INUSE
    assert DeviceState.parse(" ringinuse ") is D.RINGINUSE
    assert DeviceState.parse("garbage") is D.UNKNOWN
    assert DeviceState.parse("") is D.UNKNOWN


# -- the reference page -----------------------------------------------------------------------


def test_the_committed_reference_page_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/agent-states.md is stale: regenerate it with "
        "`.venv/bin/python -m acd.engine.agent > docs/agent-states.md`"
    )
