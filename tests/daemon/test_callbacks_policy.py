"""Which booked call-backs are dialled now, and what a failed dial leads to (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from acd.daemon.callback_policy import (
    Booking,
    after_failure,
    dialled,
    recovered,
    stale_dialing,
    to_place,
    undialable,
)
from acd.daemon.wait_policy import calling_hours
from acd.settings.schema_callbacks import CallbackSettings

TZ = "Asia/Shanghai"


def local(hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, 2, hour, minute, tzinfo=ZoneInfo(TZ)).timestamp()


NOON = local(12)
HOURS = calling_hours(NOON, TZ, (9, 20), days=1)


def booking(
    cid: str,
    due: float | None,
    *,
    queue: str = "orders",
    number: str = "13800138000",
    requested: float | None = None,
    state: str = "pending",
    attempts: int = 0,
) -> Booking:
    at = requested if requested is not None else (due if due is not None else NOON) - 300
    return Booking(cid, "call-" + cid, number, queue, at, due, attempts, state)  # type: ignore[arg-type]


def place(
    bookings: list[Booking], now: float, ready: dict[str, int], busy: dict[str, int] | None = None
) -> list[str]:
    chosen = to_place(
        bookings,
        now,
        calling_hours=calling_hours(now, TZ, (9, 20), days=1),
        ready_agents=ready,
        in_progress=busy or {},
    )
    return [b.callback_id for b in chosen]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(8, 59), []),  # before the calling hours: nobody is woken up
        (local(9, 0), ["a"]),  # start is inclusive
        (local(19, 59), ["a"]),
        (local(20, 0), []),  # end is exclusive
        (local(23, 30), []),
        (local(3, 0), []),
    ],
)
def test_nothing_is_placed_outside_calling_hours(now: float, expected: list[str]) -> None:
    assert place([booking("a", local(1))], now, {"orders": 5}) == expected


@pytest.mark.parametrize(
    ("due", "placed"),
    [
        (NOON - 1, True),
        (NOON, True),  # due now
        (NOON + 1, False),  # the caller would not yet have reached the head of the queue
        (None, True),  # booked for "as soon as possible"
    ],
)
def test_placed_only_once_due(due: float | None, placed: bool) -> None:
    assert place([booking("a", due)], NOON, {"orders": 1}) == (["a"] if placed else [])


def test_capacity_is_the_ready_agents_of_the_queue_minus_those_in_progress() -> None:
    bookings = [booking(c, NOON - 60 * i) for i, c in enumerate("abcd")]
    # earliest due first: d (due 3 min ago), then c, b, a
    assert place(bookings, NOON, {"orders": 2}) == ["d", "c"]
    assert place(bookings, NOON, {"orders": 2}, {"orders": 1}) == ["d"]
    assert place(bookings, NOON, {"orders": 2}, {"orders": 2}) == []
    assert place(bookings, NOON, {}) == []  # nobody ready for the queue: nobody is called


def test_queues_have_their_own_capacity() -> None:
    bookings = [
        booking("o1", NOON - 10),
        booking("o2", NOON - 5),
        booking("c1", NOON - 1, queue="complaints"),
    ]
    assert place(bookings, NOON, {"orders": 1, "complaints": 1}) == ["o1", "c1"]


def test_equal_due_times_keep_the_booking_order() -> None:
    early = booking("late-id", NOON - 10, requested=NOON - 900)
    later = booking("early-id", NOON - 10, requested=NOON - 600)
    assert place([later, early], NOON, {"orders": 1}) == ["late-id"]


def test_only_pending_dialable_bookings_are_placed() -> None:
    bookings = [
        booking("dialing", NOON - 5, state="dialing"),
        booking("done", NOON - 5, state="done"),
        booking("odd", NOON - 5, number="1001&Hangup"),  # never put into a dial string
        booking("ok", NOON - 1, number="+8613800138000"),
    ]
    assert place(bookings, NOON, {"orders": 9}) == ["ok"]
    assert [b.callback_id for b in undialable(bookings)] == ["odd"]


def test_only_numbers_the_allow_list_matches_are_ever_dialled() -> None:
    allowed = CallbackSettings().number_allowed  # national numbers, no international prefix
    bookings = [
        booking("premium", NOON - 9, number="00882123456789"),  # toll fraud's favourite
        booking("abroad", NOON - 8, number="+4930123456"),
        booking("home", NOON - 7, number="13800138000"),
    ]
    chosen = to_place(
        bookings, NOON, calling_hours=HOURS, ready_agents={"orders": 9}, in_progress={},
        allowed=allowed,
    )  # fmt: skip
    assert [b.callback_id for b in chosen] == ["home"]
    assert [b.callback_id for b in undialable(bookings, allowed)] == ["premium", "abroad"]


def test_failed_dials_are_retried_then_given_up() -> None:
    b = booking("a", NOON - 5)
    first = dialled(b, NOON, retry_after_s=600)
    assert (first.state, first.attempts, first.due_at) == ("dialing", 1, NOON + 600)
    retry = after_failure(first, NOON + 30, max_attempts=2, retry_after_s=600)
    assert (retry.state, retry.attempts, retry.due_at) == ("pending", 1, NOON + 630)
    assert place([retry], NOON + 60, {"orders": 1}) == []  # not before the retry time
    assert place([retry], NOON + 630, {"orders": 1}) == ["a"]
    second = dialled(retry, NOON + 630, retry_after_s=600)
    given_up = after_failure(second, NOON + 700, max_attempts=2, retry_after_s=600)
    assert (given_up.state, given_up.attempts) == ("failed", 2)


def test_a_row_left_dialing_by_an_earlier_run_is_stale_from_its_retry_time() -> None:
    left = dialled(booking("a", NOON - 5), NOON, retry_after_s=600)
    assert not stale_dialing(left, NOON + 599)
    assert stale_dialing(left, NOON + 600)
    assert not stale_dialing(replace(left, state="pending"), NOON + 600)
    again = recovered(left, max_attempts=3)
    assert (again.state, again.attempts, again.due_at) == ("pending", 1, NOON + 600)
    assert recovered(replace(left, attempts=3), max_attempts=3).state == "failed"


def test_calling_hours_follow_the_local_time_zone() -> None:
    ((start, end),) = HOURS
    assert datetime.fromtimestamp(start, ZoneInfo(TZ)).hour == 9
    assert datetime.fromtimestamp(end, ZoneInfo(TZ)).hour == 20
