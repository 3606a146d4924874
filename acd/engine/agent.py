"""The agent state machine: one table, one record per agent, and every rule of it in this file.

``TRANSITIONS`` says, for each state, which inputs it takes and where they lead; a pair that is
not in it is refused (``InvalidTransition``). A cell is a state, or ``DEFER``: the input waits
until the state changes and is then applied again, in arrival order (agent requests while the
phone rings wait for the Dial's outcome; device news during a ring or a call waits for its end).
``GUARDS`` name the two cells whose target depends on the record (misses in a row, no wrap-up
time), and ``DEVICE_RULES`` the two that follow the phone: an unreachable phone pauses a ready
agent, and its return undoes only that pause.

``python -m acd.engine.agent > docs/agent-states.md`` renders the table as the reference page.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal

AUTO_PAUSE_REASON = "missed-offers"
PHONE_UNAVAILABLE_REASON = "phone-unavailable"
DEFAULT_PAUSE_REASON = "unspecified"
DEFAULT_MISS_LIMIT = 3


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    RESERVED = "reserved"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    PENDING_LOGOUT = "pending_logout"


class DeviceState(StrEnum):
    """Device states as AMI names them (``DeviceStateChange``/``DeviceStateList`` ``State``,
    Asterisk main/devicestate.c ast_devstate_str; QueueMemberStatus numbers 0-8 in this order)."""

    UNKNOWN = "UNKNOWN"
    NOT_INUSE = "NOT_INUSE"
    INUSE = "INUSE"
    BUSY = "BUSY"
    INVALID = "INVALID"
    UNAVAILABLE = "UNAVAILABLE"
    RINGING = "RINGING"
    RINGINUSE = "RINGINUSE"
    ONHOLD = "ONHOLD"

    @classmethod
    def parse(cls, text: str) -> DeviceState:
        """A ``State`` header; anything unrecognised means nothing is known: UNKNOWN."""
        try:
            return cls(text.strip().upper())
        except ValueError:
            return cls.UNKNOWN

    @property
    def free(self) -> bool:
        """A ready agent on this device may be offered a caller."""
        return self in (DeviceState.NOT_INUSE, DeviceState.UNKNOWN)

    @property
    def lost(self) -> bool:
        """The phone is unregistered or unreachable: the agent cannot work."""
        return self in (DeviceState.UNAVAILABLE, DeviceState.INVALID)


class AgentInput(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    END_WRAP_UP = "wrap_up_end"
    FORCE_READY = "force_ready"
    OFFER = "offer"
    ANSWER = "answer"
    RING_FAILED = "ring_no_answer"
    RING_CANCELLED = "caller_abandoned_during_ring"
    CALL_END = "call_end"
    WRAP_UP_OVER = "wrap_up_over"
    DEVICE = "device"


STATE_DOC: Final = {
    AgentState.LOGGED_OUT: "not working",
    AgentState.READY: "waiting for a caller; offered one when the phone is free",
    AgentState.RESERVED: "offered a caller: the phone rings",
    AgentState.ON_CALL: "talking",
    AgentState.WRAP_UP: "after-call work, until the queue's wrap-up time is over",
    AgentState.PAUSED: "not taking calls, with a reason",
    AgentState.PENDING_LOGOUT: "talking, logged out once the call ends",
}
INPUT_DOC: Final = {
    AgentInput.LOGIN: "the agent logs in (a supervisor's forced login is the same)",
    AgentInput.LOGOUT: "the agent logs out (also forced by a supervisor)",
    AgentInput.PAUSE: "the agent pauses, with a reason (also forced by a supervisor)",
    AgentInput.UNPAUSE: "the agent unpauses",
    AgentInput.END_WRAP_UP: "the agent ends wrap-up early",
    AgentInput.FORCE_READY: "a supervisor forces unpause or the end of wrap-up",
    AgentInput.OFFER: "the router offers the agent a caller",
    AgentInput.ANSWER: "the agent answered (AMI DialEnd ANSWER)",
    AgentInput.RING_FAILED: "no answer, busy or unreachable phone (the Dial's status)",
    AgentInput.RING_CANCELLED: "the caller hung up while the phone rang",
    AgentInput.CALL_END: "the conversation is over",
    AgentInput.WRAP_UP_OVER: "the wrap-up timer ran out",
    AgentInput.DEVICE: "Asterisk reports the phone's device state",
}

S = AgentState
I = AgentInput  # noqa: E741 - short alias keeps the table readable
DEFER: Final = "defer"
Cell = AgentState | Literal["defer"]

TRANSITIONS: Final[dict[AgentState, dict[AgentInput, Cell]]] = {
    S.LOGGED_OUT: {I.LOGIN: S.READY, I.DEVICE: S.LOGGED_OUT},
    S.READY: {
        I.OFFER: S.RESERVED, I.PAUSE: S.PAUSED, I.LOGOUT: S.LOGGED_OUT, I.DEVICE: S.READY,
    },
    S.RESERVED: {
        I.ANSWER: S.ON_CALL, I.RING_FAILED: S.READY, I.RING_CANCELLED: S.READY,
        I.LOGOUT: DEFER, I.PAUSE: DEFER, I.UNPAUSE: DEFER, I.END_WRAP_UP: DEFER,
        I.FORCE_READY: DEFER, I.DEVICE: DEFER,
    },
    S.ON_CALL: {
        I.CALL_END: S.WRAP_UP, I.LOGOUT: S.PENDING_LOGOUT, I.PAUSE: DEFER, I.DEVICE: DEFER,
    },
    S.WRAP_UP: {
        I.WRAP_UP_OVER: S.READY, I.END_WRAP_UP: S.READY, I.FORCE_READY: S.READY,
        I.PAUSE: S.PAUSED, I.LOGOUT: S.LOGGED_OUT, I.DEVICE: S.WRAP_UP,
    },
    S.PAUSED: {
        I.UNPAUSE: S.READY, I.FORCE_READY: S.READY, I.PAUSE: S.PAUSED, I.LOGOUT: S.LOGGED_OUT,
        I.DEVICE: S.PAUSED,
    },
    S.PENDING_LOGOUT: {
        I.CALL_END: S.LOGGED_OUT, I.LOGIN: S.ON_CALL, I.LOGOUT: S.PENDING_LOGOUT,
        I.DEVICE: DEFER,
    },
}  # fmt: skip


class Condition(StrEnum):
    MISS_LIMIT = "the misses in a row reach the offering queue's limit"
    NO_WRAP_UP = "the call's queue has no wrap-up time"
    PHONE_LOST = "the phone is UNAVAILABLE or INVALID"
    PHONE_BACK = f"paused for {PHONE_UNAVAILABLE_REASON} and the phone reports a known state again"


@dataclass(frozen=True, slots=True)
class Guard:
    when: Condition
    target: AgentState
    reason: str | None = None  # the pause reason it sets


GUARDS: Final = {
    (S.RESERVED, I.RING_FAILED): Guard(Condition.MISS_LIMIT, S.PAUSED, AUTO_PAUSE_REASON),
    (S.ON_CALL, I.CALL_END): Guard(Condition.NO_WRAP_UP, S.READY),
}
# Checked after every applied input, whatever it was: they follow the phone, not the input.
DEVICE_RULES: Final = {
    S.READY: Guard(Condition.PHONE_LOST, S.PAUSED, PHONE_UNAVAILABLE_REASON),
    S.PAUSED: Guard(Condition.PHONE_BACK, S.READY),
}
_RESETS_MISSES = frozenset({I.LOGIN, I.UNPAUSE, I.FORCE_READY, I.ANSWER})


class InvalidTransition(Exception):
    def __init__(self, agent_id: str, state: AgentState, event: AgentInput) -> None:
        super().__init__(f"agent {agent_id}: {event.value!r} is not allowed in state {state.value}")
        self.agent_id = agent_id
        self.state = state
        self.event = event


@dataclass(frozen=True, slots=True)
class AgentChanged:
    """One line of the append-only agent state log (also what MQTT and the wallboard show)."""

    agent_id: str
    old: AgentState
    new: AgentState
    reason: str | None
    at: float
    auto_paused: bool = False  # paused by a guard or a device rule, not by a person


@dataclass(slots=True)
class Agent:
    """Everything the engine keeps about one agent."""

    agent_id: str
    state: AgentState = AgentState.LOGGED_OUT
    since: float | None = None  # None: no change seen since the floor started (time unknown)
    pause_reason: str | None = None
    device: DeviceState = DeviceState.UNKNOWN
    misses: int = 0  # ring failures in a row
    deferred: list[tuple[AgentInput, str | None]] = field(default_factory=list)
    deferred_device: DeviceState | None = None  # only the latest matters: blips cancel out
    wrap_up_due: float | None = None
    # The last call, for the live handle time (talk + wrap-up): written by the floor.
    last_queue: str | None = None
    talk_s: float | None = None
    wrap_started: float | None = None
    # Restored talking with a call no daemon of this process owns (acd.engine.sessions): the
    # phone's device state, or the AMI resync, says when it ends.
    outside_call: str | None = None

    @property
    def routable(self) -> bool:
        return self.state is AgentState.READY and self.device.free


@dataclass(frozen=True, slots=True)
class Limits:
    """What the queue concerned says: wrap-up length and misses before an auto-pause (0: never)."""

    wrap_up_s: float = 0.0
    miss_limit: int = DEFAULT_MISS_LIMIT


NO_LIMITS: Final = Limits()


def step(
    agent: Agent,
    event: AgentInput,
    now: float,
    limits: Limits = NO_LIMITS,
    *,
    reason: str | None = None,
    device: DeviceState = DeviceState.UNKNOWN,
) -> list[AgentChanged]:
    """Apply one input to the record; when the state changes, the deferred inputs follow.
    Raises ``InvalidTransition`` (record untouched) for a pair the table does not have."""
    changes = _apply(agent, event, now, limits, reason=reason, device=device)
    if changes and (agent.deferred or agent.deferred_device is not None):
        pending, agent.deferred = agent.deferred, []
        phone, agent.deferred_device = agent.deferred_device, None
        if phone is not None:
            changes += _apply(agent, I.DEVICE, now, limits, device=phone)
        for deferred, why in pending:
            # refused now: no longer applies (an unpause after all, a pause once logged out)
            with contextlib.suppress(InvalidTransition):
                changes += _apply(agent, deferred, now, limits, reason=why)
    return changes


def _apply(
    agent: Agent,
    event: AgentInput,
    now: float,
    limits: Limits,
    *,
    reason: str | None = None,
    device: DeviceState = DeviceState.UNKNOWN,
) -> list[AgentChanged]:
    cell = TRANSITIONS[agent.state].get(event)
    if cell is None:
        raise InvalidTransition(agent.agent_id, agent.state, event)
    if cell == DEFER:
        if event is I.DEVICE:
            agent.deferred_device = device
        else:
            agent.deferred.append((event, reason))
        return []
    old, old_reason = agent.state, agent.pause_reason
    target: AgentState = S(cell)
    pause_reason = (reason or DEFAULT_PAUSE_REASON) if event is I.PAUSE else old_reason
    auto = False
    if event is I.DEVICE:
        agent.device = device
    if event in _RESETS_MISSES:
        agent.misses = 0
    elif event is I.RING_FAILED:
        agent.misses += 1
    guard = GUARDS.get((old, event))
    if guard is not None and _holds(guard.when, agent, limits, old_reason):
        target, pause_reason = guard.target, guard.reason or pause_reason
        auto = guard.reason is not None
    rule = DEVICE_RULES.get(target)
    if rule is not None and _holds(rule.when, agent, limits, pause_reason):
        target, pause_reason = rule.target, rule.reason or pause_reason
        auto = rule.reason is not None
    if target is not S.PAUSED:
        pause_reason = None
    log_reason = pause_reason if target is S.PAUSED else reason or event.value
    if target is S.WRAP_UP and old is not S.WRAP_UP:
        agent.wrap_up_due = now + limits.wrap_up_s
    elif target is not S.WRAP_UP:
        agent.wrap_up_due = None
    if target is old and pause_reason == old_reason:
        return []
    agent.state, agent.pause_reason, agent.since = target, pause_reason, now
    return [AgentChanged(agent.agent_id, old, target, log_reason, now, auto)]


def _holds(when: Condition, agent: Agent, limits: Limits, pause_reason: str | None) -> bool:
    if when is Condition.MISS_LIMIT:
        return 0 < limits.miss_limit <= agent.misses
    if when is Condition.NO_WRAP_UP:
        return limits.wrap_up_s <= 0
    if when is Condition.PHONE_LOST:
        return agent.device.lost
    known = not agent.device.lost and agent.device is not DeviceState.UNKNOWN
    return pause_reason == PHONE_UNAVAILABLE_REASON and known


# -- the reference page -----------------------------------------------------------------------


def render_markdown() -> str:
    """``docs/agent-states.md``: the table and its rules, as the code has them."""
    inputs = list(AgentInput)
    lines = [
        "# Agent states",
        "",
        "<!-- Generated from acd/engine/agent.py: "
        "python -m acd.engine.agent > docs/agent-states.md -->",
        "",
        "## States",
        "",
        *(f"- `{s}`: {STATE_DOC[s]}" for s in AgentState),
        "",
        "## Inputs",
        "",
        *(f"- `{i}`: {INPUT_DOC[i]}" for i in inputs),
        "",
        "## Transitions",
        "",
        "A cell is the next state, **defer** (applied again, in arrival order, once the state "
        "changes), or `-` (refused: the request gets an error).",
        "",
        "| state | " + " | ".join(f"`{i}`" for i in inputs) + " |",
        "|---" * (len(inputs) + 1) + "|",
    ]
    for state in AgentState:
        cells = [_cell(state, i) for i in inputs]
        lines.append(f"| `{state}` | " + " | ".join(cells) + " |")
    lines += ["", "## Guards", "", "The cells marked ¹ go elsewhere when a condition holds:", ""]
    for (state, event), guard in GUARDS.items():
        lines.append(
            f"- `{state}` + `{event}` goes to `{guard.target}`"
            + (f" (reason `{guard.reason}`)" if guard.reason else "")
            + f" instead when {guard.when.value}."
        )
    lines += [
        "",
        "## Deferrals",
        "",
        "- While the phone rings (`reserved`) the Dial decides: agent and supervisor requests "
        "wait for its outcome. A pause asked for during a call (or during a ring then answered) "
        "starts when the call ends.",
        "- Device news during a ring or a call waits for its end; only the latest state is "
        "kept, so a blip changes nothing. It is applied before the deferred requests.",
        "- A deferred input the new state refuses is dropped.",
        "",
        "## Device rules",
        "",
        "Checked after every input. A `ready` agent is offered callers only when the phone is "
        + " or ".join(f"`{d}`" for d in DeviceState if d.free)
        + "; "
        + ", ".join(f"`{d}`" for d in DeviceState if not d.free and not d.lost)
        + " keep the agent ready but not offered, even when Asterisk says so before the "
        "daemon does.",
        "",
    ]
    for state, rule in DEVICE_RULES.items():
        lines.append(
            f"- `{state}` goes to `{rule.target}`"
            + (f" (reason `{rule.reason}`)" if rule.reason else "")
            + f" when {rule.when.value}."
        )
    lines += [
        "- When the AMI link is lost every device is `UNKNOWN` until the resynchronisation "
        "after the reconnect reports it again.",
        "",
        "## Restored sessions",
        "",
        "A new daemon (a restart, a crash, a standby taking over) sets each logged-in agent's "
        "record as the stored session has it (`acd/engine/sessions.py`), before any call: ready "
        "or paused with its reason; wrap-up with what is left of it; talking while Asterisk still "
        "has a channel on the agent's phone (then `on_call`, or `pending_logout`, until the phone "
        "is `NOT_INUSE` or unavailable, or no channel is left on it), else ready. The device "
        "rules apply to the restored record.",
        "",
    ]
    return "\n".join(lines)


def _cell(state: AgentState, event: AgentInput) -> str:
    cell = TRANSITIONS[state].get(event)
    if cell is None:
        return "-"
    text = "**defer**" if cell == DEFER else f"`{cell}`"
    return text + ("¹" if (state, event) in GUARDS else "")


if __name__ == "__main__":
    print(render_markdown(), end="")
