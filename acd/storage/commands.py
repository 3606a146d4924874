"""Write commands the daemon hands to the storage writer, and their JSON-lines form.

Pure: no I/O. Each command carries an ``idempotency_key`` (unique per logical write, chosen by
the producer, e.g. ``f"{call_id}:ev:{seq}"``); applying a spooled sequence of commands again
leaves the database as applying it once (``acd.storage.apply``), which is what makes spool
replay safe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final

from acd.storage.json_values import refuse
from acd.storage.timeline import TimelineStep, decode_timeline

_DT_TAG: Final = "$dt"  # JSON has no datetime: {"$dt": "2026-01-01T00:00:00+00:00"}


@dataclass(frozen=True, kw_only=True)
class UpsertCall:
    """Insert the call or overwrite the given columns (last write wins, in submit order).

    Idempotent by its natural key, the call id. Send ``arrived_at`` in every one: the row is
    then written with a single INSERT ... ON CONFLICT DO UPDATE; without it the call must exist
    already (an UPDATE). ``timeline``, when given, is the call's whole timeline so far and
    replaces the stored one (``calls.timeline``); None leaves it as it is.
    """

    idempotency_key: str
    call_id: str
    values: Mapping[str, Any] = field(default_factory=dict)  # column name -> value
    timeline: tuple[TimelineStep, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class AppendCallEvent:
    """One ``call_events`` row; idempotent by (call_id, seq). Superseded by
    ``UpsertCall.timeline`` (one write per call instead of one per step)."""

    idempotency_key: str
    call_id: str
    seq: int
    at: datetime
    kind: str
    agent_id: str | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class AppendAgentState:
    """Close the agent's open interval at ``at`` and open ``state``/``reason`` from ``at``.

    Idempotent by its key, stored on the interval it opens (``agent_state_log.change_key``).
    The session fields ride on that interval: the agent's latest interval is its session, what a
    restarted daemon takes back (``acd.daemon.sessions``), so a change is one row write.
    """

    idempotency_key: str
    agent_id: str
    state: str
    reason: str | None
    at: datetime
    endpoint: str | None = None  # the device the agent works on
    wrap_up_due: datetime | None = None
    call_id: str | None = None  # the call in conversation (or the outside call)
    queue: str | None = None  # that call's queue (the wrap-up length)


@dataclass(frozen=True, kw_only=True)
class CloseOpenStates:
    """Close every agent's open interval that started at or before ``at``, at ``at``: the
    daemon stops (or, after a crash, the next one starts and ``at`` is the last time known).
    Idempotent: a closed interval stays as it is; one opened after ``at`` is left open."""

    idempotency_key: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MarkAlive:
    """The daemon is alive at ``at`` (``daemon_heartbeats``, by node)."""

    idempotency_key: str
    node: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class InsertRecording:
    idempotency_key: str
    recording_id: str
    call_id: str | None
    agent_id: str | None
    queue: str | None
    started_at: datetime
    path: str
    duration_s: float | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    encrypted: bool = False
    # Dual-channel leg files: (leg "in"/"out", path, size_bytes, sha256, encrypted) each
    legs: tuple[tuple[str, str, int | None, str | None, bool], ...] = ()

    def __post_init__(self) -> None:
        # back from the spool's JSON as lists: keep commands equal to what was spooled
        legs = tuple((str(a), str(b), c, d, bool(e)) for a, b, c, d, e in self.legs)
        object.__setattr__(self, "legs", legs)


@dataclass(frozen=True, kw_only=True)
class InsertCallback:
    """A call-back the caller accepted instead of waiting (state ``pending``)."""

    idempotency_key: str
    callback_id: str
    call_id: str | None
    number: str
    queue: str
    requested_at: datetime
    due_at: datetime | None
    position: int | None = None


@dataclass(frozen=True, kw_only=True)
class InsertRecordingPause:
    """One finished pause of a call's recording (sensitive data was spoken meanwhile)."""

    idempotency_key: str
    call_id: str
    channel: str
    paused_at: datetime
    resumed_at: datetime
    reason: str | None
    requested_by: str | None
    auto_resumed: bool = False


