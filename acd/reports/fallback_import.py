"""The fallback import job: calls the dialplan's plain ``Queue()`` handled go into ``calls``.

Each run reads what Asterisk appended to ``Master.csv`` and ``queue_log`` since the positions
stored in ``import_positions`` (the CDR first: a record is written when its channel hangs up,
after that call's last queue_log line, so every record read belongs to a call whose lines are
read too), lets ``acd.reports.fallback_calls.plan_import`` pick the finished calls, and stores
them together with the new positions in ONE transaction: a crash or restart between runs
neither skips a line nor imports one twice. Rows are keyed by the call id (the caller channel's
Uniqueid, as the daemon's own rows are), so even a file read again from its start (rotated,
another mount) makes no row twice:

- no row yet: one is inserted, ``handled_by = 'fallback'``, with a short timeline;
- the daemon's row (the caller was handed back to the dialplan, or the daemon died): completed
  with the fallback's answer, agent, end and outcome, its timeline extended, ``handled_by`` set
  to ``'fallback'`` (so a late write of the daemon cannot overwrite it: ``acd.storage.apply``);
- a row already imported: left as it is.

The first run on a database starts at the end of the files: calls before hotline's first import
are not hotline's to report (``from_start=True`` reads them all). A file that is missing is
waited for; one whose inode changed or that shrank (logrotate) is read from its start.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.asterisk import cdr_csv, queue_log
from acd.logging import get_logger
from acd.reports.fallback_calls import FallbackCall, ImportPlan, fallback_steps, plan_import
from acd.settings.schema_system import FallbackImportSettings
from acd.storage.models import Call, CallEvent, ImportPosition
from acd.storage.timeline import decode_timeline, encode_timeline

log = get_logger(__name__)

QUEUE_LOG: Final = "queue_log"
CDR_CSV: Final = "cdr_csv"
MAX_READ_BYTES: Final = 8 << 20  # per file and run; the rest is read by the next run
_ID_CHUNK: Final = 500  # call ids per SELECT ... IN


@dataclass(frozen=True, slots=True)
class Position:
    path: str
    inode: int | None
    offset: int


@dataclass(frozen=True, slots=True)
class Window:
    """The whole lines of one file from ``start`` (before ``end``), each with its offset."""

    path: str
    inode: int | None
    start: int
    end: int
    lines: list[tuple[int, str]]
    rotated: bool = False


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int = 0  # calls only the fallback saw
    completed: int = 0  # the daemon's rows completed from queue_log
    already: int = 0  # imported before (a file read again)
    given_up: int = 0
    bad_lines: int = 0
    pending: bool = False  # calls still in the fallback queue (read again next run)

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "inserted": self.inserted,
            "completed": self.completed,
            "already": self.already,
            "given_up": self.given_up,
            "bad_lines": self.bad_lines,
            "pending": self.pending,
        }


def read_window(path: Path, saved: Position | None, *, from_start: bool) -> Window:
    """What was appended to ``path`` since ``saved`` (blocking: run it in a thread)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return Window(str(path), None, 0, 0, [])
    with handle:
        stat = os.fstat(handle.fileno())
        if saved is None:
            start = 0 if from_start else stat.st_size
        elif saved.inode == stat.st_ino and saved.offset <= stat.st_size:
            start = saved.offset
        else:
            start = 0  # rotated or truncated: the file is new
        rotated = saved is not None and saved.offset > 0 and start == 0
        handle.seek(start)
        data = handle.read(MAX_READ_BYTES)
    whole = data[: data.rfind(b"\n") + 1]  # a line still being written is read next time
    lines: list[tuple[int, str]] = []
    offset = start
    for raw in whole.split(b"\n")[:-1]:
        lines.append((offset, raw.decode("utf-8", errors="replace")))
        offset += len(raw) + 1
    return Window(str(path), stat.st_ino, start, start + len(whole), lines, rotated)


def agent_ids_by_member(members: Sequence[tuple[str, str]]) -> dict[str, str]:
    """queue_log names the member (queues.conf membername: the agent's name): name -> agent id,
    leaving out a name two agents share (that call's agent stays unknown)."""
    counts: dict[str, int] = {}
    for name, _ in members:
        counts[name] = counts.get(name, 0) + 1
    return {name: agent for name, agent in members if counts[name] == 1}


