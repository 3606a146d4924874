"""``merge_states``: the state log with the calls rows' agent legs laid over its ready time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from acd.reports.agent_time import merge_states
from acd.reports.build import state_seconds
from acd.reports.rows import StateRow
from acd.storage.agent_legs import LegRow, leg_json, legs_of

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def logged(*rows: tuple[str, float, float | None]) -> list[StateRow]:
    return [StateRow("a1", s, None, t(a), None if b is None else t(b)) for s, a, b in rows]


def leg(answered: float, ended: float | None, due: float | None, agent: str = "a1") -> LegRow:
    end = None if ended is None else t(ended)
    return LegRow(agent, "c", t(answered), end, None if due is None else t(due))


def shape(rows: list[StateRow]) -> list[tuple[str, float, float | None]]:
    return [
        (
            r.state,
            (r.started_at - T0).total_seconds(),
            None if r.ended_at is None else (r.ended_at - T0).total_seconds(),
        )
        for r in rows
    ]


def test_a_call_and_its_wrap_up_replace_the_ready_time_they_cover() -> None:
    merged = merge_states(logged(("ready", 0, None)), [leg(10, 40, 55)])
    assert shape(merged) == [
        ("ready", 0, 10),
        ("on_call", 10, 40),
        ("wrap_up", 40, 55),
        ("ready", 55, None),
    ]


def test_the_next_logged_change_cuts_the_wrap_up() -> None:
    # a pause during wrap-up at 45
    merged = merge_states(
        logged(("ready", 0, 45), ("paused", 45, 60), ("ready", 60, 100), ("ready", 120, None)),
        [leg(10, 40, 55), leg(100, 110, 130)],
    )
    assert shape(merged) == [
        ("ready", 0, 10),
        ("on_call", 10, 40),
        ("wrap_up", 40, 45),
        ("paused", 45, 60),
        ("ready", 60, 100),
        ("ready", 120, None),
    ]
    # the second leg's answer (100) is where the logged ready ended: the log holds no ready
    # then (a gap: the daemon was down), so it adds nothing; the log says what happened


def test_a_leg_ended_early_by_a_logged_ready() -> None:
    merged = merge_states(logged(("ready", 0, 48), ("ready", 48, None)), [leg(10, 40, 55)])
    assert shape(merged) == [
        ("ready", 0, 10),
        ("on_call", 10, 40),
        ("wrap_up", 40, 48),
        ("ready", 48, None),
    ]


def test_a_call_still_in_conversation_stays_open() -> None:
    merged = merge_states(logged(("ready", 0, None)), [leg(10, None, None)])
    assert shape(merged) == [("ready", 0, 10), ("on_call", 10, None)]
    seconds = state_seconds(merged, t(0), t(100), t(30), "a1")
    assert seconds == {"ready": 10.0, "on_call": 20.0}


def test_a_crash_closes_the_ready_interval_and_with_it_the_derived_time() -> None:
    # killed at 30 while talking (closed at the heartbeat), restored on_call at 35 (logged)
    merged = merge_states(
        logged(("ready", 0, 30), ("on_call", 35, 50), ("ready", 50, None)), [leg(10, None, None)]
    )
    assert shape(merged) == [
        ("ready", 0, 10),
        ("on_call", 10, 30),
        ("on_call", 35, 50),
        ("ready", 50, None),
    ]


def test_transfer_legs_each_count_for_their_agent() -> None:
    states = [
        StateRow("a1", "ready", None, t(0), None),
        StateRow("a2", "ready", None, t(0), None),
    ]
    legs = [leg(10, 20, 30, "a1"), leg(25, 60, 70, "a2")]
    merged = merge_states(states, legs)
    assert state_seconds(merged, t(0), t(100), t(100), "a1") == {
        "ready": 80.0,
        "on_call": 10.0,
        "wrap_up": 10.0,
    }
    a2 = state_seconds(merged, t(0), t(100), t(100), "a2")
    assert a2 == {"ready": 55.0, "on_call": 35.0, "wrap_up": 10.0}


def test_rows_written_before_keep_their_logged_intervals_and_nothing_counts_twice() -> None:
    # a legacy call (no legs): the log holds its on_call and wrap_up
    old = logged(("ready", 0, 10), ("on_call", 10, 40), ("wrap_up", 40, 55), ("ready", 55, None))
    assert merge_states(old, []) == old
    # even a leg over logged busy time adds nothing: derived time only replaces ready time
    assert shape(merge_states(old, [leg(10, 40, 55)])) == shape(old)


def test_overlapping_legs_of_one_agent_are_not_counted_twice() -> None:
    merged = merge_states(logged(("ready", 0, None)), [leg(10, 40, 60), leg(50, 70, 70)])
    seconds = state_seconds(merged, t(0), t(100), t(100), "a1")
    assert sum(seconds.values()) == 100.0
    # the first leg's wrap-up (40-60) is not cut by the second answer (50): that one counts
    # from 60, the end of what was placed before it
    assert seconds == {"ready": 40.0, "on_call": 30.0 + 10.0, "wrap_up": 20.0}


def test_the_json_round_trip_and_an_open_leg_of_an_ended_call() -> None:
    item = leg_json("a1", "orders", t(10), None, None)
    [row] = legs_of("c9", [item], t(42))  # the call reconcile closed the row at 42
    assert (row.agent_id, row.call_id, row.queue, row.ended_at) == ("a1", "c9", "orders", t(42))
    assert row.wrap_up_due is None