@dataclass(frozen=True, kw_only=True)
class UpdateCallback:
    """A booked call-back moved on: dialled (``dialing``, attempts counted), back to
    ``pending`` for a retry at ``due_at``, ``done`` or ``failed``. None leaves a column as is."""

    idempotency_key: str
    callback_id: str
    state: str
    attempts: int | None = None
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class UpsertAgent:
    idempotency_key: str
    agent_id: str
    name: str
    endpoint: str
    skills: Mapping[str, int] = field(default_factory=dict)
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class UpsertCustomer:
    """Insert the customer or overwrite the given columns."""

    idempotency_key: str
    number: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AppendAudit:
    idempotency_key: str
    who: str
    role: str
    action: str
    at: datetime
    target: str | None = None
    reason: str | None = None


WriteCommand = (
    UpsertCall
    | AppendCallEvent
    | AppendAgentState
    | CloseOpenStates
    | MarkAlive
    | InsertRecording
    | InsertCallback
    | UpdateCallback
    | InsertRecordingPause
    | UpsertAgent
    | UpsertCustomer
    | AppendAudit
)

COMMAND_TYPES: Final[dict[str, type[WriteCommand]]] = {
    cls.__name__: cls
    for cls in (
        UpsertCall,
        AppendCallEvent,
        AppendAgentState,
        CloseOpenStates,
        MarkAlive,
        InsertRecording,
        InsertCallback,
        UpdateCallback,
        InsertRecordingPause,
        UpsertAgent,
        UpsertCustomer,
        AppendAudit,
    )
}


class SpoolFormatError(ValueError):
    """A spool line that is not a command we wrote (corrupted or from an unknown version)."""


_FIELD_NAMES: Final = {cls: tuple(f.name for f in fields(cls)) for cls in COMMAND_TYPES.values()}
_STEP_FIELDS: Final = tuple(f.name for f in fields(TimelineStep))


def _to_json(value: object) -> object:
    """``json.dumps``'s hook for what JSON has no type for (it recurses into the result)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} in a write command")
        return {_DT_TAG: value.isoformat()}
    if isinstance(value, TimelineStep):
        return {name: getattr(value, name) for name in _STEP_FIELDS}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot spool a {type(value).__name__}: {value!r}")


def _from_json(obj: dict[str, Any]) -> object:
    if obj.keys() == {_DT_TAG}:
        return datetime.fromisoformat(obj[_DT_TAG])
    return obj


def check_spoolable(command: WriteCommand) -> None:
    """ValueError unless ``encode_command`` can write the command and read it back: aware
    datetimes, JSON values. A walk over the values, several times cheaper than encoding (it
    runs at every submit; the spool is written only in an outage). A timeline's steps checked
    themselves when made (``TimelineStep``): a call's row carries its whole timeline at each
    write, and each step is walked once instead of at every write."""
    for name in _FIELD_NAMES[type(command)]:
        refuse(getattr(command, name), name, trusted=(TimelineStep,))


def encode_command(command: WriteCommand) -> str:
    """One JSON line (no trailing newline). Naive datetimes raise ValueError."""
    # Shallow on purpose: dataclasses.asdict deep-copies every value first, which cost more
    # than the whole database write (it runs at every submit).
    body = {name: getattr(command, name) for name in _FIELD_NAMES[type(command)]}
    body["type"] = type(command).__name__
    return json.dumps(body, default=_to_json, separators=(",", ":"), sort_keys=True)


def decode_command(line: str) -> WriteCommand:
    try:
        body = json.loads(line, object_hook=_from_json)
    except json.JSONDecodeError as exc:
        raise SpoolFormatError(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise SpoolFormatError("a spool line must be a JSON object")
    cls = COMMAND_TYPES.get(str(body.pop("type", "")))
    if cls is None:
        raise SpoolFormatError("unknown command type")
    names = {f.name for f in fields(cls)}
    if not body.keys() <= names:
        raise SpoolFormatError(f"unknown fields {sorted(body.keys() - names)} for {cls.__name__}")
    try:
        if cls is UpsertCall and body.get("timeline") is not None:
            steps = tuple(decode_timeline(body["timeline"]))
            for step in steps:  # read back unchecked, and a "$dt" tag here may hold anything
                refuse(step.data, f"timeline step {step.seq} data")
            body["timeline"] = steps
        return cls(**body)
    except (TypeError, ValueError) as exc:  # TimelineFormatError is a ValueError
        raise SpoolFormatError(f"bad {cls.__name__}: {exc}") from exc
