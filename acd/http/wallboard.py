"""The wallboard's numbers: service level over time windows and the alerts, as pure functions.

Service level "over the last 15 minutes" counts the calls *offered* (entered a queue) in that
window that are finished, with ``acd.kpi.summarize`` (so the definition is the KPI module's);
"today" starts at local midnight, which the caller passes in as ``day_start``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from acd.daemon.call_state import CallState
from acd.kpi import KpiSettings, summarize

WINDOWS_S = {"last_15m": 15 * 60.0, "last_30m": 30 * 60.0}


def service_level(
    calls: Iterable[CallState], queue: str, since: float, kpi: KpiSettings
) -> float | None:
    """Service level of this queue's finished calls offered at or after ``since``."""
    facts = [
        c.kpi_facts()
        for c in calls
        if c.queue == queue and c.queued_at is not None and c.queued_at >= since
    ]
    return summarize(facts, kpi).service_level_15s


def service_levels(
    finished: list[CallState],
    queues: Iterable[str],
    *,
    now: float,
    day_start: float,
    kpi: KpiSettings,
) -> dict[str, dict[str, float | None]]:
    levels: dict[str, dict[str, float | None]] = {}
    finished = [c for c in finished if c.queued_at is not None and c.queued_at >= day_start]
    for queue in queues:
        row = {"today": service_level(finished, queue, day_start, kpi)}
        for label, width in WINDOWS_S.items():
            row[label] = service_level(finished, queue, now - width, kpi)
        levels[queue] = row
    return levels


def complaint_count(calls: Iterable[CallState], queue: str, since: float) -> int:
    """Complaint calls (entered the complaints queue) since ``since``, live and finished."""
    return sum(1 for c in calls if c.queue == queue and c.facts.arrived_at >= since)


def alerts(
    queues: Mapping[str, Mapping[str, Any]],
    *,
    complaints: int,
    complaint_threshold: int,
    complaint_window_s: float,
    ami_up: bool,
) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    if not ami_up:
        found.append({"kind": "ami_down", "text": "AMI link to Asterisk is down"})
    for name, view in sorted(queues.items()):
        if view.get("breach_predicted"):
            found.append(
                {
                    "kind": "service_level",
                    "queue": name,
                    "text": f"{name}: service level breach predicted",
                }
            )
    if complaints >= complaint_threshold:
        minutes = complaint_window_s / 60
        found.append(
            {
                "kind": "complaint_surge",
                "text": f"complaint surge: {complaints} complaint calls in {minutes:g} min",
            }
        )
    return found
