"""One customer call as the daemon sees it, and the registry that finds it by Asterisk ids.

``CallRecord`` is the call's timeline (arrival, IVR path, queue entry, each offer and ring, answer,
end, who hung up, outcome); it is plain data. The registry maps Asterisk's Uniqueid of the
caller's channel to the record, so AMI events (an answer seen as ``DialEnd`` with
``DialStatus: ANSWER``) reach the right call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from acd.kpi import CallFacts
from acd.storage.models.calls import HungUpBy, Outcome


@dataclass(frozen=True, slots=True)
class Ring:
    agent_id: str
    started_at: float
    ended_at: float
    result: str  # ANSWER | NOANSWER | BUSY | CHANUNAVAIL | CANCEL ...


@dataclass(slots=True)
class CallRecord:
    call_id: str
    uniqueid: str
    channel: str
    number: str
    name: str | None
    arrived_at: float
    ivr_path: list[dict[str, Any]] = field(default_factory=list)
    queue: str | None = None
    priority: int = 0
    reason: str | None = None
    vip: bool = False
    preferred_agent: str | None = None  # the caller's last agent, offered first when idle
    queued_at: float | None = None
    agent_id: str | None = None
    ring_started_at: float | None = None
    answered_at: float | None = None
    agent_channel: str | None = None  # the agent's leg in the bridge (AMI DialEnd DestChannel)
    ended_at: float | None = None
    hung_up_by: HungUpBy | None = None
    outcome: Outcome | None = None
    rings: list[Ring] = field(default_factory=list)
    order_number: str | None = None
    language: str | None = None
    recording_path: str | None = None  # set when MixMonitor started at the answer
    recording_id: str | None = None  # set once the file is catalogued
    survey_rating: int | None = None
    survey_solved: bool | None = None
    # Transfers (acd.daemon.transfers): the pending request, set by the API before the agent's
    # leg is hung up, and each transfer done ({from_agent, target, reason, by, at}).
    transfer_to: str | None = None  # "queue:<name>" or "agent:<id>"
    transfer_reason: str | None = None
    transfer_by: str | None = None
    transfers: list[dict[str, Any]] = field(default_factory=list)
    # ``answered_at`` is the FIRST answer (ASA, service level); a later leg's answer is
    # ``leg_answered_at``, and talk of legs before a transfer is ``talk_before_s``.
    leg_answered_at: float | None = None
    talk_before_s: float = 0.0
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def facts(self, wrap_up_s: float = 0.0, ring_limit_s: float | None = None) -> CallFacts:
        """The KPI view of this call (``acd.kpi`` defines what each number means)."""
        talk = 0.0
        if self.answered_at is not None and self.ended_at is not None:
            # Talk ends at a transfer and restarts at the next answer: waiting between is not talk.
            leg = self.leg_answered_at if self.transfers else self.answered_at
            talk = self.talk_before_s + (self.ended_at - leg if leg is not None else 0.0)
        abandoned_at = None
        if self.answered_at is None and self.outcome in ("abandoned", "timeout"):
            abandoned_at = self.ended_at
        return CallFacts(
            queued_at=self.queued_at,
            answered_at=self.answered_at,
            ring_started_at=self.ring_started_at,
            ended_at=self.ended_at,
            abandoned_at=abandoned_at,
            talk_s=talk,
            wrap_up_s=wrap_up_s if self.answered_at is not None else 0.0,
            ring_limit_s=ring_limit_s,
        )

    def row(self) -> dict[str, Any]:
        """Column values of the ``calls`` row (times as epoch seconds; storage converts)."""
        return {
            "uniqueid": self.uniqueid,
            "caller_number": self.number,
            "caller_name": self.name,
            "queue": self.queue,
            "priority": self.priority,
            "ivr_reason": self.reason,
            "vip": self.vip,
            "agent_id": self.agent_id,
            "hung_up_by": self.hung_up_by,
            "outcome": self.outcome,
            "ring_count": len(self.rings),
            "order_number": self.order_number,
            "recording_id": self.recording_id,
            "survey_rating": self.survey_rating,
            "survey_solved": self.survey_solved,
            "transfers": list(self.transfers) or None,
        }


RECENT_KEPT = 50_000  # closed calls kept for the wallboard's time windows (a busy day)


class CallRegistry:
    """Live calls by call id and by the caller channel's Uniqueid; ``recent`` holds closed
    calls, oldest first (the wallboard's service level over the last minutes comes from it)."""

    def __init__(self) -> None:
        self.recent: deque[CallRecord] = deque(maxlen=RECENT_KEPT)
        self._by_id: dict[str, CallRecord] = {}
        self._by_uniqueid: dict[str, CallRecord] = {}
        self._answer_hooks: dict[str, Callable[[float, str | None], None]] = {}

    def open(self, record: CallRecord) -> None:
        self._by_id[record.call_id] = record
        self._by_uniqueid[record.uniqueid] = record

    def close(self, call_id: str) -> CallRecord | None:
        record = self._by_id.pop(call_id, None)
        if record is not None:
            self._by_uniqueid.pop(record.uniqueid, None)
            self._answer_hooks.pop(record.uniqueid, None)
            self.recent.append(record)
        return record

    def get(self, call_id: str) -> CallRecord | None:
        return self._by_id.get(call_id)

    def by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        return self._by_uniqueid.get(uniqueid)

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def on_answer(self, uniqueid: str, hook: Callable[[float, str | None], None]) -> None:
        """Call ``hook(at, agent_channel)`` when AMI reports the caller's Dial answered."""
        self._answer_hooks[uniqueid] = hook

    def answered(self, uniqueid: str, at: float, agent_channel: str | None) -> bool:
        hook = self._answer_hooks.pop(uniqueid, None)
        if hook is None:
            return False
        record = self._by_uniqueid.get(uniqueid)
        if record is not None and agent_channel:
            record.agent_channel = agent_channel  # supervisors spy on this channel
        hook(at, agent_channel)
        return True
