"""The agents' time: the state log merged with the conversations and wrap-ups on the calls rows.

Pure. Since migration ``0010_agent_legs`` the daemon stores a call's agent time on the call's
row (``calls.agent_legs``: each answered leg's agent, answer, end and wrap-up deadline) and no
longer as ``on_call``/``wrap_up`` intervals of ``agent_state_log`` (issue 13: at most 4 writes
per answered call). The log keeps the agents' own changes (log in and out, pauses, a wrap-up
ended early, a talking agent logging out, a restored outside call). ``merge_states`` gives the
intervals the log would have held before, so every report reads them as it did:

- a leg is ``on_call`` from its answer to its end (an open leg: to the call's end, else still
  open), then ``wrap_up`` from its end to its deadline (none when the deadline is not later);
- a derived interval only ever replaces ``ready`` (or ``reserved``) time of the log: it starts
  inside a logged ready interval and is cut at that interval's end, i.e. at the agent's next
  logged change (a pause during wrap-up, a ready pressed early, a logout, a crash's close). A
  derived interval that starts in any other logged state, or outside every interval, is left
  out: the log says what the agent did then;
- rows written before 0010 (and calls resumed after their daemon died) have no legs: their
  intervals are in the log and are taken as they are. Nothing is counted twice, since derived
  time only ever replaces logged ready time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from acd.reports.rows import StateRow
from acd.storage.agent_legs import LegRow

_IDLE = ("ready", "reserved")


def derived_intervals(legs: Iterable[LegRow]) -> list[StateRow]:
    """Each leg's ``on_call`` interval and the ``wrap_up`` that follows it (ended None: open)."""
    out: list[StateRow] = []
    for leg in legs:
        out.append(StateRow(leg.agent_id, "on_call", None, leg.answered_at, leg.ended_at))
        due = leg.wrap_up_due
        if leg.ended_at is not None and due is not None and due > leg.ended_at:
            out.append(StateRow(leg.agent_id, "wrap_up", None, leg.ended_at, due))
    return out


def merge_states(logged: Sequence[StateRow], legs: Iterable[LegRow]) -> list[StateRow]:
    """The log's intervals with the legs' on-call and wrap-up time put in place of the logged
    ready time they cover (rules above), ordered by agent and start."""
    derived: dict[str, list[StateRow]] = {}
    for row in derived_intervals(legs):
        derived.setdefault(row.agent_id, []).append(row)
    out: list[StateRow] = []
    by_agent: dict[str, list[StateRow]] = {}
    for row in logged:
        by_agent.setdefault(row.agent_id, []).append(row)
    for agent_id, rows in by_agent.items():
        mine = sorted(derived.get(agent_id, ()), key=lambda r: (r.started_at, r.state != "on_call"))
        for row in rows:
            if row.state in _IDLE and mine:
                out.extend(_fill(row, mine))
            else:
                out.append(row)
    out.sort(key=lambda r: (r.agent_id, r.started_at))
    return out


def _fill(idle: StateRow, derived: Sequence[StateRow]) -> list[StateRow]:
    """The idle interval with the derived intervals that start inside it laid over it, each
    cut at the idle interval's end and none overlapping the one before."""
    start, end = idle.started_at, idle.ended_at
    pieces: list[StateRow] = []
    at = start  # the idle interval is placed up to this instant
    for row in derived:
        if row.started_at < start or (end is not None and row.started_at >= end):
            continue  # it starts in another interval: that one says what the agent did
        begin = max(row.started_at, at)
        stop = _earliest(row.ended_at, end)
        if stop is not None and stop < begin:
            continue  # covered by the derived interval before it
        if begin > at:
            pieces.append(StateRow(idle.agent_id, idle.state, idle.reason, at, begin))
        pieces.append(StateRow(idle.agent_id, row.state, None, begin, stop))
        if stop is None:
            return pieces  # still going: nothing of the idle interval is left
        at = stop
    if not pieces:
        return [idle]
    if end is None or at < end:
        pieces.append(StateRow(idle.agent_id, idle.state, idle.reason, at, end))
    return pieces


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
