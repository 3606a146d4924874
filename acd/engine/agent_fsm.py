"""Agent state machine as an explicit transition table; each step returns the new status + effects.

Device reachability is kept beside the logical state: an unreachable softphone makes the agent
unroutable without losing "ready" or "paused", so it resumes where it was when the phone returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

AUTO_PAUSE_REASON = "missed-offers"


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RESERVED = "reserved"  # offered, the softphone is ringing
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    PENDING_LOGOUT = "pending_logout"  # log out when the current call ends


class AgentInput(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    OFFER = "offer"
    ANSWER = "answer"
    RING_NO_ANSWER = "ring_no_answer"
    CALLER_ABANDONED_DURING_RING = "caller_abandoned_during_ring"
    CALL_END = "call_end"
    WRAP_UP_END = "wrap_up_end"
    DEVICE_UNREACHABLE = "device_unreachable"
    DEVICE_REACHABLE = "device_reachable"
    FORCE_LOGOUT = "force_logout"
    FORCE_PAUSE = "force_pause"
    FORCE_READY = "force_ready"


S = AgentState
I = AgentInput  # noqa: E741 - short alias keeps the table readable

_DEVICE = (I.DEVICE_UNREACHABLE, I.DEVICE_REACHABLE)

TRANSITIONS: dict[tuple[AgentState, AgentInput], AgentState] = {
    (S.LOGGED_OUT, I.LOGIN): S.READY,
    **{(S.LOGGED_OUT, d): S.LOGGED_OUT for d in _DEVICE},
    (S.READY, I.LOGOUT): S.LOGGED_OUT,
    (S.READY, I.PAUSE): S.PAUSED,
    (S.READY, I.OFFER): S.RESERVED,
    (S.READY, I.FORCE_LOGOUT): S.LOGGED_OUT,
    (S.READY, I.FORCE_PAUSE): S.PAUSED,
    **{(S.READY, d): S.READY for d in _DEVICE},
    (S.RESERVED, I.ANSWER): S.ON_CALL,
    (S.RESERVED, I.RING_NO_ANSWER): S.READY,  # or PAUSED once the misses reach the limit
    (S.RESERVED, I.CALLER_ABANDONED_DURING_RING): S.READY,
    (S.RESERVED, I.LOGOUT): S.LOGGED_OUT,
    (S.RESERVED, I.PAUSE): S.PAUSED,
    (S.RESERVED, I.FORCE_LOGOUT): S.LOGGED_OUT,
    (S.RESERVED, I.FORCE_PAUSE): S.PAUSED,
    (S.RESERVED, I.DEVICE_UNREACHABLE): S.READY,  # the offer cannot ring; caller goes back
    (S.RESERVED, I.DEVICE_REACHABLE): S.RESERVED,
    (S.ON_CALL, I.CALL_END): S.WRAP_UP,  # straight to READY when the queue has no wrap-up
    (S.ON_CALL, I.LOGOUT): S.PENDING_LOGOUT,
    (S.ON_CALL, I.FORCE_LOGOUT): S.PENDING_LOGOUT,  # the PBX call goes on; leave after it
    **{(S.ON_CALL, d): S.ON_CALL for d in _DEVICE},
    (S.WRAP_UP, I.WRAP_UP_END): S.READY,
    (S.WRAP_UP, I.PAUSE): S.PAUSED,
    (S.WRAP_UP, I.LOGOUT): S.LOGGED_OUT,
    (S.WRAP_UP, I.FORCE_LOGOUT): S.LOGGED_OUT,
    (S.WRAP_UP, I.FORCE_PAUSE): S.PAUSED,
    (S.WRAP_UP, I.FORCE_READY): S.READY,
    **{(S.WRAP_UP, d): S.WRAP_UP for d in _DEVICE},
    (S.PAUSED, I.PAUSE): S.PAUSED,  # a new reason starts a new interval
    (S.PAUSED, I.UNPAUSE): S.READY,
    (S.PAUSED, I.LOGOUT): S.LOGGED_OUT,
    (S.PAUSED, I.FORCE_LOGOUT): S.LOGGED_OUT,
    (S.PAUSED, I.FORCE_PAUSE): S.PAUSED,
    (S.PAUSED, I.FORCE_READY): S.READY,
    **{(S.PAUSED, d): S.PAUSED for d in _DEVICE},
    (S.PENDING_LOGOUT, I.CALL_END): S.LOGGED_OUT,
    (S.PENDING_LOGOUT, I.LOGIN): S.ON_CALL,  # the agent changed their mind
    (S.PENDING_LOGOUT, I.FORCE_LOGOUT): S.PENDING_LOGOUT,
    **{(S.PENDING_LOGOUT, d): S.PENDING_LOGOUT for d in _DEVICE},
}


class InvalidTransition(Exception):
    def __init__(self, agent_id: str, state: AgentState, event: AgentInput) -> None:
        super().__init__(f"agent {agent_id}: {event.value!r} is not allowed in state {state.value}")
        self.agent_id = agent_id
        self.state = state
        self.event = event


@dataclass(frozen=True, slots=True)
class StateChanged:
    """One line of the append-only agent state log."""

    agent_id: str
    old: AgentState
    new: AgentState
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class StartWrapUpTimer:
    agent_id: str
    until: float


@dataclass(frozen=True, slots=True)
class CancelWrapUpTimer:
    agent_id: str


@dataclass(frozen=True, slots=True)
class AutoPaused:
    agent_id: str
    misses: int
    reason: str = AUTO_PAUSE_REASON


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """The ringing offer is off; the router must put the caller back in its place."""

    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RoutableChanged:
    agent_id: str
    routable: bool
    at: float


Effect = (
    StateChanged
    | StartWrapUpTimer
    | CancelWrapUpTimer
    | AutoPaused
    | OfferWithdrawn
    | RoutableChanged
)


@dataclass(frozen=True, slots=True)
class AgentStatus:
    agent_id: str
    state: AgentState = AgentState.LOGGED_OUT
    pause_reason: str | None = None
    reachable: bool = True
    misses: int = 0  # consecutive ring-no-answers
    since: float = 0.0

    @property
    def routable(self) -> bool:
        return self.state is AgentState.READY and self.reachable


def apply(
    status: AgentStatus,
    event: AgentInput,
    now: float,
    *,
    reason: str | None = None,
    wrap_up_s: float = 0.0,
    auto_pause_misses: int = 3,
) -> tuple[AgentStatus, list[Effect]]:
    """Apply one input; raise InvalidTransition for pairs not in the table."""
    target = TRANSITIONS.get((status.state, event))
    if target is None:
        raise InvalidTransition(status.agent_id, status.state, event)
    agent = status.agent_id
    effects: list[Effect] = []
    misses = status.misses
    pause_reason = status.pause_reason if target is S.PAUSED else None
    reachable = status.reachable
    if event is I.DEVICE_UNREACHABLE:
        reachable = False
    elif event is I.DEVICE_REACHABLE:
        reachable = True
    if event in (I.PAUSE, I.FORCE_PAUSE):
        pause_reason = reason or "unspecified"
    if event in (I.ANSWER, I.LOGIN, I.UNPAUSE, I.FORCE_READY):
        misses = 0
    elif event is I.RING_NO_ANSWER:
        misses += 1
        if auto_pause_misses > 0 and misses >= auto_pause_misses:
            target = S.PAUSED
            pause_reason = AUTO_PAUSE_REASON
            effects.append(AutoPaused(agent, misses))
    elif event is I.CALL_END and target is S.WRAP_UP:
        if wrap_up_s > 0:
            effects.append(StartWrapUpTimer(agent, now + wrap_up_s))
        else:
            target = S.READY
    if status.state is S.RESERVED and target is not S.RESERVED and event is not I.ANSWER:
        effects.append(OfferWithdrawn(agent, reason or event.value))
    if status.state is S.WRAP_UP and target is not S.WRAP_UP and event is not I.WRAP_UP_END:
        effects.append(CancelWrapUpTimer(agent))
    changed = target is not status.state or pause_reason != status.pause_reason
    new = replace(
        status,
        state=target,
        pause_reason=pause_reason,
        reachable=reachable,
        misses=misses,
        since=now if changed else status.since,
    )
    if changed:
        log_reason = pause_reason if target is S.PAUSED else (reason or event.value)
        effects.insert(0, StateChanged(agent, status.state, target, log_reason, now))
    if new.routable != status.routable:
        effects.append(RoutableChanged(agent, new.routable, now))
    return new, effects
