"""Estimated wait, miss prediction, overflow ladder and call-back planning: table-driven."""

from __future__ import annotations

import pytest

from acd.engine.estimate import (
    CallbackPlan,
    HandleTimes,
    estimated_wait,
    next_overflow_step,
    plan_callback,
    will_miss_target,
)
from acd.engine.model import (
    OfferCallback,
    OverflowToQueue,
    QueueSpec,
    SkillRequirement,
    Voicemail,
    WidenSkills,
)


def test_handle_times_are_per_queue_and_agent_and_weighted() -> None:
    times = HandleTimes(default_s=180.0, weight=0.5)
    times.record("sales", "a1", 100.0)
    times.record("sales", "a1", 200.0)
    times.record("complaints", "a1", 600.0)
    assert times.of("sales", "a1") == 150.0
    assert times.of("complaints", "a1") == 600.0
    assert times.of("sales", "a2") == 180.0  # nothing recorded yet: the default
    assert times.for_agents("sales", ["a1", "a2"]) == [150.0, 180.0]


@pytest.mark.parametrize(
    ("position", "handle_times", "expected"),
    [
        (0, [120.0], 120.0),  # one agent: one completion
        (0, [120.0, 120.0], 60.0),  # two agents complete twice as often
        (3, [120.0, 120.0], 240.0),  # four completions needed
        (1, [60.0, 180.0], 90.0),  # rate 1/60 + 1/180 = 1/45 per second
        (0, [], None),  # nobody eligible: no estimate
    ],
)
def test_estimated_wait(position: int, handle_times: list[float], expected: float | None) -> None:
    result = estimated_wait(position, handle_times)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("waited", "estimate", "target", "miss"),
    [
        (0.0, 10.0, 15.0, False),
        (6.0, 10.0, 15.0, True),
        (0.0, 15.0, 15.0, False),
        (0.0, None, 15.0, True),
    ],
)
def test_will_miss_target(waited: float, estimate: float | None, target: float, miss: bool) -> None:
    assert will_miss_target(waited, estimate, target) is miss


LADDER = QueueSpec(
    "sales",
    "sales",
    overflow=(
        WidenSkills(5.0, (SkillRequirement("support", 2),)),
        OverflowToQueue(15.0, "general"),
        OfferCallback(30.0),
        Voicemail(120.0),
    ),
)


@pytest.mark.parametrize(
    ("waited", "miss", "taken", "expected"),
    [
        (10.0, False, 0, None),  # on track for the target: stay
        (4.0, True, 0, None),  # first rung not reached yet
        (5.0, True, 0, LADDER.overflow[0]),
        (10.0, True, 1, None),  # second rung only after 15 s
        (16.0, True, 1, LADDER.overflow[1]),
        (200.0, True, 2, LADDER.overflow[2]),  # one rung per decision, in order
        (200.0, True, 3, LADDER.overflow[3]),
        (200.0, True, 4, None),  # ladder exhausted
    ],
)
def test_overflow_ladder(waited: float, miss: bool, taken: int, expected: object) -> None:
    assert next_overflow_step(LADDER, waited, miss, taken) == expected


HOURS = [(1000.0, 2000.0), (5000.0, 6000.0)]


@pytest.mark.parametrize(
    ("now", "estimate", "booked", "capacity", "expected"),
    [
        (1000.0, 120.0, [], 2, CallbackPlan(1120.0, 1100.0)),  # when it reaches the head
        (0.0, 60.0, [], 2, CallbackPlan(1000.0, 1000.0)),  # before hours: at opening
        (1000.0, 20.0, [1010.0, 1050.0], 2, CallbackPlan(1100.0, 1100.0)),  # slot full
        (1900.0, 50.0, [1950.0], 1, CallbackPlan(5000.0, 5000.0)),  # next day's hours
        (5900.0, 200.0, [], 2, None),  # after the last calling window
        (1000.0, None, [], 2, None),  # nobody can take it
        (1000.0, 10.0, [], 0, None),  # no capacity at all
    ],
)
def test_plan_callback(
    now: float,
    estimate: float | None,
    booked: list[float],
    capacity: int,
    expected: CallbackPlan | None,
) -> None:
    plan = plan_callback(
        now, estimate, calling_hours=HOURS, booked=booked, capacity_per_slot=capacity, slot_s=100.0
    )
    assert plan == expected
