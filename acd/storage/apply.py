"""Apply a batch of write commands in one transaction, with a few statements per table.

Exactly once comes from natural keys, so a replayed command (spool replay after an outage or a
crash, or the ambiguous failure where the commit reached the server but its answer did not)
leaves the database as it was:
- a call row is upserted by its id (replaying a suffix of the submit order ends in the same row),
  unless the fallback import completed it from Asterisk's queue_log (``handled_by``);
- a timeline row by (call_id, seq), a recording and a call-back by their ids, a recording's
  leg file by (recording, leg) (ON CONFLICT DO NOTHING); agents and customers by their ids;
  call-back updates set values, they add nothing;
- an agent state change by the key stored on the interval it opens (``acd.storage.agent_states``).
Only audit entries and recording pauses, which have no natural key, still claim their key in
``applied_writes`` (pruned with ``prune_applied_writes``).

Statements are Core INSERT ... ON CONFLICT / UPDATE with executemany, never ORM units of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.storage.agent_states import apply_state_changes, close_open_states
from acd.storage.batch import BatchPlan, Row, by_columns, claimed_row, plan_batch
from acd.storage.commands import (
    AppendAgentState,
    AppendAudit,
    UpdateCallback,
    UpsertCall,
    UpsertCustomer,
    WriteCommand,
    check_spoolable,
)
from acd.storage.engine import Database, dialect_name
from acd.storage.models import (
    CALLBACK_STATES,
    Agent,
    AppliedWrite,
    AuditLog,
    Base,
    Call,
    Callback,
    CallEvent,
    Customer,
    DaemonHeartbeat,
    Recording,
    RecordingLeg,
    RecordingPause,
)
from acd.storage.timeline import check_timeline

MAX_KEY_LENGTH = 128
# ``timeline`` is not a plain column value: it comes as ``UpsertCall.timeline`` (typed steps).
_CALL_COLUMNS = frozenset(c.name for c in Call.__table__.columns) - {"id", "timeline"}
_CUSTOMER_COLUMNS = frozenset(c.name for c in Customer.__table__.columns) - {"number"}


def check_command(command: WriteCommand) -> None:
    """Refuse, at submit time, a command that could never be spooled or applied (a bug)."""
    key = command.idempotency_key
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"idempotency_key must be 1..{MAX_KEY_LENGTH} characters: {key!r}")
    if isinstance(command, UpsertCall):
        if not command.values.keys() <= _CALL_COLUMNS:
            unknown = sorted(command.values.keys() - _CALL_COLUMNS)
            raise ValueError(f"unknown calls columns {unknown}")
        if command.timeline is not None:
            check_timeline(command.timeline)
    if isinstance(command, UpsertCustomer) and not command.values.keys() <= _CUSTOMER_COLUMNS:
        unknown = sorted(command.values.keys() - _CUSTOMER_COLUMNS)
        raise ValueError(f"unknown customers columns {unknown}")
    if isinstance(command, UpdateCallback) and command.state not in CALLBACK_STATES:
        raise ValueError(f"unknown call-back state {command.state!r}")
    check_spoolable(command)


async def apply_batch(db: Database, commands: list[WriteCommand], now: datetime) -> int:
    """Apply ``commands`` inside the caller's transaction, as if one by one in order; returns
    how many were recognised as applied before (where the database reports it)."""
    plan = plan_batch(commands)
    skipped = 0
    await _upsert(db, Agent, "id", list(plan.agents.values()))
    await _upsert(db, Customer, "number", list(plan.customers.values()))
    await _write_calls(db, plan)
    skipped += await _insert_new(db, CallEvent, ["call_id", "seq"], plan.call_events.values())
    skipped += await _insert_new(db, Recording, ["id"], plan.recordings.values())
    # one per leg file: (recording, leg) is unique, so a replay inserts nothing twice
    await _insert_new(db, RecordingLeg, ["recording_id", "leg"], plan.recording_legs.values())
    skipped += await _insert_new(db, Callback, ["id"], plan.callbacks.values())
    await _update_callbacks(db, plan.callback_updates)
    skipped += await _write_claimed(db, plan, now)
    run: list[AppendAgentState] = []
    for change in plan.agent_states:
        if isinstance(change, AppendAgentState):
            run.append(change)
            continue
        skipped += await apply_state_changes(db, run)
        run = []
        await close_open_states(db, change.at)
    skipped += await apply_state_changes(db, run)
    await _upsert(db, DaemonHeartbeat, "node", list(plan.heartbeats.values()))
    return skipped


async def apply_command(db: Database, command: WriteCommand, now: datetime) -> bool:
    """Apply one command inside the caller's transaction. False when it was recognised as
    applied before (an upsert is simply applied again: the same values)."""
    return await apply_batch(db, [command], now) == 0


async def prune_applied_writes(db: Database, before: datetime) -> int:
    """Forget idempotency keys applied before ``before`` (older than any spool can be)."""
    result = await db.execute(delete(AppliedWrite).where(AppliedWrite.applied_at < before))
    return cast(CursorResult[Any], result).rowcount


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _insert(db: Database, model: type[Base]) -> Any:
    """The dialect's INSERT, which both offer with the same ON CONFLICT API."""
    if dialect_name(db) == "postgresql":
        return postgresql.insert(_table(model))
    return sqlite.insert(_table(model))