class FallbackImport:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: FallbackImportSettings,
        agent_ids: Mapping[str, str],
        *,
        clock: Callable[[], float] | None = None,
        from_start: bool = False,
        hold: Callable[[], bool] | None = None,
    ) -> None:
        """``hold``: true while the daemon's own writes wait in its spool (``StorageWriter.
        spooling``); a run then would not see their rows and insert the fallback's instead
        (the daemon's replay then conflicts) while moving the positions past the lines."""
        self._engine = engine
        self._hold = hold
        self._settings = settings
        self._agent_ids = dict(agent_ids)
        self._clock = clock or (lambda: datetime.now(UTC).timestamp())
        self._from_start = from_start
        zone = settings.cdr_timezone
        self._zone: tzinfo | None = ZoneInfo(zone) if zone else None  # None: this machine's
        self.runs = 0
        self.imported = 0  # calls inserted or completed since this job started
        self.last: ImportResult | None = None

    async def run(self) -> None:
        """Import now, then every ``every_s``; a failed run is logged and tried again."""
        while True:
            try:
                if self._hold is None or not self._hold():
                    await self.run_once()
            except Exception as exc:  # a database outage: the positions were not moved
                log.warning("fallback_import_failed", error=str(exc).splitlines()[0][:200])
            await asyncio.sleep(self._settings.every_s)

    async def run_once(self) -> ImportResult:
        settings = self._settings
        saved = await self._positions()
        cdr_path = Path(settings.cdr_csv) if settings.cdr_csv else None
        cdr = None
        if cdr_path is not None:
            cdr = await asyncio.to_thread(
                read_window, cdr_path, saved.get(CDR_CSV), from_start=self._from_start
            )
        qlog = await asyncio.to_thread(
            read_window,
            Path(settings.queue_log),
            saved.get(QUEUE_LOG),
            from_start=self._from_start,
        )
        for window in (w for w in (qlog, cdr) if w is not None and w.rotated):
            log.warning("fallback_import_file_rotated", path=window.path, why="read from its start")
        plan, bad = self._plan(qlog, cdr)
        async with self._engine.begin() as conn:
            result = await self._store(conn, plan)
            now = _utc(self._clock())
            await _save(conn, QUEUE_LOG, qlog, plan.queue_log_offset, now)
            if cdr is not None:
                await _save(conn, CDR_CSV, cdr, plan.cdr_offset, now)
        result = ImportResult(
            result.inserted,
            result.completed,
            result.already,
            len(plan.given_up),
            bad,
            plan.queue_log_offset < qlog.end,
        )
        if plan.given_up:
            log.warning(
                "fallback_calls_never_finished",
                calls=plan.given_up[:10],
                count=len(plan.given_up),
                why="no end in queue_log a day after their last line: left out",
            )
        if result.inserted or result.completed or result.given_up or bad:
            log.info("fallback_import", **result.as_dict())
        self.runs += 1
        self.imported += result.inserted + result.completed
        self.last = result
        return result

    def _plan(self, qlog: Window, cdr: Window | None) -> tuple[ImportPlan, int]:
        bad = 0
        lines: list[tuple[int, queue_log.QueueLogLine]] = []
        for offset, text in qlog.lines:
            try:
                lines.append((offset, queue_log.parse_line(text)))
            except queue_log.QueueLogFormatError as exc:
                bad += 1
                _bad_line(qlog.path, offset, exc)
        records: list[tuple[int, cdr_csv.CdrRecord]] = []
        for offset, text in cdr.lines if cdr is not None else ():
            try:
                records.append((offset, cdr_csv.parse_line(text, self._zone)))
            except cdr_csv.CdrFormatError as exc:
                bad += 1
                _bad_line(cdr.path if cdr is not None else "", offset, exc)
        plan = plan_import(
            lines,
            records,
            queue_log_end=qlog.end,
            cdr_end=cdr.end if cdr is not None else 0,
            now=self._clock(),
            cdr_expected=cdr is not None and cdr.inode is not None,
        )
        return plan, bad

    async def _positions(self) -> dict[str, Position]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    ImportPosition.source,
                    ImportPosition.path,
                    ImportPosition.inode,
                    ImportPosition.offset,
                )
            )
            return {source: Position(path, inode, offset) for source, path, inode, offset in rows}

    async def _store(self, conn: AsyncConnection, plan: ImportPlan) -> ImportResult:
        calls = plan.calls
        existing: dict[str, Any] = {}
        table = _table()
        for i in range(0, len(calls), _ID_CHUNK):
            ids = [c.call_id for c in calls[i : i + _ID_CHUNK]]
            query = select(
                table.c.id,
                table.c.handled_by,
                table.c.queue,
                table.c.queued_at,
                table.c.answered_at,
                table.c.agent_id,
                table.c.ring_count,
                table.c.ring_time_s,
                table.c.timeline,
            ).where(table.c.id.in_(ids))
            existing.update({row.id: row for row in await conn.execute(query)})
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        as_events: list[tuple[FallbackCall, str | None]] = []
        already = 0
        for call in calls:
            row = existing.get(call.call_id)
            agent = self._agent_ids.get(call.agent) if call.agent else None
            if row is None:
                inserts.append(_new_row(call, agent))
            elif row.handled_by == "fallback":
                already += 1
            else:
                updates.append(_completed_row(row, call, agent))
                if row.timeline is None:  # its steps are call_events rows (no timeline column)
                    as_events.append((call, agent))
        if inserts:
            # DO NOTHING: a daemon row written since the SELECT keeps the daemon's (next run
            # completes it)
            statement = _insert(conn).on_conflict_do_nothing(index_elements=["id"])
            await conn.execute(statement, inserts)
        for has_timeline in (True, False):
            group = [u for u in updates if ("timeline_" in u) is has_timeline]
            if group:
                await conn.execute(_update_statement(has_timeline), group)
        if as_events:
            await _append_events(conn, as_events)
        return ImportResult(inserted=len(inserts), completed=len(updates), already=already)


