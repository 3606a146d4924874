"""Every input the floor takes, as frozen data: ``Floor.handle(input, now)`` is the one entry.

Being data, inputs can be queued to the owner task, written to a journal one line each
(``acd.engine.journal``) and replayed to rebuild a floor exactly. Queries (position, estimate,
views) are not inputs: they read the floor and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from acd.engine.agent import AgentInput, AgentState, DeviceState
from acd.engine.model import OverflowToQueue, WaitingCall, WidenSkills


class UnknownAgent(KeyError):
    """An input named an agent the floor does not have."""


class AgentAction(StrEnum):
    """What an agent (or a supervisor, ``forced``) asks for; the names of the HTTP actions and
    of the softphone feature codes."""

    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    END_WRAP_UP = "wrapup-end"

    def machine_input(self, *, forced: bool) -> AgentInput:
        """A supervisor's unpause or end of wrap-up makes the agent ready from either state;
        the other forced actions are the agent's own."""
        if forced and self in (AgentAction.UNPAUSE, AgentAction.END_WRAP_UP):
            return AgentInput.FORCE_READY
        return _MACHINE_INPUT[self]


_MACHINE_INPUT = {
    AgentAction.LOGIN: AgentInput.LOGIN,
    AgentAction.LOGOUT: AgentInput.LOGOUT,
    AgentAction.PAUSE: AgentInput.PAUSE,
    AgentAction.UNPAUSE: AgentInput.UNPAUSE,
    AgentAction.END_WRAP_UP: AgentInput.END_WRAP_UP,
}


@dataclass(frozen=True, slots=True)
class AgentRequest:
    agent_id: str
    action: AgentAction
    reason: str | None = None  # the pause reason
    forced: bool = False  # a supervisor, not the agent


@dataclass(frozen=True, slots=True)
class AgentBatch:
    """Many agents' requests as one input (bulk log-in and log-out of a whole floor): applied
    in order, routed once at the end. A request the floor refuses changes nothing and comes
    back as a ``Refused`` effect; the others go ahead."""

    requests: tuple[AgentRequest, ...]


@dataclass(frozen=True, slots=True)
class DeviceStateChanged:
    """``DeviceStateChange`` (or a ``DeviceStateList`` item) for a device, named as Asterisk
    names it (``acd.asterisk.devices.device_of``)."""

    device: str
    state: DeviceState


@dataclass(frozen=True, slots=True)
class DeviceStatesUnknown:
    """The AMI link is down: no device state is known until the resync reports them again."""


@dataclass(frozen=True, slots=True)
class PhoneFitness:
    """Whether an agent's phone can take calls, as its SIP contacts' qualify results say
    (``acd.daemon.phone_quality``): ``unfit_reason`` is the pause reason while it cannot
    (``phone-unreachable``, ``phone-slow``), None once it can again."""

    agent_id: str
    unfit_reason: str | None


@dataclass(frozen=True, slots=True)
class CallerArrived:
    call: WaitingCall


@dataclass(frozen=True, slots=True)
class CallerLeft:
    """The caller is gone (hung up, took a call-back or voicemail, or the session ended) while
    waiting, ringing or talking. Idempotent."""

    call_id: str


@dataclass(frozen=True, slots=True)
class RingAnswered:
    call_id: str


@dataclass(frozen=True, slots=True)
class RingFailed:
    """The Dial ended unanswered; ``status`` is its ``DIALSTATUS`` (NOANSWER, BUSY, ...)."""

    call_id: str
    status: str = "NOANSWER"


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The conversation is over. Idempotent."""

    call_id: str


@dataclass(frozen=True, slots=True)
class Assign:
    """A supervisor hands a waiting caller to a named ready agent."""

    call_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class Designate:
    """A supervisor keeps a waiting caller for one agent (None: for anyone again)."""

    call_id: str
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class Overflow:
    """An overflow rung for a waiting caller, keeping its place."""

    call_id: str
    step: WidenSkills | OverflowToQueue


@dataclass(frozen=True, slots=True)
class RestoreAgent:
    """At start, before any call: a logged-out agent takes back the session a previous daemon
    stored (``acd.engine.sessions.restore_inputs`` decides it from the stored session and
    Asterisk's channels). ``outside_call`` names the conversation the agent is still in (no
    call of this daemon): the agent stays talking until ``OutsideCallEnded``."""

    agent_id: str
    state: AgentState
    reason: str | None = None  # the pause reason
    wrap_up_left_s: float | None = None  # wrap-up still to run
    queue: str | None = None  # the last call's queue (wrap-up length after an outside call)
    outside_call: str | None = None


@dataclass(frozen=True, slots=True)
class OutsideCallEnded:
    """The restored agent's outside conversation is over (its phone is free again, or Asterisk
    no longer has a channel on it). Idempotent."""

    agent_id: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: timers due by ``now`` fire (wrap-up ends, relaxed requirements, retries)."""


FloorInput = (
    AgentRequest
    | AgentBatch
    | DeviceStateChanged
    | DeviceStatesUnknown
    | PhoneFitness
    | CallerArrived
    | CallerLeft
    | RingAnswered
    | RingFailed
    | CallEnded
    | Assign
    | Designate
    | Overflow
    | RestoreAgent
    | OutsideCallEnded
    | Tick
)
