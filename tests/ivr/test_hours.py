"""Business-hours decisions for the IVR over the shipped calendars (pure: the time is a value)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from acd.settings.loader import load_settings
from ivr.hours import QueueHours, after_offer, closed_at_start, closed_plan, reachable_queues

SETTINGS = load_settings(Path(__file__).resolve().parents[2] / "config", require_secrets=False)
HOURS = QueueHours.from_settings(SETTINGS)
QUEUES = reachable_queues(SETTINGS.ivr, SETTINGS.default_queue, "orders")
CST = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=CST)  # 23 Nov 2026 is a Monday


def test_reachable_queues_of_the_shipped_menu() -> None:
    assert {"orders", "after_sales", "complaints", "enquiries"} == QUEUES


@pytest.mark.parametrize(
    ("when", "queue", "closed"),
    [
        (at(23, 9, 0), "orders", False),  # opening minute
        (at(23, 17, 59), "orders", False),
        (at(23, 18, 0), "orders", True),  # end is exclusive
        (at(23, 20, 0), "complaints", False),  # extended hours
        (at(22, 12, 0), "orders", True),  # Sunday: business closed
        (at(22, 12, 0), "complaints", False),  # Sunday: extended open
        (dt.datetime(2026, 11, 23, 1, 30, tzinfo=dt.UTC), "orders", False),  # 09:30 in Shanghai
        (at(23, 10, 0), "no_calendar", False),  # a queue without hours is always open
    ],
)
def test_queue_closed(when: dt.datetime, queue: str, closed: bool) -> None:
    assert (HOURS.closed_calendar(queue, when) is not None) is closed


@pytest.mark.parametrize(
    ("when", "calendar"),
    [
        (at(23, 10), None),  # everything open
        (at(23, 20), None),  # complaints still open: walk the menu
        (at(22, 23, 30), "business"),  # all closed: the default queue's calendar is announced
        (dt.datetime(2027, 2, 6, 12, 0, tzinfo=CST), "business"),  # Spring Festival
    ],
)
def test_closed_at_start(when: dt.datetime, calendar: str | None) -> None:
    found = closed_at_start(HOURS, QUEUES, SETTINGS.default_queue, when)
    assert (found.name if found else None) == calendar


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        HOURS.closed_calendar("orders", dt.datetime(2026, 11, 23, 10, 0))


def test_closed_plan_and_offer() -> None:
    business = SETTINGS.calendar("business")
    plan = closed_plan(business, "en", "zh")
    assert plan.message == ("hotline/en/closed",)
    assert plan.offer == ("hotline/en/callback-offer",)
    no_offer = closed_plan(business.model_copy(update={"offer_callback": False}), "en", "zh")
    assert no_offer.offer == ()


@pytest.mark.parametrize(("digits", "choice"), [("1", "callback"), ("2", "closed"), ("", "closed")])
def test_after_offer(digits: str, choice: str) -> None:
    assert after_offer(digits) == choice
