"""The calls the dialplan's plain ``Queue()`` handled, from Asterisk's logs: pure, no I/O.

``plan_import`` takes the lines read since the last import (each with its byte offset) and
decides which calls are finished and can be imported now, and from where the next import must
read again so that nothing is skipped: a call whose stay in the queue is not over yet (or whose
Master.csv record may still come) pins the position at its first line, so it is read again,
whole, next time. Importing is idempotent by the call id, so reading a line twice never makes a
row twice.

A call is its queue_log lines (callid = the caller channel's Uniqueid, the daemon's call id):
``ENTERQUEUE`` → queued (time, queue, caller id); ``RINGNOANSWER``/``RINGCANCELED`` → a missed
ring; ``CONNECT`` → answered by the member (``agent`` field); ``COMPLETECALLER`` /
``COMPLETEAGENT`` / a transfer → ended after talking; ``ABANDON`` → the caller left;
``EXITWITHTIMEOUT`` → the queue's timeout; ``EXITEMPTY`` (no members) → failed; ``EXITWITHKEY``
→ the caller left with a key. The Master.csv records of the caller channel (same uniqueid) give
the channel's start (arrival at the PBX), its end (hang-up) and the linkedid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from acd.asterisk.cdr_csv import CdrRecord
from acd.asterisk.queue_log import ANSWERED_END, NO_CALL, TERMINAL, QueueLogLine
from acd.storage.timeline import TimelineStep

Outcome = str  # one of acd.storage.models.calls OUTCOMES
_UNANSWERED: dict[str, tuple[Outcome, str]] = {
    "ABANDON": ("abandoned", "caller"),
    "EXITWITHKEY": ("abandoned", "caller"),
    "EXITWITHTIMEOUT": ("timeout", "system"),
    "EXITEMPTY": ("failed", "system"),
}


@dataclass(frozen=True, slots=True)
class FallbackCall:
    """One finished stay in the fallback queue, ready to be stored."""

    call_id: str
    queue: str
    caller_number: str | None
    queued_at: float  # epoch seconds
    answered_at: float | None
    agent: str | None  # the member name queue_log gives (queues.conf membername)
    ended_at: float
    outcome: Outcome  # answered, abandoned, timeout, failed
    hung_up_by: str | None  # caller, agent, system
    rings: int  # offers the caller missed (ring no answer), the answered one not counted
    ring_time_s: float  # every ring, the answered one included
    answer_ring_s: float = 0.0  # how long the answering member's phone rang (CONNECT)
    arrived_at: float | None = None  # the channel's start (Master.csv); None without a record
    linkedid: str | None = None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    calls: list[FallbackCall]
    queue_log_offset: int  # where the next import reads queue_log from
    cdr_offset: int  # where it reads Master.csv from
    given_up: list[str] = field(default_factory=list)  # calls never finished within give_up_s


@dataclass
class _Stay:
    first_offset: int
    lines: list[QueueLogLine] = field(default_factory=list)

    @property
    def last(self) -> QueueLogLine:
        return self.lines[-1]


def plan_import(
    queue_log: Iterable[tuple[int, QueueLogLine]],
    cdr: Iterable[tuple[int, CdrRecord]],
    *,
    queue_log_end: int,
    cdr_end: int,
    now: float,
    cdr_expected: bool,
    cdr_wait_s: float = 30.0,
    give_up_s: float = 86_400.0,
) -> ImportPlan:
    """Decide what to import from the lines read (``queue_log`` and ``cdr``: (offset, line));
    ``*_end`` are the offsets just past the last whole line read. ``cdr_expected``: a
    Master.csv is configured, so a finished call waits up to ``cdr_wait_s`` (after its last
    queue_log line, by ``now``) for its record. A call still in the queue ``give_up_s`` after
    its last line (Asterisk stopped meanwhile) is left out for good."""
    stays: dict[str, _Stay] = {}
    for offset, line in queue_log:
        if line.callid == NO_CALL:
            continue
        stay = stays.get(line.callid)
        if stay is None:
            stays[line.callid] = stay = _Stay(offset)
        stay.lines.append(line)
    records: dict[str, list[tuple[int, CdrRecord]]] = {}
    for offset, record in cdr:
        records.setdefault(record.uniqueid, []).append((offset, record))
    ready: list[FallbackCall] = []
    pending: dict[str, _Stay] = {}
    given_up: list[str] = []
    for call_id, stay in stays.items():
        mine = [r for _, r in records.get(call_id, ())]
        over = stay.last.event in TERMINAL
        if over and not any(x.event == "ENTERQUEUE" for x in stay.lines):
            given_up.append(call_id)  # it entered before the file we read (rotated): unknown
            continue
        if not over:
            if now - stay.last.time >= give_up_s:
                given_up.append(call_id)
            else:
                pending[call_id] = stay
            continue
        if cdr_expected and not mine and now - stay.last.time < cdr_wait_s:
            pending[call_id] = stay  # its Master.csv record is written when the channel goes
            continue
        ready.append(_finished(call_id, stay.lines, mine))
    queue_log_offset = min((s.first_offset for s in pending.values()), default=queue_log_end)
    cdr_offset = min(
        (offset for call_id in pending for offset, _ in records.get(call_id, ())),
        default=cdr_end,
    )
    ready.sort(key=lambda c: (c.queued_at, c.call_id))
    return ImportPlan(ready, queue_log_offset, cdr_offset, given_up)


def _finished(
    call_id: str, lines: Sequence[QueueLogLine], records: Sequence[CdrRecord]
) -> FallbackCall:
    """The call whose stay in the queue is over: its last line ends it, it has ENTERQUEUE."""
    enter = next(x for x in lines if x.event == "ENTERQUEUE")
    last = lines[-1]
    connect = next((x for x in lines if x.event == "CONNECT"), None)
    rings, ring_s = 0, 0.0
    for line in lines:
        if line.event in ("RINGNOANSWER", "RINGCANCELED"):
            rings += line.event == "RINGNOANSWER"
            ring_s += (line.number(0) or 0.0) / 1000.0
    answer_ring_s = (connect.number(2) or 0.0) if connect is not None else 0.0
    ring_s += answer_ring_s
    if connect is not None and last.event in ANSWERED_END:
        outcome: Outcome = "answered"
        hung_up_by: str | None = "caller" if last.event == "COMPLETECALLER" else "agent"
    else:
        outcome, hung_up_by = _UNANSWERED.get(last.event, ("failed", "system"))
    caller = enter.field(1)
    ended = float(last.time)
    arrived = linkedid = None
    if records:
        # The caller channel's records (one per dial attempt of Queue()): the first starts
        # when the channel was created, the last ends when it hung up.
        arrived = min(r.start for r in records).timestamp()
        ended = max(ended, max(r.end for r in records).timestamp())
        linkedid = next((r.linkedid for r in records if r.linkedid), None)
    return FallbackCall(
        call_id=call_id,
        queue=enter.queue,
        caller_number=caller if caller and caller != "<unknown>" else None,
        queued_at=float(enter.time),
        answered_at=float(connect.time) if connect is not None else None,
        agent=connect.agent if connect is not None else None,
        ended_at=ended,
        outcome=outcome,
        hung_up_by=hung_up_by,
        rings=rings,
        ring_time_s=round(ring_s, 3),
        answer_ring_s=answer_ring_s,
        arrived_at=min(arrived, float(enter.time)) if arrived is not None else None,
        linkedid=linkedid,
    )


def fallback_steps(call: FallbackCall, agent_id: str | None, first_seq: int) -> list[TimelineStep]:
    """The call's stay in the fallback queue as timeline steps from ``first_seq`` on: queued
    (``data.fallback``), offered to the answering member (when its phone started ringing, so
    "answered within 3 rings" is measured as for the daemon's calls), answered, ended."""
    steps: list[tuple[float, str, str | None, dict[str, object] | None]] = [
        (call.queued_at, "queued", None, {"queue": call.queue, "fallback": True})
    ]
    if call.answered_at is not None:
        rang = max(call.queued_at, call.answered_at - call.answer_ring_s)
        steps.append((rang, "offered", agent_id, None))
        steps.append((call.answered_at, "answered", agent_id, None))
    steps.append((call.ended_at, "ended", None, {"outcome": call.outcome}))
    return [
        TimelineStep(
            seq=first_seq + i,
            at=datetime.fromtimestamp(at, UTC),
            kind=kind,
            agent_id=agent,
            data=data,
        )
        for i, (at, kind, agent, data) in enumerate(steps)
    ]
