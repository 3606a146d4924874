"""Storage throughput: the daemon's write pattern at N calls a second through the real writer.

Feeds ``StorageWriter`` (the daemon's, with its default ``max_queue``) the writes of ``--rate``
new calls a second for ``--duration`` seconds, each write submitted at its due time, then waits
until everything is committed. Two write patterns:

- ``4_writes_per_call`` (the daemon now): the row upserted at arrival, queue entry, answer and
  end, each with the timeline so far (no ``call_events`` rows); the answer and the end carry
  the agent's leg (``calls.agent_legs``: answer, then end and wrap-up deadline, and
  ``calls.wrap_up_due``), from which the reports derive the on-call and wrap-up time: no agent
  state row (the log keeps only the agents' own changes: log in and out, pauses);
- ``7_writes_per_call`` (the daemon before migration 0010): the same four row upserts without
  the leg, plus three agent states (on call, wrap-up, ready: the ring is stored as ready),
  each carrying the agent's session (device, wrap-up deadline, call, queue; their first form,
  an ``agent_sessions`` upsert per change, made 11 writes per call);
- ``14_writes_per_call`` (the daemon before issue 13): the row upserted at arrival, queue,
  answer, end and once more after the end, five ``call_events`` rows, four agent states
  (ringing, on call, wrap-up, ready).

Backends: SQLite (a file in a temp directory, WAL and BEGIN IMMEDIATE as ``acd.storage.engine``
sets them up) and PostgreSQL (``--pg-dsn``, a schema of its own, dropped afterwards).

Printed per run (``--json``): ``calls_per_s_sustained`` (calls whose writes are all committed,
per second of the traffic window: calls / (time until drained - the call's last write offset);
equals the offered rate when the database keeps up), ``writes_per_s`` (writes over the same
window), ``storage_writes_spooled`` (backlog moved to the disk spool: 0 means it kept up),
``max_backlog`` (most writes waiting in memory at once), ``p99_commit_ms`` (one transaction,
BEGIN to COMMIT done), ``p99_write_latency_ms`` (submit to committed), ``rows_ok`` (the
database holds every call row and agent state row it should).

    python bench/storage.py --json [--duration 30] [--sqlite-rate 200] [--pg-rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import os
import resource
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.storage.agent_legs import leg_json
from acd.storage.commands import (
    AppendAgentState,
    AppendCallEvent,
    UpsertCall,
    WriteCommand,
)
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import AgentStateLog, Call
from acd.storage.spool import Spool
from acd.storage.timeline import TimelineStep
from acd.storage.writer import StorageWriter

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
AGENT_REUSE_S = 5.0  # an agent takes a new call only after its previous one is fully written
TIMELINE = (
    (0.0, "arrived", None),
    (0.1, "ivr_node", {"node": "main"}),
    (0.15, "ivr_node", {"node": "orders", "key": "1"}),
    (0.2, "queued", {"queue": "orders", "position": 1}),
    (0.5, "offered", {"ring": 1}),
    (0.5, "ringing", None),
    (1.0, "answered", None),
    (2.0, "hold", None),
    (2.5, "unhold", None),
    (4.0, "ended", {"hung_up_by": "agent"}),
)

Builder = Callable[["CallPlan"], list[WriteCommand]]


@dataclass(frozen=True)
class CallPlan:
    index: int
    arrived: datetime
    agent_id: str
    agent_round: int  # how many calls this agent had before: alternates its states

    @property
    def call_id(self) -> str:
        return f"c{self.index:07d}"

    def at(self, offset_s: float) -> datetime:
        return self.arrived + timedelta(seconds=offset_s)

    def row(self, *, answered: bool, ended: bool) -> dict[str, Any]:
        """The columns the daemon writes with every row upsert (``Outputs._upsert``)."""
        return {
            "arrived_at": self.arrived,
            "uniqueid": f"1700000000.{self.index}",
            "caller_number": f"+4930{self.index:07d}",
            "caller_name": None,
            "queue": "orders",
            "priority": 0,
            "ivr_reason": "orders",
            "vip": False,
            "ivr_path": [{"node": "main", "key": "1", "seconds": 2.1}],
            "queued_at": self.at(0.2),
            "agent_id": self.agent_id if answered else None,
            "answered_at": self.at(1.0) if answered else None,
            "ended_at": self.at(4.0) if ended else None,
            "hung_up_by": "agent" if ended else None,
            "outcome": "answered" if answered else None,
            "ring_count": 1 if answered else 0,
            "ring_time_s": 0.5 if answered else 0.0,
            "order_number": None,
            "recording_id": f"r{self.index}" if ended else None,
            "survey_rating": None,
            "survey_solved": None,
            "transfers": None,
        }


def _upsert(call: CallPlan, tag: str, *, answered: bool, ended: bool) -> UpsertCall:
    values = call.row(answered=answered, ended=ended)
    return UpsertCall(idempotency_key=f"{call.call_id}:{tag}", call_id=call.call_id, values=values)


def _state(
    call: CallPlan, tag: str, state: str, offset_s: float, *, session: bool = False
) -> AppendAgentState:
    """An agent state change; with ``session``, the session fields the daemon puts on it."""
    return AppendAgentState(
        idempotency_key=f"{call.call_id}:st:{tag}",
        agent_id=call.agent_id,
        state=state,
        reason=None,
        at=call.at(offset_s),
        endpoint=f"PJSIP/{call.agent_id}" if session else None,
        wrap_up_due=call.at(offset_s + 0.5) if session and state == "wrap_up" else None,
        call_id=call.call_id if session and state == "on_call" else None,
        queue="orders" if session else None,
    )


def _event(call: CallPlan, seq: int) -> AppendCallEvent:
    offset, kind, data = TIMELINE[seq - 1]
    return AppendCallEvent(
        idempotency_key=f"{call.call_id}:ev:{seq}",
        call_id=call.call_id,
        seq=seq,
        at=call.at(offset),
        kind=kind,
        agent_id=call.agent_id if kind in ("offered", "ringing", "answered") else None,
        data=data,
    )


def _steps(call: CallPlan, upto: int = len(TIMELINE)) -> tuple[TimelineStep, ...]:
    return tuple(
        TimelineStep(seq=seq, at=call.at(offset), kind=kind, data=data)
        for seq, (offset, kind, data) in enumerate(TIMELINE[:upto], start=1)
    )


def _with_timeline(call: CallPlan, tag: str, upto: int, *, answered: bool) -> UpsertCall:
    row = _upsert(call, tag, answered=answered, ended=False)
    return UpsertCall(idempotency_key=row.idempotency_key, call_id=call.call_id,
                      values=row.values, timeline=_steps(call, upto))  # fmt: skip


def _final_row(call: CallPlan) -> UpsertCall:
    end = _upsert(call, "end", answered=True, ended=True)
    return UpsertCall(idempotency_key=end.idempotency_key, call_id=call.call_id,
                      values=end.values, timeline=_steps(call))  # fmt: skip


def _final(call: CallPlan) -> list[WriteCommand]:
    return [_final_row(call)]


def _with_leg(command: UpsertCall, call: CallPlan, *, ended: bool) -> UpsertCall:
    """The row write with the agent's leg (``Outputs._legs``): open at the answer, with its end
    and wrap-up deadline at the end."""
    due = call.at(4.5) if ended else None
    leg = leg_json(call.agent_id, "orders", call.at(1.0), call.at(4.0) if ended else None, due)
    values = {**command.values, "agent_legs": [leg], "wrap_up_due": due}
    return UpsertCall(idempotency_key=command.idempotency_key, call_id=call.call_id,
                      values=values, timeline=command.timeline)  # fmt: skip


# (offset after arrival, writes due then)
PATTERNS: dict[str, list[tuple[float, Builder]]] = {
    "4_writes_per_call": [
        (0.0, lambda c: [_with_timeline(c, "arrived", 1, answered=False)]),
        (0.2, lambda c: [_with_timeline(c, "queued", 4, answered=False)]),
        (
            1.0,
            lambda c: [_with_leg(_with_timeline(c, "answered", 7, answered=True), c, ended=False)],
        ),
        (4.0, lambda c: [_with_leg(_final_row(c), c, ended=True)]),
    ],
    "7_writes_per_call": [
        (0.0, lambda c: [_with_timeline(c, "arrived", 1, answered=False)]),
        (0.2, lambda c: [_with_timeline(c, "queued", 4, answered=False)]),
        (
            1.0,
            lambda c: [
                _state(c, "2", "on_call", 1.0, session=True),
                _with_timeline(c, "answered", 7, answered=True),
            ],
        ),
        (4.0, lambda c: [_state(c, "3", "wrap_up", 4.0, session=True), *_final(c)]),
        (4.5, lambda c: [_state(c, "4", "ready", 4.5, session=True)]),
    ],
    "14_writes_per_call": [
        (0.0, lambda c: [_upsert(c, "arrived", answered=False, ended=False), _event(c, 1)]),
        (0.2, lambda c: [_upsert(c, "queued", answered=False, ended=False), _event(c, 4)]),
        (0.5, lambda c: [_state(c, "1", "ringing", 0.5), _event(c, 5)]),
        (
            1.0,
            lambda c: [
                _state(c, "2", "on_call", 1.0),
                _upsert(c, "answered", answered=True, ended=False),
                _event(c, 7),
            ],
        ),
        (
            4.0,
            lambda c: [
                _state(c, "3", "wrap_up", 4.0),
                _upsert(c, "ended", answered=True, ended=True),
                _event(c, 10),
                _upsert(c, "row", answered=True, ended=True),
            ],
        ),
        (4.5, lambda c: [_state(c, "4", "ready", 4.5)]),
    ],
}


def percentile(values: array[float] | list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


class Meter:
    """Commit times and submit-to-commit latencies. The writer commits in submit order, so the
    n-th command committed is the n-th submitted."""

    def __init__(self, total: int) -> None:
        self.submitted_at = array("d", bytes(8 * total))
        self.latencies: array[float] = array("d")
        self.commits: array[float] = array("d")
        self.committed = 0

    def on_commit(self, count: int, seconds: float) -> None:
        done = time.perf_counter()
        self.commits.append(seconds)
        for k in range(self.committed, self.committed + count):
            self.latencies.append(done - self.submitted_at[k])
        self.committed += count


def writes_per_call(pattern: str) -> int:
    sample = _plan(0, 1.0, datetime(2026, 3, 2, tzinfo=UTC), 1)
    return sum(len(build(sample)) for _, build in PATTERNS[pattern])


async def feed(
    writer: StorageWriter, meter: Meter, pattern: str, *, rate: float, calls: int, agents: int
) -> dict[str, Any]:
    phases = PATTERNS[pattern]
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    # One heap entry per phase: its next call. Popping in due order keeps every agent's and
    # every call's writes in time order even when the feeder runs late.
    heap = [(offset, number, 0) for number, (offset, _) in enumerate(phases)]
    heapq.heapify(heap)
    start = time.perf_counter()
    sent = max_backlog = 0
    while heap:
        due, number, index = heap[0]
        now = time.perf_counter() - start
        if due > now:
            max_backlog = max(max_backlog, writer.backlog)
            await asyncio.sleep(due - now)
            continue
        heapq.heappop(heap)
        for command in phases[number][1](_plan(index, rate, base, agents)):
            meter.submitted_at[sent] = time.perf_counter()
            writer.submit(command)
            sent += 1
        if index + 1 < calls:
            heapq.heappush(heap, (phases[number][0] + (index + 1) / rate, number, index + 1))
    await writer.wait_drained()
    drained = time.perf_counter() - start
    window = drained - phases[-1][0]
    return {
        "calls": calls,
        "writes": sent,
        "calls_per_s_sustained": round(calls / window, 1),
        "writes_per_s": round(sent / window, 1),
        "drained_after_s": round(drained, 2),
        "max_backlog": max(max_backlog, writer.stats.max_backlog),
        "transactions": len(meter.commits),
        "p50_commit_ms": round(percentile(meter.commits, 0.50) * 1000, 2),
        "p99_commit_ms": round(percentile(meter.commits, 0.99) * 1000, 2),
        "p99_write_latency_ms": round(percentile(meter.latencies, 0.99) * 1000, 2),
    }


def _plan(index: int, rate: float, base: datetime, agents: int) -> CallPlan:
    return CallPlan(
        index=index,
        arrived=base + timedelta(seconds=index / rate),
        agent_id=f"a{index % agents:05d}",
        agent_round=index // agents,
    )


async def run_one(
    backend: str, pattern: str, rate: float, duration: float, pg_dsn: str
) -> dict[str, Any]:
    agents = math.ceil(rate * AGENT_REUSE_S)
    calls = int(rate * duration)
    meter = Meter(calls * writes_per_call(pattern))
    with tempfile.TemporaryDirectory(prefix="hotline-bench-storage-") as tmp:
        engine, cleanup = await _database(backend, Path(tmp), pg_dsn)
        try:
            await upgrade(engine)
            writer = StorageWriter(engine, Spool(Path(tmp) / "spool"), on_commit=meter.on_commit)
            await writer.start()
            cpu = resource.getrusage(resource.RUSAGE_SELF)
            try:
                result = await feed(writer, meter, pattern, rate=rate, calls=calls, agents=agents)
            finally:
                await writer.close()
            used = resource.getrusage(resource.RUSAGE_SELF)
            rejected = Spool(Path(tmp) / "spool").rejected_path.exists()
            rows_ok = await _rows_ok(engine, pattern, result["calls"], agents) and not rejected
        finally:
            await engine.dispose()
            await cleanup()
    cpu_s = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
    return {
        "backend": backend,
        "pattern": pattern,
        "writes_per_call": writes_per_call(pattern),
        "calls_per_s_offered": rate,
        **result,
        "storage_writes_spooled": writer.spilled,
        "bench_cpu_s_per_1000_writes": round(cpu_s / result["writes"] * 1000, 3),
        "rows_ok": rows_ok,
    }


async def _rows_ok(engine: AsyncEngine, pattern: str, calls: int, agents: int) -> bool:
    states_per_call = {"4_writes_per_call": 0, "7_writes_per_call": 3}.get(pattern, 4)
    async with session_factory(engine)() as session:
        call_rows = await session.scalar(select(func.count()).select_from(Call))
        ended = await session.scalar(select(func.count()).where(Call.ended_at.is_not(None)))
        state_rows = await session.scalar(select(func.count()).select_from(AgentStateLog))
        open_rows = await session.scalar(
            select(func.count()).where(AgentStateLog.ended_at.is_(None))
        )
    return (call_rows, ended, state_rows, open_rows) == (
        calls,
        calls,
        calls * states_per_call,
        min(calls, agents) if states_per_call else 0,
    )


async def _database(backend: str, tmp: Path, pg_dsn: str) -> tuple[AsyncEngine, Callable[[], Any]]:
    if backend == "sqlite":

        async def nothing() -> None:
            return None

        return create_engine(f"sqlite+aiosqlite:///{tmp}/hotline.db"), nothing
    schema = f"bench_storage_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(pg_dsn, timeout=10)
    await admin.execute(f'CREATE SCHEMA "{schema}"')

    async def drop() -> None:
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await admin.close()

    engine = create_engine(pg_dsn, connect_args={"server_settings": {"search_path": schema}})
    return engine, drop


async def run(args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    for backend in args.backends.split(","):
        rate = args.sqlite_rate if backend == "sqlite" else args.pg_rate
        for pattern in args.patterns.split(","):
            runs.append(await run_one(backend, pattern, rate, args.duration, args.pg_dsn))
            if not args.json:
                print(_line(runs[-1]), file=sys.stderr, flush=True)
    return {
        "machine": {"cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg()[0]},
        "duration_s": args.duration,
        "runs": runs,
    }


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['backend']:<10} {r['pattern']:<19} offered {r['calls_per_s_offered']:>6}/s  "
        f"sustained {r['calls_per_s_sustained']:>7}/s  writes {r['writes_per_s']:>8}/s  "
        f"spooled {r['storage_writes_spooled']:>6}  max backlog {r['max_backlog']:>6}  "
        f"p99 commit {r['p99_commit_ms']:>7} ms  rows ok {r['rows_ok']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--sqlite-rate", type=float, default=200.0)
    parser.add_argument("--pg-rate", type=float, default=1000.0)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--patterns",
        default="4_writes_per_call,7_writes_per_call,14_writes_per_call",
    )
    parser.add_argument("--pg-dsn", default=os.environ.get("HOTLINE_BENCH_PG_DSN", PG_DSN))
    args = parser.parse_args()
    try:
        result = asyncio.run(run(args))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"database unreachable: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(result))
    else:
        for r in result["runs"]:
            print(_line(r))
    return 0 if all(r["rows_ok"] for r in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
