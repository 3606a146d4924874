"""Apply write commands to the database, exactly once per idempotency key.

Each command runs in its own transaction together with the insert of its key into
``applied_writes``; a command whose key is already there is skipped. That covers every kind of
command uniformly, including ones whose effect depends on the current state (agent state
changes), and the ambiguous failure where the commit reached the server but its answer did not.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from acd.storage.agent_states import change_agent_state
from acd.storage.commands import (
    AppendAgentState,
    AppendAudit,
    AppendCallEvent,
    InsertCallback,
    InsertRecording,
    InsertRecordingPause,
    UpdateCallback,
    UpsertAgent,
    UpsertCall,
    UpsertCustomer,
    WriteCommand,
    encode_command,
)
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
    Recording,
    RecordingLeg,
    RecordingPause,
)

MAX_KEY_LENGTH = 128
_CALL_COLUMNS = frozenset(c.name for c in Call.__table__.columns) - {"id"}
_CUSTOMER_COLUMNS = frozenset(c.name for c in Customer.__table__.columns) - {"number"}


def check_command(command: WriteCommand) -> None:
    """Refuse, at submit time, a command that could never be spooled or applied (a bug)."""
    key = command.idempotency_key
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"idempotency_key must be 1..{MAX_KEY_LENGTH} characters: {key!r}")
    if isinstance(command, UpsertCall) and not command.values.keys() <= _CALL_COLUMNS:
        raise ValueError(f"unknown calls columns {sorted(command.values.keys() - _CALL_COLUMNS)}")
    if isinstance(command, UpsertCustomer) and not command.values.keys() <= _CUSTOMER_COLUMNS:
        unknown = sorted(command.values.keys() - _CUSTOMER_COLUMNS)
        raise ValueError(f"unknown customers columns {unknown}")
    if isinstance(command, UpdateCallback) and command.state not in CALLBACK_STATES:
        raise ValueError(f"unknown call-back state {command.state!r}")
    encode_command(command)  # raises on naive datetimes or values JSON cannot carry


def _insert(session: AsyncSession, model: type[Base]) -> Any:
    """The dialect's INSERT, which both offer with the same ON CONFLICT API."""
    table = model.__table__
    assert isinstance(table, Table)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def _upsert(
    session: AsyncSession, model: type[Base], key_column: str, row: dict[str, Any]
) -> None:
    """UPDATE the given columns, or INSERT the row when there is none yet.

    Not INSERT ... ON CONFLICT DO UPDATE: both databases check NOT NULL columns of the proposed
    row before looking for the conflict, so a partial update (``answered_at`` only) of an
    existing call would be refused for the missing ``arrived_at``.
    """
    table = model.__table__
    assert isinstance(table, Table)
    changes = {name: value for name, value in row.items() if name != key_column}
    if changes:
        where = table.c[key_column] == row[key_column]
        updated = await session.execute(update(table).where(where).values(changes))
        if cast(CursorResult[Any], updated).rowcount > 0:
            return
    insert = _insert(session, model).values(row).on_conflict_do_nothing(index_elements=[key_column])
    await session.execute(insert)


async def apply_command(session: AsyncSession, command: WriteCommand, now: datetime) -> bool:
    """Apply inside the caller's transaction. False when the key was applied before."""
    claim = (
        _insert(session, AppliedWrite)
        .values(key=command.idempotency_key, applied_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    claimed = await session.execute(claim)
    if cast(CursorResult[Any], claimed).rowcount == 0:
        return False
    match command:
        case UpsertCall():
            await _upsert(session, Call, "id", {"id": command.call_id, **command.values})
        case AppendCallEvent():
            session.add(
                CallEvent(
                    call_id=command.call_id,
                    seq=command.seq,
                    at=command.at,
                    kind=command.kind,
                    agent_id=command.agent_id,
                    data=None if command.data is None else dict(command.data),
                )
            )
        case AppendAgentState():
            await change_agent_state(
                session, command.agent_id, command.state, command.reason, command.at
            )
        case InsertRecording():
            values = {
                f.name: getattr(command, f.name)
                for f in fields(command)
                if f.name not in ("idempotency_key", "recording_id", "legs")
            }
            session.add(Recording(id=command.recording_id, **values))
            for leg, path, size, sha, encrypted in command.legs:
                session.add(
                    RecordingLeg(
                        recording_id=command.recording_id,
                        leg=leg,
                        path=path,
                        size_bytes=size,
                        sha256=sha,
                        encrypted=encrypted,
                    )
                )
        case InsertCallback():
            session.add(
                Callback(
                    id=command.callback_id,
                    call_id=command.call_id,
                    number=command.number,
                    queue=command.queue,
                    requested_at=command.requested_at,
                    due_at=command.due_at,
                    position=command.position,
                    state="pending",
                )
            )
        case InsertRecordingPause():
            values = {f.name: getattr(command, f.name) for f in fields(command)}
            del values["idempotency_key"]
            session.add(RecordingPause(**values))
        case UpdateCallback():
            changes: dict[str, Any] = {"state": command.state}
            if command.attempts is not None:
                changes["attempts"] = command.attempts
            if command.due_at is not None:
                changes["due_at"] = command.due_at
            await session.execute(
                update(Callback).where(Callback.id == command.callback_id).values(changes)
            )
        case UpsertAgent():
            row = {
                "id": command.agent_id,
                "name": command.name,
                "endpoint": command.endpoint,
                "skills": dict(command.skills),
                "active": command.active,
            }
            await _upsert(session, Agent, "id", row)
        case UpsertCustomer():
            await _upsert(session, Customer, "number", {"number": command.number, **command.values})
        case AppendAudit():
            session.add(
                AuditLog(
                    who=command.who,
                    role=command.role,
                    action=command.action,
                    target=command.target,
                    reason=command.reason,
                    at=command.at,
                )
            )
    await session.flush()
    return True


async def prune_applied_writes(session: AsyncSession, before: datetime) -> int:
    """Forget idempotency keys applied before ``before`` (older than any spool can be)."""
    result = await session.execute(delete(AppliedWrite).where(AppliedWrite.applied_at < before))
    return cast(CursorResult[Any], result).rowcount
