"""One customer call as data: the facts known when it arrived, and the steps of its timeline.

A call is ``Arrival`` (immutable: who called, on which channel, when) plus the steps that
happened to it, in order. Every step is frozen and carries ``at``, the wall-clock time of the
fact (epoch seconds: it is stored and shown). What the call *is* at any moment (queue, agent,
answer, outcome...) is a pure fold of the steps (``acd.daemon.call_state``); only the call's own
task, the call flow, adds steps (``acd.daemon.calls.Call.add_step``). Other parts of the daemon
(dialling, the AMI watcher, transfers, recording) return values or send the call signals; the
flow turns them into steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from acd.storage.models.calls import HungUpBy

IvrResult = Literal["queue", "self_service", "callback", "closed", "hangup"]
OverflowAction = Literal["widen_skills", "overflow_queue", "offer_callback"]


@dataclass(frozen=True, slots=True)
class Arrival:
    """What Asterisk told us when the call reached the daemon; never changes."""

    call_id: str  # the caller channel's Uniqueid (the dialplan's HOTLINE_CALL_ID)
    uniqueid: str
    channel: str
    number: str
    name: str | None  # caller id name as Asterisk gave it
    arrived_at: float


@dataclass(frozen=True, slots=True)
class Identified:
    """The caller lookup's answer (a slow or broken customer source leaves this step out)."""

    at: float
    name: str | None
    vip: bool
    last_agent: str | None  # offered first when idle


@dataclass(frozen=True, slots=True)
class IvrFinished:
    at: float
    result: IvrResult
    queue: str | None  # where the caller asked to go (a queue, or a call-back's queue)
    path: tuple[Mapping[str, object], ...]  # menus visited, keys, seconds (read-only views)
    reason: str | None = None
    order_number: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackLeg:
    """This call is the customer's leg of a booked call-back (``acd.daemon.callback_flow``)."""

    at: float
    callback_id: str
    booked_by_call: str | None
    attempt: int


@dataclass(frozen=True, slots=True)
class Queued:
    """The caller entered a queue: the first time, or again after a transfer."""

    at: float
    queue: str
    priority: int
    designated_agent: str | None = None  # a transfer to a named agent keeps it for them


@dataclass(frozen=True, slots=True)
class Announced:
    at: float
    position: int | None  # None: the queue does not say positions
    minutes: int | None


@dataclass(frozen=True, slots=True)
class Overflowed:
    """A rung of the queue's overflow ladder was taken."""

    at: float
    action: OverflowAction
    skills: tuple[str, ...] = ()  # widen_skills
    to_queue: str | None = None  # overflow_queue
    accepted: bool | None = None  # offer_callback: did the caller book it


@dataclass(frozen=True, slots=True)
class CallbackBooked:
    """A call-back keeping the caller's place was stored (the ``callbacks`` row)."""

    at: float
    callback_id: str
    queue: str
    due_at: float
    position: int | None  # callers ahead when it was booked (None: asked for in the IVR)


@dataclass(frozen=True, slots=True)
class Offered:
    """The floor offered the caller to this agent; the agent's phone rings from now."""

    at: float
    agent_id: str
    endpoint: str


@dataclass(frozen=True, slots=True)
class RingMissed:
    """The ring ended without an answer (no answer, busy, unreachable, or the caller left)."""

    at: float
    agent_id: str
    status: str  # Asterisk's DIALSTATUS: NOANSWER | BUSY | CHANUNAVAIL | CANCEL ...
    caller_gone: bool


@dataclass(frozen=True, slots=True)
class Answered:
    at: float
    agent_id: str
    agent_channel: str | None  # the agent's leg (AMI DialEnd DestChannel); None: AMI was away


@dataclass(frozen=True, slots=True)
class LegEnded:
    """The conversation with this leg's agent is over (``Dial`` returned)."""

    at: float
    hung_up_by: HungUpBy


@dataclass(frozen=True, slots=True)
class RecordingStarted:
    """The recording the offers of this leg start when the agent answers (the Dial's U(), on
    the agent's channel): its file; the leg that answers keeps it (``Leg.recording``)."""

    at: float
    path: str


@dataclass(frozen=True, slots=True)
class RecordingNotStarted:
    """The answered Dial did not start its recording (``RecordingStarted``): the leg went
    unrecorded; the next leg's Dial carries its own."""

    at: float


@dataclass(frozen=True, slots=True)
class RecordingPaused:
    at: float
    reason: str | None
    by: str | None
    resume_at: float


@dataclass(frozen=True, slots=True)
class RecordingResumed:
    at: float
    auto: bool
    by: str | None
    paused_s: float


@dataclass(frozen=True, slots=True)
class TransferAsked:
    """The agent's leg was hung up to transfer the caller (the leg ends next)."""

    at: float
    target: str  # "queue:<name>" or "agent:<id>"
    reason: str | None
    by: str


@dataclass(frozen=True, slots=True)
class Transferred:
    """The leg ended with the caller still there: they queue again for ``target``."""

    at: float
    from_agent: str | None
    target: str
    reason: str | None
    by: str


@dataclass(frozen=True, slots=True)
class SurveyDone:
    at: float
    rating: int | None  # None: hung up or no valid answer
    solved: bool | None


@dataclass(frozen=True, slots=True)
class HandedBack:
    """The daemon let the caller go unfinished (``HOTLINE_DONE`` unset): the dialplan offers
    them to a daemon again (route ``resume``, which continues this row), else its ``Queue()``."""

    at: float


@dataclass(frozen=True, slots=True)
class Ended:
    """The daemon is done with the caller (whatever the reason)."""

    at: float
    hung_up_by: HungUpBy  # used when no answered leg says otherwise
    failed: bool = False  # an error, a lost session or a stop ended it


@dataclass(frozen=True, slots=True)
class Catalogued:
    """The call's recording file was catalogued (after the call ended)."""

    at: float
    recording_id: str


Step = (
    Identified
    | IvrFinished
    | CallbackLeg
    | Queued
    | Announced
    | Overflowed
    | CallbackBooked
    | Offered
    | RingMissed
    | Answered
    | LegEnded
    | RecordingStarted
    | RecordingNotStarted
    | RecordingPaused
    | RecordingResumed
    | TransferAsked
    | Transferred
    | SurveyDone
    | HandedBack
    | Ended
    | Catalogued
)
