"""``build_report``: the KPI report of a period, as totals and rows per interval and/or group.

The numbers come from ``acd.kpi`` only (``summarize``, ``occupancy``); this module fetches the
rows (``acd.reports.queries``), turns them into facts (``acd.reports.facts``) and groups them.
Calls belong to the bucket and group of their arrival; occupancy is computed for the total and
for agent rows from the state intervals clipped to the bucket.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.kpi import KpiSettings, KpiSummary, occupancy, summarize
from acd.reports import queries
from acd.reports.facts import ReportCall, build_facts
from acd.reports.periods import bucket_end, bucket_start, overlap_s
from acd.reports.queries import CallRow
from acd.reports.rows import StateRow
from acd.storage.engine import create_engine

GROUPINGS: Final = ("queue", "agent", "menu", "category", "handled_by")
NONE_LABEL: Final = "(none)"
# A wrap-up starts when the call ends; look this far past the period for it.
WRAP_UP_SLACK: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ReportRow:
    interval_start: datetime | None  # local time; None when not split by interval
    group: str | None  # queue / agent / menu / category / handled_by; None: not grouped
    calls: int  # every call that arrived, offered or not
    summary: KpiSummary
    occupancy: float | None


@dataclass(frozen=True, slots=True)
class Report:
    start: datetime
    end: datetime
    interval: str | None
    by: str | None
    total: ReportRow
    rows: list[ReportRow] = field(default_factory=list)


def group_key(row: CallRow, by: str | None) -> str | None:
    if by is None:
        return None
    if by == "queue":
        value = row.queue
    elif by == "agent":
        value = row.agent_id
    elif by == "menu":
        # The menu the caller made the last choice in: the last node of the IVR path.
        path = row.ivr_path or []
        last = path[-1] if path else None
        value = str(last.get("node")) if isinstance(last, dict) and last.get("node") else None
    elif by == "category":
        value = row.ivr_category or row.ivr_reason
    elif by == "handled_by":  # the daemon's calls next to those the fallback Queue() finished
        value = row.handled_by
    else:
        raise ValueError(f"unknown grouping {by!r}: use one of {', '.join(GROUPINGS)}")
    return value or NONE_LABEL


def state_seconds(
    states: Sequence[StateRow], lo: datetime, hi: datetime, as_of: datetime, agent: str | None
) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    for state in states:
        if agent is not None and state.agent_id != agent:
            continue
        ended = state.ended_at or max(as_of, state.started_at)
        seconds[state.state] += overlap_s(state.started_at, ended, lo, hi)
    return dict(seconds)


def assemble(
    calls: Sequence[ReportCall],
    states: Sequence[StateRow],
    *,
    start: datetime,
    end: datetime,
    interval: str | None,
    by: str | None,
    settings: KpiSettings,
    tz: ZoneInfo,
    as_of: datetime,
) -> Report:
    """Pure part of ``build_report``: group the facts and apply the KPI definitions."""
    buckets: dict[tuple[datetime | None, str | None], list[ReportCall]] = defaultdict(list)
    for call in calls:
        bucket = bucket_start(call.row.arrived_at, interval, tz) if interval else None
        buckets[(bucket, group_key(call.row, by))].append(call)

    def occupancy_for(bucket: datetime | None, group: str | None) -> float | None:
        if by not in (None, "agent") or (by == "agent" and group == NONE_LABEL):
            return None  # agents serve several queues; their time is not split by queue
        lo = max(start, bucket) if bucket is not None and interval else start
        hi = min(end, bucket_end(bucket, interval, tz)) if bucket is not None and interval else end
        return occupancy(state_seconds(states, lo, hi, min(as_of, end), group))

    def row(bucket: datetime | None, group: str | None, members: list[ReportCall]) -> ReportRow:
        summary = summarize((c.facts for c in members), settings)
        return ReportRow(bucket, group, len(members), summary, occupancy_for(bucket, group))

    rows = [
        row(bucket, group, members)
        for (bucket, group), members in sorted(buckets.items(), key=_order)
    ]
    total = row(None, None, list(calls))
    return Report(start, end, interval, by, total, rows if (interval or by) else [])


def _order(item: tuple[tuple[datetime | None, str | None], list[ReportCall]]) -> tuple[str, str]:
    (bucket, group), _ = item
    return (bucket.isoformat() if bucket else "", group or "")


async def build_report(
    url: str | URL,
    *,
    start: datetime,
    end: datetime,
    interval: str | None = None,
    by: str | None = None,
    queue: str | None = None,
    settings: KpiSettings | None = None,
    ring_limits: Mapping[str, float] | None = None,
    tz: ZoneInfo | None = None,
    as_of: datetime | None = None,
) -> Report:
    """The report for calls that arrived in ``[start, end)`` (aware datetimes).

    ``queue`` keeps only that queue's calls (e.g. complaints by category) and leaves occupancy
    out, since agents' time is not split by queue; ``as_of`` is when
    still-open intervals stop counting (default: ``end``); ``tz`` buckets local time (UTC).
    """
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            reports = await build_reports(
                conn,
                {"": (start, end)},
                interval=interval,
                by=by,
                queue=queue,
                settings=settings,
                ring_limits=ring_limits,
                tz=tz,
                as_of=as_of or end,
            )
    finally:
        await engine.dispose()
    return reports[""]


async def build_reports(
    conn: AsyncConnection,
    periods: Mapping[str, tuple[datetime, datetime]],
    *,
    as_of: datetime,
    interval: str | None = None,
    by: str | Mapping[str, str | None] | None = None,
    queue: str | None = None,
    settings: KpiSettings | None = None,
    ring_limits: Mapping[str, float] | None = None,
    tz: ZoneInfo | None = None,
) -> dict[str, Report]:
    """Reports of several periods (by label) from one fetch on an open connection: the
    wallboard's today and last 15 and 30 minutes are each what ``build_report`` gives for that
    period, at one instant ``as_of``. ``by``: one grouping for all, or one per label."""
    groupings = by if isinstance(by, Mapping) else dict.fromkeys(periods, by)
    zone = tz or ZoneInfo("UTC")
    settings = settings or KpiSettings()
    first = min(start for start, _ in periods.values())
    last = max(end for _, end in periods.values())
    rows = await queries.fetch_calls(conn, first, last)
    timeline = await queries.fetch_timeline(conn, first, last)
    states = await queries.fetch_states(conn, first, last, WRAP_UP_SLACK)
    window = timedelta(seconds=settings.repeat_window_s)
    arrivals = await queries.fetch_repeat_arrivals(conn, first, last, window)

    def compute() -> dict[str, Report]:
        facts = build_facts(
            rows,
            timeline,
            states,
            arrivals,
            settings=settings,
            ring_limits=ring_limits or {},
            as_of=as_of,
        )
        kept = states
        if queue is not None:
            facts = [call for call in facts if call.row.queue == queue]
            kept = []  # agents' time is not split by queue: no occupancy for one queue
        return {
            label: assemble(
                [c for c in facts if start <= c.row.arrived_at < end],
                kept,
                start=start.astimezone(UTC),
                end=end.astimezone(UTC),
                interval=interval,
                by=groupings.get(label),
                settings=settings,
                tz=zone,
                as_of=as_of,
            )
            for label, (start, end) in periods.items()
        }

    # The pure part runs in a thread: inside the daemon (the wallboard) a long day's report
    # must not hold up the event loop that every call depends on.
    return await asyncio.to_thread(compute)
