"""``calls.agent_legs``: the answered legs of a call, as the daemon writes them and as the
reports (``acd.reports.agent_time``) and the restore (``acd.storage.agent_sessions``) read them.

Pure. One JSON object per answered leg, in order: ``{"agent_id", "queue", "answered_at",
"ended_at", "wrap_up_due"}``, times ISO 8601 UTC, ``ended_at`` null while the agent talks,
``wrap_up_due`` null without a wrap-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class LegRow:
    """One answered leg of a call (an element of ``calls.agent_legs``)."""

    agent_id: str
    call_id: str
    answered_at: datetime
    ended_at: datetime | None  # None: still talking (or the daemon died meanwhile)
    wrap_up_due: datetime | None
    queue: str | None = None
    # its recording's file as ordered (None: none started); recording_stored False: a row
    # written before legs carried it (the call reconcile then works the name out)
    recording: str | None = None
    recording_stored: bool = False


def leg_json(
    agent_id: str,
    queue: str | None,
    answered_at: datetime,
    ended_at: datetime | None,
    wrap_up_due: datetime | None,
    *,
    recording: str | None = None,
) -> dict[str, Any]:
    """One element of ``calls.agent_legs``; ``recording``: the leg's recording file (None:
    none started), for a daemon that closes the row after this one died."""
    return {
        "agent_id": agent_id,
        "queue": queue,
        "answered_at": answered_at.isoformat(),
        "ended_at": None if ended_at is None else ended_at.isoformat(),
        "wrap_up_due": None if wrap_up_due is None else wrap_up_due.isoformat(),
        "recording": recording,
    }


def legs_of(
    call_id: str, agent_legs: Sequence[Mapping[str, Any]] | None, call_ended: datetime | None
) -> list[LegRow]:
    """The legs of one calls row; a leg left open on a row whose call ended (its daemon died
    mid-conversation, the call reconcile closed the row) ends with the call."""
    legs: list[LegRow] = []
    for item in agent_legs or ():
        ended = _dt(item.get("ended_at")) or call_ended
        legs.append(
            LegRow(
                str(item["agent_id"]),
                call_id,
                _required(item.get("answered_at")),
                ended,
                _dt(item.get("wrap_up_due")),
                item.get("queue"),
                item.get("recording"),
                "recording" in item,
            )
        )
    return legs


def _dt(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _required(value: object) -> datetime:
    at = _dt(value)
    if at is None:
        raise ValueError("an agent leg without its answer time")
    return at
