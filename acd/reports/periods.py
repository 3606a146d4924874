"""Reporting periods and interval buckets, in the contact center's time zone.

Bucket keys are computed here, in Python, from fetched timestamps: SQLite and PostgreSQL have no
common date-truncation function that honours a time zone, and a report must come out the same
on both. Days, weeks (starting Monday) and months are local calendar units, so a day bucket is
23 or 25 hours long across a daylight-saving change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

MINUTE_INTERVALS: Final = {"15m": 15, "30m": 30, "1h": 60}
INTERVALS: Final = (*MINUTE_INTERVALS, "day", "week", "month")


class PeriodError(ValueError):
    """An interval name or a date the report does not understand."""


def parse_when(text: str, tz: ZoneInfo) -> datetime:
    """``YYYY-MM-DD`` (local midnight) or an ISO datetime (local unless it has an offset)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"not a date or ISO datetime: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def day_after(text: str, tz: ZoneInfo) -> datetime:
    """The end of ``--to``: a bare date includes that whole local day."""
    start = parse_when(text, tz)
    if len(text.strip()) == 10:  # YYYY-MM-DD
        local = start.astimezone(tz).date() + timedelta(days=1)
        return datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(UTC)
    return start


def bucket_start(at: datetime, interval: str, tz: ZoneInfo) -> datetime:
    """The start (aware, local time) of the bucket of ``interval`` that holds ``at``."""
    local = at.astimezone(tz)
    if interval in MINUTE_INTERVALS:
        minutes = MINUTE_INTERVALS[interval]
        of_day = local.hour * 60 + local.minute
        start = of_day - of_day % minutes
        return _local(local.date(), tz, start // 60, start % 60)
    if interval == "day":
        return _local(local.date(), tz)
    if interval == "week":
        return _local(local.date() - timedelta(days=local.weekday()), tz)
    if interval == "month":
        return _local(local.date().replace(day=1), tz)
    raise PeriodError(f"unknown interval {interval!r}: use one of {', '.join(INTERVALS)}")


def bucket_end(start: datetime, interval: str, tz: ZoneInfo) -> datetime:
    """The start of the next bucket (the bucket is ``[start, end)``)."""
    if interval in MINUTE_INTERVALS:
        # Add in UTC: wall-clock arithmetic would give a wrong length across DST changes.
        utc_end = start.astimezone(UTC) + timedelta(minutes=MINUTE_INTERVALS[interval])
        return utc_end.astimezone(tz)
    day = start.date()
    if interval == "day":
        return _local(day + timedelta(days=1), tz)
    if interval == "week":
        return _local(day + timedelta(days=7), tz)
    if interval == "month":
        next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return _local(next_month, tz)
    raise PeriodError(f"unknown interval {interval!r}: use one of {', '.join(INTERVALS)}")


def _local(day: date, tz: ZoneInfo, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def overlap_s(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    """Seconds of ``[start, end)`` inside ``[lo, hi)``."""
    return max(0.0, (min(end, hi) - max(start, lo)).total_seconds())
