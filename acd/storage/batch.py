"""Group a batch of write commands into one set of rows per statement (pure, no I/O).

A batch is applied in one transaction, so only its end state is ever visible; that lets every
command type be written with one statement (or one per column set) instead of one per command:
- several upserts of one call (or customer) merge, later values over earlier ones, into one
  row, exactly as applying them in submit order would leave it;
- rows are written table by table in an order that satisfies the foreign keys (calls before
  their timeline rows, recordings and call-backs);
- replayed inserts collapse onto their natural key (the first one wins, as in submit order);
- agent state changes and call-back updates keep their submit order (each depends on the
  previous one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from acd.storage.commands import (
    AppendAgentState,
    AppendAudit,
    AppendCallEvent,
    CloseOpenStates,
    InsertCallback,
    InsertRecording,
    InsertRecordingPause,
    MarkAlive,
    UpdateCallback,
    UpsertAgent,
    UpsertCall,
    UpsertCustomer,
    WriteCommand,
)
from acd.storage.timeline import encode_timeline

Row = dict[str, Any]


@dataclass
class BatchPlan:
    agents: dict[str, Row] = field(default_factory=dict)  # id -> the last full row
    customers: dict[str, Row] = field(default_factory=dict)  # number -> merged columns
    calls: dict[str, Row] = field(default_factory=dict)  # id -> merged columns (with "id")
    call_events: dict[tuple[str, int], Row] = field(default_factory=dict)  # (call, seq) -> row
    recordings: dict[str, Row] = field(default_factory=dict)
    recording_legs: dict[tuple[str, str], Row] = field(default_factory=dict)  # (rec, leg) -> row
    callbacks: dict[str, Row] = field(default_factory=dict)
    callback_updates: list[Row] = field(default_factory=list)  # in submit order
    # No natural key: exactly once through a claimed key in ``applied_writes``.
    claimed: list[InsertRecordingPause | AppendAudit] = field(default_factory=list)
    # in submit order: a close applies between the changes before and after it
    agent_states: list[AppendAgentState | CloseOpenStates] = field(default_factory=list)
    heartbeats: dict[str, Row] = field(default_factory=dict)  # node -> the last mark


def plan_batch(commands: Iterable[WriteCommand]) -> BatchPlan:
    plan = BatchPlan()
    for command in commands:
        match command:
            case UpsertCall():
                row = plan.calls.setdefault(command.call_id, {"id": command.call_id})
                row.update(command.values)
                if command.timeline is not None:
                    row["timeline"] = encode_timeline(command.timeline)
            case AppendCallEvent():
                plan.call_events.setdefault(
                    (command.call_id, command.seq),
                    {
                        "call_id": command.call_id,
                        "seq": command.seq,
                        "at": command.at,
                        "kind": command.kind,
                        "agent_id": command.agent_id,
                        "data": None if command.data is None else dict(command.data),
                    },
                )
            case AppendAgentState() | CloseOpenStates():
                plan.agent_states.append(command)
            case MarkAlive():
                plan.heartbeats[command.node] = {"node": command.node, "seen_at": command.at}
            case UpsertAgent():
                plan.agents[command.agent_id] = {
                    "id": command.agent_id,
                    "name": command.name,
                    "endpoint": command.endpoint,
                    "skills": dict(command.skills),
                    "active": command.active,
                }
            case UpsertCustomer():
                customer = plan.customers.setdefault(command.number, {"number": command.number})
                customer.update(command.values)
            case InsertRecording():
                row = _fields(command, drop=("idempotency_key", "recording_id", "legs"))
                plan.recordings.setdefault(
                    command.recording_id, {"id": command.recording_id, **row}
                )
                for leg, path, size, sha, encrypted in command.legs:
                    plan.recording_legs.setdefault(
                        (command.recording_id, leg),
                        {
                            "recording_id": command.recording_id,
                            "leg": leg,
                            "path": path,
                            "size_bytes": size,
                            "sha256": sha,
                            "encrypted": encrypted,
                        },
                    )
            case InsertCallback():
                row = _fields(command, drop=("idempotency_key", "callback_id"))
                callback = {"id": command.callback_id, **row, "state": "pending"}
                plan.callbacks.setdefault(command.callback_id, callback)
            case UpdateCallback():
                plan.callback_updates.append(
                    {
                        "callback_id": command.callback_id,
                        "new_state": command.state,
                        "new_attempts": command.attempts,
                        "new_due_at": command.due_at,
                    }
                )
            case InsertRecordingPause() | AppendAudit():
                plan.claimed.append(command)
    return plan


def by_columns(rows: Iterable[Row]) -> list[list[Row]]:
    """Rows grouped by their set of columns (an executemany needs the same keys in every row),
    groups in order of first appearance."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())


def claimed_row(command: InsertRecordingPause | AppendAudit) -> Row:
    return _fields(command, drop=("idempotency_key",))


def _fields(command: WriteCommand, drop: Sequence[str]) -> Row:
    return {f.name: getattr(command, f.name) for f in fields(command) if f.name not in drop}
