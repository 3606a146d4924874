"""hotline's history as Asterisk ``queue_log`` lines, for QueueMetrics-style tools.

Line format (main/logger.c, ``ast_queue_log``): ``epoch|callid|queue|agent|EVENT|data...``; the
call id is the caller channel's uniqueid, the agent the member name (our agent id), and times
are whole seconds as Asterisk's ``time(NULL)``/``ast_tvdiff_sec`` give them. Data fields follow
the ``ast_queue_log`` calls in apps/app_queue.c:

- ENTERQUEUE ``url|callerid|position`` (queue_exec);
- RINGNOANSWER ``ringtime_ms`` (rna);
- CONNECT ``holdtime|bridged channel uniqueid|ringtime`` (try_calling); we do not store the
  agent leg's uniqueid, so that field is empty;
- COMPLETECALLER / COMPLETEAGENT ``holdtime|calltime|origposition`` (try_calling, by who hung
  up);
- ABANDON / EXITWITHTIMEOUT ``position|origposition|waittime`` (queue_exec);
- PAUSE / UNPAUSE ``reason`` (do_set_member_penalty_paused), per queue of the member;
- ADDMEMBER ``""`` or ``PAUSED`` (handle_member_record / add_to_queue) and REMOVEMEMBER ``""``
  (remove_from_queue) for agent log-in and log-out.

Positions are not stored: they are recomputed first-come-first-served from the calls of the
same queue in the export (queue priorities are ignored), so they are approximate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from acd.reports.queries import CallRow, EventRow
from acd.reports.rows import StateRow

# Outcomes after queue entry that Asterisk would log as leaving on the queue timeout: hotline's
# overflow to a call-back or voicemail is its queue timer running out.
TIMEOUT_OUTCOMES = ("timeout", "callback", "voicemail")


@dataclass(frozen=True, slots=True, order=True)
class QueueLogLine:
    epoch: int
    order: int  # keeps the generation order of lines with the same second
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...] = ()

    def render(self) -> str:
        return "|".join(
            (str(self.epoch), self.callid, self.queue, self.agent, self.event, *self.data)
        )


def _s(at: datetime) -> int:
    return int(at.timestamp())


def _secs(later: datetime, earlier: datetime) -> str:
    return str(int((later - earlier).total_seconds()))


def _left_at(row: CallRow) -> datetime | None:
    return row.answered_at or row.ended_at


def _position(row: CallRow, peers: Sequence[CallRow], at: datetime) -> int:
    """1 + callers of the same queue who queued earlier and were still waiting at ``at``."""
    ahead = 0
    for other in peers:
        if other.id == row.id or other.queued_at is None or row.queued_at is None:
            continue
        left = _left_at(other)
        if other.queued_at < row.queued_at and (left is None or left > at):
            ahead += 1
    return ahead + 1


def call_lines(
    calls: Sequence[CallRow], timeline: Mapping[str, Sequence[EventRow]]
) -> list[QueueLogLine]:
    by_queue: dict[str, list[CallRow]] = {}
    for row in calls:
        if row.queue is not None and row.queued_at is not None:
            by_queue.setdefault(row.queue, []).append(row)
    lines: list[QueueLogLine] = []
    for queue, peers in by_queue.items():
        for row in peers:
            lines += _one_call(row, queue, peers, timeline.get(row.id, ()), len(lines))
    return lines


def _one_call(
    row: CallRow, queue: str, peers: Sequence[CallRow], events: Sequence[EventRow], base: int
) -> list[QueueLogLine]:
    assert row.queued_at is not None
    callid = row.uniqueid or row.id
    out: list[QueueLogLine] = []

    def add(at: datetime, agent: str, event: str, *data: str) -> None:
        out.append(QueueLogLine(_s(at), base + len(out), callid, queue, agent, event, data))

    entered = row.queued_at
    original = _position(row, peers, entered)
    add(entered, "NONE", "ENTERQUEUE", "", row.caller_number or "", str(original))
    ring_start: datetime | None = None
    for event in events:
        if event.kind == "offered":
            ring_start = event.at
        elif event.kind == "ring_no_answer" and event.agent_id:
            rang = event.at - (ring_start or event.at)
            add(event.at, event.agent_id, "RINGNOANSWER", str(int(rang.total_seconds() * 1000)))
    agent = row.agent_id or "NONE"
    if row.answered_at is not None:
        rang_s = _secs(row.answered_at, ring_start) if ring_start else "0"
        hold = _secs(row.answered_at, entered)
        add(row.answered_at, agent, "CONNECT", hold, "", rang_s)
        if row.ended_at is not None:
            ending = "COMPLETECALLER" if row.hung_up_by == "caller" else "COMPLETEAGENT"
            add(
                row.ended_at,
                agent,
                ending,
                hold,
                _secs(row.ended_at, row.answered_at),
                str(original),
            )
    elif row.ended_at is not None and row.outcome in ("abandoned", *TIMEOUT_OUTCOMES):
        ending = "ABANDON" if row.outcome == "abandoned" else "EXITWITHTIMEOUT"
        position = _position(row, peers, row.ended_at)
        add(
            row.ended_at, "NONE", ending, str(position), str(original), _secs(row.ended_at, entered)
        )
    return out


def agent_lines(
    states: Iterable[StateRow],
    start: datetime,
    end: datetime,
    agent_queues: Mapping[str, Sequence[str]],
    base: int = 0,
) -> list[QueueLogLine]:
    """Log-in/out and pauses from the state log (intervals that began in ``[start, end)``)."""
    lines: list[QueueLogLine] = []
    previous: dict[str, str] = {}
    for state in sorted(states, key=lambda s: (s.agent_id, s.started_at)):
        before = previous.get(state.agent_id)
        previous[state.agent_id] = state.state
        if not start <= state.started_at < end:
            continue
        events: list[tuple[str, str]] = []
        if state.state == "logged_out":
            if before not in (None, "logged_out"):
                events.append(("REMOVEMEMBER", ""))
        elif before in (None, "logged_out"):
            events.append(("ADDMEMBER", "PAUSED" if state.state == "paused" else ""))
        elif state.state == "paused":
            events.append(("PAUSE", state.reason or ""))
        elif before == "paused":
            events.append(("UNPAUSE", ""))
        for queue in agent_queues.get(state.agent_id) or ("NONE",):
            for event, data in events:
                lines.append(
                    QueueLogLine(
                        _s(state.started_at),
                        base + len(lines),
                        "NONE",
                        queue,
                        state.agent_id,
                        event,
                        (data,),
                    )
                )
    return lines


def queue_log(
    calls: Sequence[CallRow],
    timeline: Mapping[str, Sequence[EventRow]],
    states: Iterable[StateRow],
    *,
    start: datetime,
    end: datetime,
    agent_queues: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Every line, in time order (ties keep call-then-agent generation order)."""
    lines = call_lines(calls, timeline)
    lines += agent_lines(states, start, end, agent_queues or {}, base=len(lines))
    return [line.render() for line in sorted(lines)]
