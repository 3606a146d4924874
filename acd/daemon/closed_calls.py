"""What the daemon keeps of finished calls: bounded by a time window and a count, stored so that
the cyclic garbage collector never walks it.

Two per-call caches live in the daemon: the final state of closed calls (the wallboard's
complaint window, a disposition right after the call) and finished calls' KPI facts (the
service-level gauge, the demo's running summary). Reports read the database, so neither needs
more than a recent window. Kept as objects (``CallState`` with its ``Arrival`` and rings, or
``CallFacts``) they were ~5 tracked containers and ~60 references a call, and every full
collection walked all of them: at 200 calls/s its pause grew from 17 to 186 ms in 30 s
(``bench/daemon_load.py``). Here each call is one exact ``tuple`` of strings, numbers and
``None``: CPython untracks such a tuple at the first collection that
sees it (``untrack_tuples`` in ``Modules/gcmodule.c``), so it costs memory only. Readers get
the records rebuilt on iteration (rare: a wallboard push, a metrics scrape).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Generic, NamedTuple, TypeVar

from acd.daemon.call_state import CallState
from acd.kpi import CallFacts

In = TypeVar("In")
Out = TypeVar("Out")
Row = tuple[object, ...]


class WindowedRows(Generic[In, Out]):
    """Items as flat tuples, oldest first; dropped when older than ``window_s`` (by the time
    given with each item and to ``prune``) or beyond ``max_rows``."""

    def __init__(
        self,
        window_s: float,
        max_rows: int,
        to_row: Callable[[In], Row],
        from_row: Callable[[Row], Out],
    ) -> None:
        self.window_s = window_s
        self.max_rows = max_rows
        self._to_row = to_row
        self._from_row = from_row
        self._at: deque[float] = deque(maxlen=max_rows)
        self._rows: deque[Row] = deque(maxlen=max_rows)

    def append(self, at: float, item: In) -> None:
        """``at``: the item's time on the clock ``prune`` is given (the wall clock)."""
        self._at.append(at)
        self._rows.append(self._to_row(item))
        self.prune(at)

    def prune(self, now: float) -> None:
        """Drop what is older than the window (also called while no call ends: memory goes
        back when the traffic stops)."""
        since = now - self.window_s
        at, rows = self._at, self._rows
        while at and at[0] < since:
            at.popleft()
            rows.popleft()

    def last_row(self) -> Row | None:
        return self._rows[-1] if self._rows else None

    def __iter__(self) -> Iterator[Out]:
        return map(self._from_row, list(self._rows))

    def __reversed__(self) -> Iterator[Out]:
        return map(self._from_row, reversed(list(self._rows)))

    def __len__(self) -> int:
        return len(self._rows)


class ClosedCall(NamedTuple):
    """What is kept of a closed call (``CallRegistry.recent``)."""

    call_id: str
    queue: str | None
    number: str
    channel: str
    arrived_at: float
    ended_at: float | None
    outcome: str | None
    agent_id: str | None
    talked: tuple[str, ...]  # every agent who answered (a transferred call had several)
    recording_path: str | None
    recording_id: str | None


def closed_call(state: CallState) -> ClosedCall:
    facts = state.facts
    return ClosedCall(
        call_id=state.call_id,
        queue=state.queue,
        number=facts.number,
        channel=facts.channel,
        arrived_at=facts.arrived_at,
        ended_at=state.ended_at,
        outcome=state.outcome,
        agent_id=state.agent_id,
        talked=tuple(sorted({r.agent_id for r in state.rings if r.result == "ANSWER"})),
        recording_path=next((leg.recording for leg in state.legs if leg.recording), None),
        recording_id=state.recording_id,
    )


_TALKED = ClosedCall._fields.index("talked")


def _closed_row(state: CallState) -> Row:
    # An exact tuple (a NamedTuple stays tracked) with no container inside: the agents joined
    # into one string, so the first collection that sees the row can untrack it.
    row = list(closed_call(state))
    row[_TALKED] = ",".join(row[_TALKED])  # type: ignore[arg-type]
    return tuple(row)


def _closed_from_row(row: Row) -> ClosedCall:
    talked = row[_TALKED]
    assert isinstance(talked, str)
    agents = tuple(talked.split(",")) if talked else ()
    return ClosedCall._make((*row[:_TALKED], agents, *row[_TALKED + 1 :]))


def closed_calls(window_s: float, max_rows: int) -> WindowedRows[CallState, ClosedCall]:
    """Closed calls for the wallboard: ``CallState`` in, ``ClosedCall`` out."""
    return WindowedRows(window_s, max_rows, _closed_row, _closed_from_row)


_FACT_FIELDS: tuple[str, ...] = CallFacts.__slots__


def _facts_row(facts: CallFacts) -> Row:
    return tuple([getattr(facts, name) for name in _FACT_FIELDS])


def _facts_from_row(row: Row) -> CallFacts:
    return CallFacts(*row)  # type: ignore[arg-type]


def finished_facts(window_s: float, max_rows: int) -> WindowedRows[CallFacts, CallFacts]:
    """Finished calls' KPI facts (every field a number, a bool or ``None``)."""
    return WindowedRows(window_s, max_rows, _facts_row, _facts_from_row)
