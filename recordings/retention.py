"""Which recordings retention removes now: pure decisions over catalogue rows.

A queue's retention (``Settings.retention_days``) is counted from the call start. Rows under
legal hold (the row flag, or the call listed in ``recording.yaml: legal_hold``) are never
purged, whatever their age; they are reported so an operator sees what is being kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class StoredRecording:
    recording_id: str
    call_id: str | None
    queue: str | None
    started_at: datetime
    path: str
    legal_hold: bool


@dataclass(frozen=True)
class PurgePlan:
    purge: list[StoredRecording] = field(default_factory=list)
    held: list[StoredRecording] = field(default_factory=list)  # expired but on legal hold


def expires_at(recording: StoredRecording, retention_days: Callable[[str | None], int]) -> datetime:
    return recording.started_at + timedelta(days=retention_days(recording.queue))


def plan_purge(
    recordings: Iterable[StoredRecording],
    now: datetime,
    retention_days: Callable[[str | None], int],
    held_call_ids: frozenset[str] = frozenset(),
) -> PurgePlan:
    """Split the expired recordings into those to purge and those kept on legal hold.

    ``recordings`` are the not-yet-purged rows; order is kept (callers pass oldest first).
    """
    plan = PurgePlan()
    for recording in recordings:
        if now < expires_at(recording, retention_days):
            continue
        on_hold = recording.legal_hold or (
            recording.call_id is not None and recording.call_id in held_call_ids
        )
        (plan.held if on_hold else plan.purge).append(recording)
    return plan
