"""A call's timeline as one JSON value on its ``calls`` row (``calls.timeline``).

Pure: no I/O. One step per timeline entry, the same facts a ``call_events`` row holds; the daemon
sends the whole timeline with the call row's final update instead of one row per step, which is
what keeps a call at a few row writes. Calls written before the column existed keep their
``call_events`` rows; readers take whichever the call has (``acd.reports.queries``).

Stored form: ``[{"seq": 1, "at": "2026-03-01T09:00:00+00:00", "kind": "arrived",
"agent_id": null, "data": null}, ...]`` in ``seq`` order, ``at`` as ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from acd.storage.json_values import refuse


class TimelineFormatError(ValueError):
    """A stored or submitted timeline that is not a list of steps."""


@dataclass(frozen=True, kw_only=True)
class TimelineStep:
    """One entry; refused when made unless the spool can carry it (an int ``seq``, str
    ``kind``, str or None ``agent_id``, an aware ``at``, JSON ``data``), so a command carrying
    steps need not walk them again (``check_spoolable``). ``data`` is kept as a copy of the
    mapping given: the maker changing its dict afterwards does not reach the step (values
    nested inside are shared; nothing changes a step's data once made)."""

    seq: int
    at: datetime
    kind: str
    agent_id: str | None = None
    data: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if type(self.seq) is not int or not isinstance(self.kind, str):
            raise ValueError(f"timeline step seq {self.seq!r} kind {self.kind!r}: int and str")
        if self.agent_id is not None and not isinstance(self.agent_id, str):
            raise ValueError(f"timeline step {self.seq} agent_id {self.agent_id!r}: str or None")
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise ValueError(f"naive datetime {self.at!r} in timeline step {self.seq}")
        if self.data is not None:
            object.__setattr__(self, "data", dict(self.data))  # frozen: the copy set once here
            refuse(self.data, f"timeline step {self.seq} data")


def check_timeline(steps: Sequence[TimelineStep]) -> None:
    """Refuse a timeline no reader could order: ``seq`` not increasing (a step's own time is
    aware already: ``TimelineStep``)."""
    previous = None
    for step in steps:
        if not isinstance(step, TimelineStep):
            raise TimelineFormatError(f"a timeline holds steps, not {step!r}")
        if previous is not None and step.seq <= previous:
            raise ValueError(f"timeline seq must increase: {step.seq} after {previous}")
        previous = step.seq


def encode_timeline(steps: Sequence[TimelineStep]) -> list[dict[str, Any]]:
    """The JSON value stored in ``calls.timeline``."""
    return [
        {
            "seq": step.seq,
            "at": (step.at if step.at.tzinfo is UTC else step.at.astimezone(UTC)).isoformat(),
            "kind": step.kind,
            "agent_id": step.agent_id,
            "data": None if step.data is None else dict(step.data),
        }
        for step in steps
    ]


def decode_timeline(value: object) -> list[TimelineStep]:
    """Steps from a stored ``calls.timeline`` value (or a spooled command's); [] for NULL."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TimelineFormatError(f"a timeline is a JSON list, not {type(value).__name__}")
    return [_decode_step(raw) for raw in value]


def _decode_step(raw: object) -> TimelineStep:
    if isinstance(raw, TimelineStep):
        return raw
    if not isinstance(raw, dict):
        raise TimelineFormatError(f"a timeline step is a JSON object, not {raw!r}")
    try:
        at = raw["at"]
        when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        data = raw.get("data")
        if data is not None and not isinstance(data, dict):
            raise TimelineFormatError(f"step data must be an object: {data!r}")
        agent_id = raw.get("agent_id")
        return _read_back(
            int(raw["seq"]),
            when if when.tzinfo is not None else when.replace(tzinfo=UTC),
            str(raw["kind"]),
            None if agent_id is None else str(agent_id),
            data,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, TimelineFormatError):
            raise
        raise TimelineFormatError(f"bad timeline step {raw!r}: {exc}") from exc


def _read_back(
    seq: int, at: datetime, kind: str, agent_id: str | None, data: dict[str, Any] | None
) -> TimelineStep:
    """A step read back from JSON (a stored timeline, a spooled command), its fields made the
    right types by ``_decode_step``: not checked again (``TimelineStep.__post_init__``), whose
    copy and walk of ``data`` cannot fail on what JSON gave, and reports decode every call's
    timeline."""
    step = object.__new__(TimelineStep)
    for name, value in (
        ("seq", seq),
        ("at", at),
        ("kind", kind),
        ("agent_id", agent_id),
        ("data", data),
    ):
        object.__setattr__(step, name, value)
    return step
