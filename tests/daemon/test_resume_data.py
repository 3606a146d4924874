"""The ``resume`` route's arguments: whatever they hold, the caller is queued (never hung up)."""

from __future__ import annotations

import pytest

from acd.daemon.resume_data import MAX_AGE_S, SEQ_PER_ATTEMPT, parse_resume

NOW = 1_800_000_000.0
QUEUES = {"enquiries": 1, "complaints": 5}


def test_what_the_first_daemon_stored_is_taken_as_it_is() -> None:
    r = parse_resume(
        ("1800.1", "complaints", "15", f"{NOW - 90:.3f}", f"{NOW - 120:.3f}", "2"),
        uniqueid="1800.1",
        now=NOW,
        default_queue="enquiries",
        queue_priority=QUEUES,
    )
    assert (r.call_id, r.queue, r.priority, r.since, r.arrived, r.attempt) == (
        "1800.1", "complaints", 15, NOW - 90, NOW - 120, 2
    )  # fmt: skip
    assert r.problems == ()
    assert r.first_seq == 2 * SEQ_PER_ATTEMPT


def test_a_caller_never_queued_goes_through_the_ivr_again() -> None:
    r = parse_resume(
        ("1800.1", "", "", "", f"{NOW - 5:.3f}", "1"),
        uniqueid="1800.1",
        now=NOW,
        default_queue="enquiries",
        queue_priority=QUEUES,
    )
    assert r.queue is None
    assert r.arrived == NOW - 5
    assert r.problems == ()


@pytest.mark.parametrize(
    ("args", "queue", "priority", "since", "problem"),
    [
        (("1800.1", "nosuch", "3", "", "", "1"), "enquiries", 3, NOW, "unknown queue"),
        (("1800.1", "complaints", "high", "", "", "1"), "complaints", 5, NOW, "not a number"),
        (("1800.1", "complaints", "", "", "", "1"), "complaints", 5, NOW, "no priority"),
        (("1800.1", "complaints", "5", "yesterday", "", "1"), "complaints", 5, NOW, "unusable"),
        (("1800.1", "complaints", "5", f"{NOW - MAX_AGE_S - 1}", "", "1"), "complaints", 5, NOW,
         "unusable"),
        (("1800.1", "complaints", "5", f"{NOW + 3600}", "", "1"), "complaints", 5, NOW,
         "unusable"),
        (("1800.1", "complaints", "5", "nan", "", "1"), "complaints", 5, NOW, "unusable"),
        (("1800.1", "complaints", "5", f"{NOW - 9}", "", "x"), "complaints", 5, NOW - 9,
         "attempt"),
    ],
)  # fmt: skip
def test_bad_data_still_queues_the_caller(
    args: tuple[str, ...], queue: str, priority: int, since: float, problem: str
) -> None:
    r = parse_resume(
        args, uniqueid="1800.1", now=NOW, default_queue="enquiries", queue_priority=QUEUES
    )
    assert (r.queue, r.priority, r.since) == (queue, priority, since)
    assert r.arrived <= r.since <= NOW
    assert r.attempt >= 1
    assert any(problem in p for p in r.problems), r.problems


def test_the_call_id_is_the_channels_uniqueid_and_missing_arguments_are_tolerated() -> None:
    r = parse_resume(
        ("someone-else",), uniqueid="1800.7", now=NOW, default_queue="enquiries",
        queue_priority=QUEUES,
    )  # fmt: skip
    assert r.call_id == "1800.7"
    assert r.queue is None
    assert r.attempt == 1
    assert any("not the channel's" in p for p in r.problems)
