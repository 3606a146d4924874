"""What a call is at any moment: a pure fold of its steps (``acd.daemon.call_steps``).

``advance(state, step)`` is the only way a ``CallState`` changes; ``fold(arrival, steps)`` replays
a whole timeline. Pure: no I/O, no clock. The rules that used to be spread over the daemon live
here once: the FIRST answer is the call's answer (ASA, service level), talk is the sum of the
answered legs, a transfer starts a new leg, and the outcome follows from what happened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from acd.daemon.call_steps import (
    Announced,
    Answered,
    Arrival,
    CallbackBooked,
    CallbackLeg,
    Catalogued,
    Ended,
    HandedBack,
    Identified,
    IvrFinished,
    LegEnded,
    Offered,
    Overflowed,
    Queued,
    RecordingNotStarted,
    RecordingPaused,
    RecordingResumed,
    RecordingStarted,
    RingMissed,
    Step,
    SurveyDone,
    TransferAsked,
    Transferred,
)
from acd.kpi import CallFacts
from acd.storage.models.calls import HungUpBy, Outcome


@dataclass(frozen=True, slots=True)
class Ring:
    agent_id: str
    started_at: float
    ended_at: float
    result: str  # ANSWER | NOANSWER | BUSY | CHANUNAVAIL | CANCEL ...


@dataclass(frozen=True, slots=True)
class Leg:
    """One answered leg: the agent's conversation (``calls.agent_legs``; the agent's on-call
    time is derived from it, and the wrap-up that follows from its end)."""

    agent_id: str
    queue: str | None  # the queue it was answered in (its wrap-up length)
    answered_at: float
    ended_at: float | None = None  # None: still talking
    recording: str | None = None  # its recording's file (started at its answer); None: none


@dataclass(frozen=True, slots=True)
class CallState:
    facts: Arrival
    steps: int = 0  # the last step's number (a resumed call continues the first daemon's)
    name: str | None = None
    vip: bool = False
    preferred_agent: str | None = None
    ivr_result: str | None = None
    ivr_path: tuple[Mapping[str, object], ...] = ()
    reason: str | None = None
    order_number: str | None = None
    language: str | None = None
    callback_id: str | None = None  # this call is a call-back's customer leg
    queue: str | None = None
    priority: int = 0
    queued_at: float | None = None  # the FIRST queue entry (KPIs)
    agent_id: str | None = None  # ringing, talking, or the last leg's agent
    ringing_since: float | None = None
    ring_started_at: float | None = None  # ring start of the first answered offer
    answered_at: float | None = None  # the FIRST answer (KPIs)
    leg_answered_at: float | None = None  # set while talking to an agent
    agent_channel: str | None = None  # the talking agent's leg
    last_leg: tuple[float, HungUpBy] | None = None  # (end, who hung up) of the leg just over
    legs_done: int = 0
    talk_s: float = 0.0  # sum of the finished legs
    rings: tuple[Ring, ...] = ()
    legs: tuple[Leg, ...] = ()  # the answered legs, in order
    # legs are numbered from leg_base + 1 (their recordings' files); a resumed call's from past
    # any an earlier daemon numbered, which this one cannot know (acd.daemon.resume_data)
    leg_base: int = 0
    transfers: tuple[Mapping[str, Any], ...] = ()
    transfer_asked: TransferAsked | None = None
    recording_path: str | None = None  # the recording the current leg's offers start at answer
    recording_paused: bool = False
    recording_id: str | None = None
    survey_rating: int | None = None
    survey_solved: bool | None = None
    callback_booked: bool = False
    handed_back: bool = False
    ended_at: float | None = None
    hung_up_by: HungUpBy | None = None
    outcome: Outcome | None = None

    @property
    def call_id(self) -> str:
        return self.facts.call_id

    @property
    def talking(self) -> bool:
        """In a conversation with an agent now."""
        return self.leg_answered_at is not None

    @property
    def over(self) -> bool:
        return self.ended_at is not None

    def kpi_facts(self, wrap_up_s: float = 0.0, ring_limit_s: float | None = None) -> CallFacts:
        """The KPI view of this call (``acd.kpi`` defines what each number means)."""
        abandoned_at = None
        if self.answered_at is None and self.outcome in ("abandoned", "timeout"):
            abandoned_at = self.ended_at
        return CallFacts(
            queued_at=self.queued_at,
            answered_at=self.answered_at,
            ring_started_at=self.ring_started_at,
            ended_at=self.ended_at,
            abandoned_at=abandoned_at,
            talk_s=self.talk_s,
            wrap_up_s=wrap_up_s if self.answered_at is not None else 0.0,
            ring_limit_s=ring_limit_s,
            survey_rating=self.survey_rating,
        )


_STATE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CallState))


def _copier(names: tuple[str, ...]) -> Callable[[CallState, dict[str, Any]], CallState]:
    """``dataclasses.replace`` for ``CallState``, written out field by field once at import
    (as ``dataclasses`` writes ``__init__``): 3.2 µs a copy against 6.5 for a loop over the
    fields (timed alone, one machine); ``replace`` also looks the fields up at every call.
    Every step of every call makes one, four or five on the caller's way to the agent's ring.
    The class has no ``__post_init__`` to skip; ``changes`` is consumed, and a name left over
    is an error."""
    lines = ["def copy(state, changes):", "    new = new_state(CallState)"]
    setters: dict[str, object] = {}
    for index, name in enumerate(names):
        setters[f"set_{index}"] = getattr(CallState, name).__set__  # the slot's descriptor
        lines.append(
            f"    set_{index}(new, changes.pop({name!r}) if {name!r} in changes else state.{name})"
        )
    lines += [
        "    if changes:",
        "        raise TypeError(f'CallState has no field(s) {sorted(changes)}')",
        "    return new",
    ]
    scope: dict[str, Any] = {"new_state": object.__new__, "CallState": CallState, **setters}
    # our own field names, fixed at import; the file name shows in a traceback through it
    exec(compile("\n".join(lines), "<CallState copier>", "exec"), scope)
    copy: Callable[[CallState, dict[str, Any]], CallState] = scope["copy"]
    copy.__qualname__ = "CallState copier"
    return copy


_copy = _copier(_STATE_FIELDS)


def fold(arrival: Arrival, steps: Iterable[Step]) -> CallState:
    state = CallState(arrival, name=arrival.name)
    for step in steps:
        state = advance(state, step)
    return state


def advance(state: CallState, step: Step) -> CallState:
    """The call after ``step``: one copy of the state, with the step counted."""
    changes = _changes(state, step)
    changes["steps"] = state.steps + 1
    return _copy(state, changes)


def _changes(s: CallState, step: Step) -> dict[str, Any]:
    """The fields ``step`` changes (the step count aside)."""
    match step:
        case Identified():
            return {
                "name": step.name or s.name,
                "vip": step.vip,
                "preferred_agent": step.last_agent,
            }
        case IvrFinished():
            return {
                "ivr_result": step.result,
                "ivr_path": step.path,
                "reason": step.reason,
                "order_number": step.order_number,
                "language": step.language,
                "queue": step.queue if step.result == "callback" else s.queue,
            }
        case CallbackLeg():
            return {"callback_id": step.callback_id}
        case Queued():
            return {
                "queue": step.queue,
                "priority": step.priority,
                "queued_at": s.queued_at if s.queued_at is not None else step.at,
                "agent_id": None,
                "transfer_asked": None,
            }
        case Overflowed():
            return {} if step.to_queue is None else {"queue": step.to_queue}
        case CallbackBooked():
            return {"callback_booked": True, "queue": step.queue}
        case Offered():
            return {"agent_id": step.agent_id, "ringing_since": step.at}
        case RingMissed():
            ring = Ring(step.agent_id, s.ringing_since or step.at, step.at, step.status)
            return {"agent_id": None, "ringing_since": None, "rings": (*s.rings, ring)}
        case Answered():
            return _answered(s, step)
        case LegEnded():
            talk = step.at - s.leg_answered_at if s.leg_answered_at is not None else 0.0
            return {
                "legs": _leg_closed(s.legs, step.at),
                "talk_s": s.talk_s + talk,
                "leg_answered_at": None,
                "agent_channel": None,
                "recording_path": None,  # each leg's offers order their own
                "recording_paused": False,
                "last_leg": (step.at, step.hung_up_by),
                "legs_done": s.legs_done + 1,
            }
        case RecordingStarted():
            return {"recording_path": step.path}
        case RecordingNotStarted():
            legs = s.legs
            if legs and legs[-1].recording == s.recording_path:  # the leg just answered
                legs = (*legs[:-1], replace(legs[-1], recording=None))
            return {"recording_path": None, "legs": legs}
        case RecordingPaused():
            return {"recording_paused": True}
        case RecordingResumed():
            return {"recording_paused": False}
        case TransferAsked():
            return {"transfer_asked": step}
        case Transferred():
            entry = {
                "from_agent": step.from_agent,
                "target": step.target,
                "reason": step.reason,
                "by": step.by,
                "at": step.at,
            }
            return {
                "transfers": (*s.transfers, entry),
                "transfer_asked": None,
                "agent_id": None,
                "last_leg": None,  # the call goes on: the next leg decides how it ends
            }
        case SurveyDone():
            return {"survey_rating": step.rating, "survey_solved": step.solved}
        case HandedBack():
            return {"handed_back": True}
        case Ended():
            return _ended(s, step)
        case Catalogued():
            return {"recording_id": step.recording_id}
        case Announced():
            return {}
    raise TypeError(f"not a call step: {step!r}")  # pragma: no cover - the union is exhaustive


def _answered(s: CallState, step: Answered) -> dict[str, Any]:
    started = s.ringing_since if s.ringing_since is not None else step.at
    first = s.answered_at is None
    return {
        "agent_id": step.agent_id,
        "rings": (*s.rings, Ring(step.agent_id, started, step.at, "ANSWER")),
        "ringing_since": None,
        "answered_at": step.at if first else s.answered_at,
        "ring_started_at": started if first else s.ring_started_at,
        "leg_answered_at": step.at,
        "agent_channel": step.agent_channel,
        "legs": (
            *_leg_closed(s.legs, step.at),
            Leg(step.agent_id, s.queue, step.at, recording=s.recording_path),
        ),
    }


def _leg_closed(legs: tuple[Leg, ...], at: float) -> tuple[Leg, ...]:
    """The legs with the last one ended at ``at`` if it was still going."""
    if legs and legs[-1].ended_at is None:
        return (*legs[:-1], replace(legs[-1], ended_at=max(at, legs[-1].answered_at)))
    return legs


def _ended(s: CallState, step: Ended) -> dict[str, Any]:
    talk = s.talk_s
    legs = s.legs
    if s.leg_answered_at is not None:  # lost mid-conversation: talk runs to the end
        talk += step.at - s.leg_answered_at
        legs = _leg_closed(legs, step.at)
    hung_up_by: HungUpBy = step.hung_up_by
    ended_at = step.at
    if s.last_leg is not None:  # the call ended with a conversation: that leg's end decides
        ended_at, hung_up_by = s.last_leg
    elif s.ivr_result == "hangup":
        hung_up_by = "caller"
    return {
        "talk_s": talk,
        "legs": legs,
        "leg_answered_at": None,
        "agent_channel": None,
        "ringing_since": None,
        "ended_at": ended_at,
        "hung_up_by": hung_up_by,
        "outcome": outcome(s, step.failed),
    }


def outcome(s: CallState, failed: bool) -> Outcome:
    """How a call ended, from what happened to it (the ``calls.outcome`` column)."""
    if s.callback_booked or s.ivr_result == "callback":
        return "callback"
    if s.handed_back:
        return "fallback"
    if s.ivr_result == "self_service":
        return "self_service"
    if s.ivr_result == "closed":
        return "closed"
    if s.ivr_result == "hangup":
        return "ivr_hangup"
    if s.legs_done:  # a conversation took place (a transferred caller may leave the 2nd queue)
        return "answered"
    if s.answered_at is not None:  # answered, then lost mid-conversation
        return "failed" if failed else "answered"
    if s.queued_at is not None:
        return "failed" if failed else "abandoned"
    return "failed" if failed else "ivr_hangup"