def _update_statement(with_timeline: bool) -> Any:
    table = _table()
    names = [n for n in _UPDATED if with_timeline or n != "timeline"]
    return (
        update(table)
        .where(table.c.id == bindparam("call_id_"), table.c.handled_by == "daemon")
        .values(
            linkedid=func.coalesce(table.c.linkedid, bindparam("linkedid_")),
            **{name: bindparam(f"{name}_") for name in names},
        )
    )


async def _append_events(
    conn: AsyncConnection, calls: list[tuple[FallbackCall, str | None]]
) -> None:
    """The fallback's steps as ``call_events`` rows after the daemon's, for a call written
    before the timeline column (a report reads one form per call)."""
    ids = [call.call_id for call, _ in calls]
    last = dict(
        (
            await conn.execute(
                select(CallEvent.call_id, func.max(CallEvent.seq))
                .where(CallEvent.call_id.in_(ids))
                .group_by(CallEvent.call_id)
            )
        ).all()
    )
    rows = [
        {
            "call_id": call.call_id,
            "seq": step.seq,
            "at": step.at,
            "kind": step.kind,
            "agent_id": step.agent_id,
            "data": None if step.data is None else dict(step.data),
        }
        for call, agent in calls
        for step in fallback_steps(call, agent, (last.get(call.call_id) or 0) + 1)
    ]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(CallEvent).on_conflict_do_nothing(index_elements=["call_id", "seq"])
    await conn.execute(statement, rows)


# Columns a completed daemon row gets from the fallback (bound as "<name>_").
_UPDATED: Final = (
    "queue",
    "queued_at",
    "answered_at",
    "agent_id",
    "ended_at",
    "hung_up_by",
    "outcome",
    "ring_count",
    "ring_time_s",
    "timeline",
    "handled_by",
)


def _table() -> Table:
    table = Call.__table__
    assert isinstance(table, Table)
    return table


def _insert(conn: AsyncConnection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(_table())
    return sqlite.insert(_table())


def _utc(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _new_row(call: FallbackCall, agent: str | None) -> dict[str, Any]:
    arrived = call.arrived_at if call.arrived_at is not None else call.queued_at
    return {
        "id": call.call_id,
        "uniqueid": call.call_id,
        "linkedid": call.linkedid,
        "caller_number": call.caller_number,
        "arrived_at": _utc(arrived),
        "queue": call.queue,
        "queued_at": _utc(call.queued_at),
        "answered_at": _utc(call.answered_at),
        "agent_id": agent,
        "ended_at": _utc(call.ended_at),
        "hung_up_by": call.hung_up_by,
        "outcome": call.outcome,
        "ring_count": call.rings,
        "ring_time_s": call.ring_time_s,
        "timeline": encode_timeline(fallback_steps(call, agent, 1)),
        "handled_by": "fallback",
    }


def _completed_row(row: Any, call: FallbackCall, agent: str | None) -> dict[str, Any]:
    """The daemon's row with the fallback's end. A conversation the daemon already had keeps
    its first answer and agent (like a transfer: the first answer counts for ASA and the
    service level); the queue and first queue entry stay the daemon's."""
    answered = row.answered_at if row.answered_at is not None else _utc(call.answered_at)
    values = {
        "call_id_": call.call_id,
        "linkedid_": call.linkedid,
        "queue_": row.queue or call.queue,
        "queued_at_": row.queued_at or _utc(call.queued_at),
        "answered_at_": answered,
        "agent_id_": row.agent_id if row.answered_at is not None else agent,
        "ended_at_": _utc(call.ended_at),
        "hung_up_by_": call.hung_up_by,
        "outcome_": "answered" if answered is not None else call.outcome,
        "ring_count_": row.ring_count + call.rings,
        "ring_time_s_": row.ring_time_s + call.ring_time_s,
        "handled_by_": "fallback",
    }
    if row.timeline is not None:  # steps in the timeline column: the fallback's follow
        steps = decode_timeline(row.timeline)
        first = steps[-1].seq + 1 if steps else 1
        values["timeline_"] = encode_timeline([*steps, *fallback_steps(call, agent, first)])
    return values


async def _save(
    conn: AsyncConnection, source: str, window: Window, offset: int, now: datetime | None
) -> None:
    values = {
        "source": source,
        "path": window.path,
        "inode": window.inode,
        "offset": offset if window.inode is not None else 0,  # a missing file: from its start
        "updated_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(ImportPosition)
    changes = {k: v for k, v in values.items() if k != "source"}
    statement = insert.values(values).on_conflict_do_update(index_elements=["source"], set_=changes)
    await conn.execute(statement)


def _bad_line(path: str, offset: int, exc: Exception) -> None:
    log.warning("fallback_import_bad_line", path=path, offset=offset, error=str(exc))
