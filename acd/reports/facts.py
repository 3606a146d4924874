"""From stored rows to ``acd.kpi.CallFacts``: ring start, hold, talk and wrap-up of each call.

Pure. What the rows do not say directly:
- ring start of the answered offer: the last ``offered`` timeline row of the answering agent at
  or before the answer;
- hold: ``hold``/``unhold`` pairs (a hold still open at the end counts until the call ended);
  talk is the connected time minus hold, so talk + hold is the time connected (the legs of a
  transferred call, not the wait between them);
- wrap-up: the agent's first ``wrap_up`` interval that starts at or after the answer and before
  that agent's next answered call; an interval still open counts until ``as_of``;
- abandoned: not answered and ended with outcome ``abandoned`` or ``timeout`` (the daemon's
  ``CallRecord.facts`` rule);
- resolved: the ``resolved`` flag, else the disposition code ``resolved`` when one was given;
- in progress: no end and no outcome yet (a period up to now): ``open_s`` is the time since
  queue entry at ``as_of``;
- fallback: ``handled_by`` is ``fallback`` (the dialplan's Queue() finished the call).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from acd.kpi import CallFacts, KpiSettings, repeat_calls
from acd.reports.queries import CallRow, EventRow
from acd.reports.rows import StateRow

ABANDON_OUTCOMES = ("abandoned", "timeout")


@dataclass(frozen=True, slots=True)
class ReportCall:
    row: CallRow
    facts: CallFacts


def _epoch(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def ring_started(row: CallRow, timeline: Sequence[EventRow]) -> datetime | None:
    if row.answered_at is None:
        return None
    started = None
    for event in timeline:
        mine = row.agent_id is None or event.agent_id == row.agent_id
        if event.kind == "offered" and event.at <= row.answered_at and mine:
            started = event.at
    return started


def hold_seconds(row: CallRow, timeline: Sequence[EventRow]) -> float:
    held = 0.0
    since: datetime | None = None
    for event in timeline:
        if event.kind == "hold" and since is None:
            since = event.at
        elif event.kind == "unhold" and since is not None:
            held += (event.at - since).total_seconds()
            since = None
    if since is not None and row.ended_at is not None:
        held += max(0.0, (row.ended_at - since).total_seconds())
    return held


def connected_seconds(row: CallRow, timeline: Sequence[EventRow]) -> float:
    """Seconds caller and an agent were connected: from each ``answered`` to the next
    ``transferred`` or the end, so the wait between the legs of a transferred call is not talk
    (as ``acd.daemon`` counts it). Rows without the per-leg timeline: end - answer."""
    if row.answered_at is None or row.ended_at is None:
        return 0.0
    total, since, legs = 0.0, None, 0
    for event in timeline:
        if event.kind == "answered" and since is None:
            since, legs = event.at, legs + 1
        elif event.kind == "transferred" and since is not None:
            total += (event.at - since).total_seconds()
            since = None
    if legs == 0:
        return max(0.0, (row.ended_at - row.answered_at).total_seconds())
    if since is not None:
        total += max(0.0, (row.ended_at - since).total_seconds())
    return total


def wrap_ups(
    calls: Sequence[CallRow], states: Sequence[StateRow], as_of: datetime
) -> dict[str, float]:
    """Wrap-up seconds by call id (only calls that have one)."""
    answered: dict[str, list[CallRow]] = {}
    for row in calls:
        if row.answered_at is not None and row.agent_id is not None:
            answered.setdefault(row.agent_id, []).append(row)
    result: dict[str, float] = {}
    for agent_rows in answered.values():
        agent_rows.sort(key=lambda r: r.answered_at or as_of)
    for state in states:
        if state.state != "wrap_up":
            continue
        rows = answered.get(state.agent_id, [])
        # The latest call this agent answered before the wrap-up began is the one wrapped up.
        owner = None
        for row in rows:
            if row.answered_at is not None and row.answered_at <= state.started_at:
                owner = row
        if owner is None or owner.id in result:
            continue
        ended = state.ended_at or max(as_of, state.started_at)
        result[owner.id] = (ended - state.started_at).total_seconds()
    return result


def _open_for(row: CallRow, as_of: datetime) -> float:
    assert row.queued_at is not None
    return max(0.0, (as_of - row.queued_at).total_seconds())


def resolution(row: CallRow) -> bool | None:
    if row.resolved is not None:
        return row.resolved
    if row.disposition_code is None:
        return None
    return row.disposition_code == "resolved"


def build_facts(
    calls: Sequence[CallRow],
    timeline: Mapping[str, Sequence[EventRow]],
    states: Sequence[StateRow],
    arrivals: Sequence[tuple[str, datetime]],
    *,
    settings: KpiSettings,
    ring_limits: Mapping[str, float],
    as_of: datetime,
) -> list[ReportCall]:
    """One ``ReportCall`` per row; ``ring_limits`` maps queue -> its 3 rings in seconds."""
    wrap = wrap_ups(calls, states, as_of)
    repeats = repeat_calls(
        [(row.caller_number, row.arrived_at.timestamp()) for row in calls],
        [(number, at.timestamp()) for number, at in arrivals],
        settings.repeat_window_s,
    )
    result: list[ReportCall] = []
    for row, repeated in zip(calls, repeats, strict=True):
        events = timeline.get(row.id, ())
        hold = talk = 0.0
        if row.answered_at is not None and row.ended_at is not None:
            hold = hold_seconds(row, events)
            talk = max(0.0, connected_seconds(row, events) - hold)
        abandoned = row.answered_at is None and row.outcome in ABANDON_OUTCOMES
        # A call with neither an end nor an outcome is in progress at ``as_of`` (a live period).
        still_open = row.ended_at is None and row.outcome is None and row.queued_at is not None
        facts = CallFacts(
            queued_at=_epoch(row.queued_at),
            answered_at=_epoch(row.answered_at),
            ring_started_at=_epoch(ring_started(row, events)),
            ended_at=_epoch(row.ended_at),
            abandoned_at=_epoch(row.ended_at) if abandoned else None,
            talk_s=talk,
            hold_s=hold,
            wrap_up_s=wrap.get(row.id, 0.0),
            ring_limit_s=ring_limits.get(row.queue) if row.queue else None,
            survey_rating=row.survey_rating,
            resolved=resolution(row),
            repeat_call=repeated,
            open_s=_open_for(row, as_of) if still_open else None,
            fallback=row.handled_by == "fallback",
        )
        result.append(ReportCall(row, facts))
    return result
