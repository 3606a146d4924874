"""Opening hours from hours.yaml: local time of the calendar's zone, holidays closed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from acd.settings.loader import load_settings
from acd.settings.schema_service import Calendar
from tests.settings.conftest import SHIPPED_CONFIG

SHANGHAI = ZoneInfo("Asia/Shanghai")


def business() -> Calendar:
    return load_settings(SHIPPED_CONFIG, env={}, require_secrets=False).calendar("business")


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (dt.datetime(2027, 3, 1, 9, 0), True),  # Monday, opening minute
        (dt.datetime(2027, 3, 1, 17, 59), True),
        (dt.datetime(2027, 3, 1, 18, 0), False),  # the end is exclusive
        (dt.datetime(2027, 3, 1, 8, 59), False),
        (dt.datetime(2027, 3, 6, 15, 0), True),  # Saturday 10-16
        (dt.datetime(2027, 3, 7, 12, 0), False),  # Sunday: not listed, closed
        (dt.datetime(2027, 10, 1, 12, 0), False),  # National Day holiday (a Friday)
    ],
)
def test_business_hours(local: dt.datetime, expected: bool) -> None:
    assert business().is_open(local.replace(tzinfo=SHANGHAI)) is expected


def test_other_zones_are_converted() -> None:
    # 02:00 UTC on a Monday is 10:00 in Shanghai
    assert business().is_open(dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC))
    assert not business().is_open(dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC))


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        business().is_open(dt.datetime(2027, 3, 1, 10, 0))
