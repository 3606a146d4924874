"""What a call's steps become outside the daemon, decided in one place (pure).

Every output of a call derives from its steps here: the timeline row and MQTT lifecycle event of
a step (``step_event``), the ``calls`` row (``call_row``), the call-back a step books
(``callback_row``) and the KPI facts (``CallState.kpi_facts``). ``acd.daemon.outputs`` only
sends them.

The call row is written at explicit, countable points (``ROW_AFTER``): when the call arrives,
when it enters a queue, when an agent answers, and once more when the daemon is done with it
(after its recording was catalogued), each time with the timeline so far (``calls.timeline``).
Every other step adds only a timeline entry, or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from acd.daemon.call_state import CallState
from acd.daemon.call_steps import (
    Announced,
    Answered,
    CallbackBooked,
    CallbackLeg,
    Ended,
    IvrFinished,
    Offered,
    Overflowed,
    Queued,
    RecordingPaused,
    RecordingResumed,
    RingMissed,
    Step,
    SurveyDone,
    Transferred,
)
from acd.storage.commands import InsertCallback

# Steps after which the calls row is rewritten (besides the arrival and the final write).
ROW_AFTER: tuple[type[Step], ...] = (Queued, Answered)


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One timeline row (``call_events``); also an MQTT call event when ``kind`` is one."""

    kind: str
    agent_id: str | None = None
    data: dict[str, Any] | None = None


ARRIVED = CallEvent("arrived")


def step_event(state: CallState, step: Step) -> CallEvent | None:
    """The timeline row of ``step`` (``state`` is the call after it), or None."""
    match step:
        case IvrFinished():
            return CallEvent("ivr", data={"result": step.result, "reason": step.reason})
        case CallbackLeg():
            data = {
                "callback_id": step.callback_id,
                "booked_by_call": step.booked_by_call,
                "attempt": step.attempt,
            }
            return CallEvent("callback", data=data)
        case Queued():
            return CallEvent("queued", data={"priority": step.priority})
        case Announced():
            return CallEvent("announced", data={"position": step.position, "minutes": step.minutes})
        case Overflowed():
            return CallEvent("overflow", data=_overflow_data(step))
        case Offered():
            return CallEvent("offered", step.agent_id, {"endpoint": step.endpoint})
        case Answered():
            return CallEvent("answered", step.agent_id, {"agent_channel": step.agent_channel})
        case RingMissed() if not step.caller_gone:
            return CallEvent("ring_no_answer", step.agent_id, {"status": step.status})
        case RecordingPaused():
            resume_at = utc(step.resume_at).isoformat()
            paused = {"reason": step.reason, "by": step.by, "resume_at": resume_at}
            return CallEvent("recording_paused", state.agent_id, paused)
        case RecordingResumed():
            resumed = {"auto": step.auto, "by": step.by, "paused_s": round(step.paused_s, 3)}
            return CallEvent("recording_resumed", state.agent_id, resumed)
        case Transferred():
            data = {
                "from_agent": step.from_agent,
                "target": step.target,
                "reason": step.reason,
                "by": step.by,
            }
            return CallEvent("transferred", step.from_agent, data)
        case SurveyDone():
            return CallEvent("survey", data={"rating": step.rating, "solved": step.solved})
        case Ended():
            kind = "abandoned" if state.outcome == "abandoned" else "ended"
            data = {"outcome": state.outcome, "hung_up_by": state.hung_up_by}
            return CallEvent(kind, state.agent_id, data)
    return None


def _overflow_data(step: Overflowed) -> dict[str, Any]:
    if step.action == "widen_skills":
        return {"action": step.action, "skills": list(step.skills)}
    if step.action == "overflow_queue":
        return {"action": step.action, "to": step.to_queue}
    return {"action": step.action, "accepted": step.accepted}


def writes_row(step: Step) -> bool:
    return isinstance(step, ROW_AFTER)


def call_row(state: CallState) -> dict[str, Any]:
    """Column values of the ``calls`` row."""
    facts = state.facts
    return {
        "uniqueid": facts.uniqueid,
        "caller_number": facts.number,
        "caller_name": state.name,
        "arrived_at": utc(facts.arrived_at),
        "ivr_path": [dict(node) for node in state.ivr_path] or None,
        "queue": state.queue,
        "priority": state.priority,
        "ivr_reason": state.reason,
        "vip": state.vip,
        "queued_at": _utc_or_none(state.queued_at),
        "answered_at": _utc_or_none(state.answered_at),
        "agent_id": state.agent_id,
        "ended_at": _utc_or_none(state.ended_at),
        "hung_up_by": state.hung_up_by,
        "outcome": state.outcome,
        "ring_count": len(state.rings),
        "ring_time_s": round(sum(r.ended_at - r.started_at for r in state.rings), 3),
        "order_number": state.order_number,
        "recording_id": state.recording_id,
        "survey_rating": state.survey_rating,
        "survey_solved": state.survey_solved,
        "transfers": [dict(t) for t in state.transfers] or None,
    }


def _utc_or_none(epoch: float | None) -> datetime | None:
    return utc(epoch) if epoch is not None else None


def callback_row(state: CallState, step: CallbackBooked) -> InsertCallback:
    return InsertCallback(
        idempotency_key=f"{state.call_id}:cb:{step.callback_id}",
        callback_id=step.callback_id,
        call_id=state.call_id,
        number=state.facts.number,
        queue=step.queue,
        requested_at=utc(step.at),
        due_at=utc(step.due_at),
        position=step.position,
    )
