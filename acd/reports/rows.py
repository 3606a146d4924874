"""The agent state interval row the reports read (``acd.reports.queries.fetch_states``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StateRow:
    agent_id: str
    state: str
    reason: str | None
    started_at: datetime
    ended_at: datetime | None  # None: still open
