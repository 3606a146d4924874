"""Interval buckets in local time, including a daylight-saving change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from acd.reports.periods import PeriodError, bucket_end, bucket_start, day_after, parse_when

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")


def test_minute_buckets() -> None:
    at = datetime(2026, 3, 2, 9, 44, 59, tzinfo=UTC)
    assert bucket_start(at, "15m", UTC_ZONE) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC_ZONE)
    assert bucket_start(at, "30m", UTC_ZONE) == datetime(2026, 3, 2, 9, 30, tzinfo=UTC_ZONE)
    assert bucket_start(at, "1h", UTC_ZONE) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC_ZONE)
    start = bucket_start(at, "15m", UTC_ZONE)
    assert bucket_end(start, "15m", UTC_ZONE) - start == timedelta(minutes=15)


def test_week_starts_monday_and_month_rolls_over_the_year() -> None:
    sunday = datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    assert bucket_start(sunday, "week", UTC_ZONE) == datetime(2026, 3, 2, tzinfo=UTC_ZONE)
    december = bucket_start(datetime(2026, 12, 31, 12, tzinfo=UTC), "month", UTC_ZONE)
    assert december == datetime(2026, 12, 1, tzinfo=UTC_ZONE)
    assert bucket_end(december, "month", UTC_ZONE) == datetime(2027, 1, 1, tzinfo=UTC_ZONE)


def test_the_day_clocks_go_forward_is_23_hours_long() -> None:
    # Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on 2026-03-29.
    noon = datetime(2026, 3, 29, 10, tzinfo=UTC)
    start = bucket_start(noon, "day", BERLIN)
    end = bucket_end(start, "day", BERLIN)
    assert start.astimezone(UTC) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)
    # an hour bucket just after the change starts at the local full hour
    hour = bucket_start(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "1h", BERLIN)
    assert hour.astimezone(UTC) == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_dates_are_local_and_to_includes_its_day() -> None:
    assert parse_when("2026-03-02", BERLIN) == datetime(2026, 3, 1, 23, tzinfo=UTC)
    assert day_after("2026-03-02", BERLIN) == datetime(2026, 3, 2, 23, tzinfo=UTC)
    assert parse_when("2026-03-02T09:00:00+00:00", BERLIN) == datetime(2026, 3, 2, 9, tzinfo=UTC)
    with pytest.raises(PeriodError):
        parse_when("soon", BERLIN)
    with pytest.raises(PeriodError):
        bucket_start(datetime(2026, 3, 2, tzinfo=UTC), "2h", BERLIN)
