"""The wallboard's numbers as pure functions: per-queue figures from reports, the service level's
colour against its target, the agents' rows, the centre's clock, and the alerts.

Every KPI comes from ``acd.kpi`` through ``acd.reports`` (``KpiSummary`` of a ``Report``), so a
wallboard and ``hotline report`` over the same database and period show the same numbers.
Periods are the reports' own: the calls that *arrived* in the period; "today" starts at the
centre's local midnight (``timezone`` of hotline.yaml), the rolling windows end now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from acd.daemon.call_state import CallState
from acd.kpi import KpiSummary
from acd.reports.build import NONE_LABEL, Report

WINDOWS_S = {"last_15m": 15 * 60.0, "last_30m": 30 * 60.0}
PERIODS = ("today", *WINDOWS_S)
Colour = Literal["good", "warn", "bad", "none"]


def periods(now: datetime, tz: ZoneInfo) -> dict[str, tuple[datetime, datetime]]:
    """``today`` from the centre's local midnight, and the rolling windows, all ending now."""
    local = now.astimezone(tz)
    midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
    found = {"today": (midnight, now)}
    for label, width in WINDOWS_S.items():
        found[label] = (now - timedelta(seconds=width), now)
    return found


def sl_colour(level: float | None, target: float, warn_margin: float) -> Colour:
    """Green at or above the queue's target, amber within ``warn_margin`` below it, red under;
    no offered call yet: no colour."""
    if level is None:
        return "none"
    if level >= target:
        return "good"
    return "warn" if level >= target - warn_margin else "bad"


def figures(summary: KpiSummary | None, target: float, warn_margin: float) -> dict[str, Any]:
    """One queue's figures over one period (a queue without calls: zeros and no rates)."""
    if summary is None:
        return {
            "offered": 0,
            "answered": 0,
            "abandoned": 0,
            "abandon_rate": None,
            "asa_s": None,
            "aht_s": None,
            "service_level": None,
            "sl_colour": "none",
        }
    level = summary.service_level_15s
    return {
        "offered": summary.offered,
        "answered": summary.answered,
        "abandoned": summary.abandoned,
        "abandon_rate": _round(summary.abandonment_rate),
        "asa_s": _round(summary.asa_s),
        "aht_s": _round(summary.aht_s),
        "service_level": _round(level),
        "sl_colour": sl_colour(level, target, warn_margin),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def queue_figures(
    reports: Mapping[str, Report], targets: Mapping[str, float], warn_margin: float
) -> dict[str, dict[str, dict[str, Any]]]:
    """queue -> period -> figures, from reports grouped ``by="queue"`` (one per period)."""
    by_period = {
        label: {row.group: row.summary for row in report.rows} for label, report in reports.items()
    }
    return {
        queue: {
            label: figures(by_period.get(label, {}).get(queue), target, warn_margin)
            for label in PERIODS
        }
        for queue, target in targets.items()
    }


def handled_by_agent(report: Report) -> dict[str, int]:
    """Calls each agent answered in the report's period (the KPI module's ``handled``)."""
    return {
        row.group: row.summary.handled
        for row in report.rows
        if row.group is not None and row.group != NONE_LABEL
    }


def local_clock(at: float, tz: ZoneInfo) -> dict[str, str]:
    """What the page shows as the time: the centre's, whatever the browser's zone."""
    local = datetime.fromtimestamp(at, tz)
    offset = local.strftime("%z")
    return {
        "clock": local.strftime("%H:%M:%S"),
        "date": local.strftime("%Y-%m-%d"),
        "timezone": str(tz),
        "utc_offset": f"{offset[:3]}:{offset[3:]}" if offset else "+00:00",
    }


def local_time(at: float | None, tz: ZoneInfo) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, tz).strftime("%H:%M:%S")


def calls_in_ivr(calls: Iterable[CallState]) -> int:
    """Live calls still in the IVR: not queued yet, no IVR result yet."""
    return sum(1 for c in calls if not c.over and c.queued_at is None and c.ivr_result is None)


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