# Built statements by (dialect, table, key, columns): building an upsert costs more Python
# time than executing it (every ``excluded`` column is a new proxy object).
_UPSERTS: dict[tuple[str, str, str, tuple[str, ...]], Any] = {}
_UPSERTS_KEPT = 256  # column sets seen; a handful in practice


def _upsert_statement(db: Database, model: type[Base], key: str, columns: list[str]) -> Any:
    cache_key = (dialect_name(db), _table(model).name, key, tuple(columns))
    statement = _UPSERTS.get(cache_key)
    if statement is None:
        insert = _insert(db, model)
        if columns:
            changes = {name: insert.excluded[name] for name in columns}
            statement = insert.on_conflict_do_update(
                index_elements=[key], set_=changes, where=_daemon_rows_only(model)
            )
        else:
            statement = insert.on_conflict_do_nothing(index_elements=[key])
        if len(_UPSERTS) >= _UPSERTS_KEPT:
            _UPSERTS.clear()
        _UPSERTS[cache_key] = statement
    return statement


def _daemon_rows_only(model: type[Base]) -> Any:
    """A call the fallback import completed (``handled_by = 'fallback'``) keeps what queue_log
    says: a write of the daemon that reaches the database later (a spool replayed after an
    outage) does not overwrite it."""
    if model is not Call:
        return None
    return _table(Call).c.handled_by == "daemon"


async def _upsert(db: Database, model: type[Base], key: str, rows: list[Row]) -> None:
    """INSERT, or overwrite only the given columns of the existing row."""
    for group in by_columns(rows):
        columns = [name for name in group[0] if name != key]
        await db.execute(_upsert_statement(db, model, key, columns), group)


async def _write_calls(db: Database, plan: BatchPlan) -> None:
    """Rows with ``arrived_at`` are upserted. The others can only update a call that exists:
    INSERT ... ON CONFLICT checks NOT NULL columns of the proposed row before looking for the
    conflict, so it would refuse them for the missing ``arrived_at`` even when the call exists."""
    complete = [row for row in plan.calls.values() if "arrived_at" in row]
    partial = [row for row in plan.calls.values() if "arrived_at" not in row]
    await _upsert(db, Call, "id", complete)
    if not partial:
        return
    table = _table(Call)
    ids = [row["id"] for row in partial]
    existing = set(await db.scalars(select(table.c.id).where(table.c.id.in_(ids))))
    for row in partial:
        if row["id"] not in existing:
            # Let the database refuse it (NOT NULL arrived_at), as it refuses any bad row.
            await db.execute(_insert(db, Call), [row])
    for group in by_columns(r for r in partial if len(r) > 1):
        params = [
            {("call_id_" if name == "id" else name): v for name, v in r.items()} for r in group
        ]
        await db.execute(
            update(table).where(table.c.id == bindparam("call_id_"), _daemon_rows_only(Call)),
            params,
        )


async def _insert_new(db: Database, model: type[Base], key: list[str], rows: Any) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; how many were already there, when reported."""
    values: list[Row] = list(rows)
    if not values:
        return 0
    statement = _insert(db, model).on_conflict_do_nothing(index_elements=key)
    result = cast(CursorResult[Any], await db.execute(statement, values))
    dialect = db.dialect if isinstance(db, AsyncConnection) else db.get_bind().dialect
    sane = (
        dialect.supports_sane_rowcount if len(values) == 1 else dialect.supports_sane_multi_rowcount
    )
    return len(values) - result.rowcount if sane and result.rowcount >= 0 else 0


async def _update_callbacks(db: Database, updates: list[Row]) -> None:
    if not updates:
        return
    table = _table(Callback)
    statement = (
        update(table)
        .where(table.c.id == bindparam("callback_id"))
        .values(
            state=bindparam("new_state"),
            attempts=func.coalesce(
                bindparam("new_attempts", type_=table.c.attempts.type), table.c.attempts
            ),
            due_at=func.coalesce(
                bindparam("new_due_at", type_=table.c.due_at.type), table.c.due_at
            ),
        )
    )
    await db.execute(statement, updates)


async def _write_claimed(db: Database, plan: BatchPlan, now: datetime) -> int:
    """Commands without a natural key: apply those whose key is not in ``applied_writes``."""
    if not plan.claimed:
        return 0
    keys = [c.idempotency_key for c in plan.claimed]
    done = set(await db.scalars(select(AppliedWrite.key).where(AppliedWrite.key.in_(keys))))
    fresh = []
    for command in plan.claimed:
        if command.idempotency_key not in done:
            done.add(command.idempotency_key)
            fresh.append(command)
    if fresh:
        claims = [{"key": c.idempotency_key, "applied_at": now} for c in fresh]
        await db.execute(_insert(db, AppliedWrite), claims)
        audits = [claimed_row(c) for c in fresh if isinstance(c, AppendAudit)]
        pauses = [claimed_row(c) for c in fresh if not isinstance(c, AppendAudit)]
        for model, rows in ((AuditLog, audits), (RecordingPause, pauses)):
            if rows:
                await db.execute(_insert(db, model), rows)
    return len(plan.claimed) - len(fresh)
