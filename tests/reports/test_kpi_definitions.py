"""The KPI definitions added for reports (acd.kpi), on hand-computed facts."""

from __future__ import annotations

import pytest

from acd.kpi import CallFacts, KpiSettings, occupancy, repeat_calls, summarize

DAY = 86400.0


def test_csat_counts_ratings_of_four_or_more_among_rated_calls() -> None:
    calls = [
        CallFacts(queued_at=None, survey_rating=5),
        CallFacts(queued_at=0, answered_at=5, survey_rating=4),
        CallFacts(queued_at=0, answered_at=5, survey_rating=2),
        CallFacts(queued_at=0, answered_at=5),  # unrated: in neither count
    ]
    summary = summarize(calls)
    assert summary.rated == 3
    assert summary.csat == pytest.approx(2 / 3)
    assert summarize([CallFacts(queued_at=0)]).csat is None


def test_fcr_needs_resolved_and_no_repeat() -> None:
    calls = [
        CallFacts(queued_at=0, answered_at=1, resolved=True),
        CallFacts(queued_at=0, answered_at=1, resolved=True, repeat_call=True),
        CallFacts(queued_at=0, answered_at=1, resolved=False),
        CallFacts(queued_at=0, answered_at=1),  # no resolution recorded: left out
        CallFacts(queued_at=0, abandoned_at=9, resolved=True),  # not answered: left out
    ]
    assert summarize(calls).fcr == pytest.approx(1 / 3)


def test_repeat_calls_look_seven_days_ahead_for_the_same_number() -> None:
    arrivals = [("111", 0.0), ("222", 0.0), ("333", 0.0), (None, 0.0)]
    known = [("111", 0.0), ("111", 7 * DAY), ("222", 7 * DAY + 1), ("333", 0.0)]
    assert repeat_calls(arrivals, known, KpiSettings().repeat_window_s) == [
        True,  # exactly 7 days later still counts
        False,  # a second too late
        False,  # only itself
        False,  # no number, never a repeat
    ]


def test_occupancy_is_busy_over_staffed_time() -> None:
    seconds = {"on_call": 300, "wrap_up": 60, "ready": 200, "reserved": 40, "paused": 900}
    assert occupancy(seconds) == pytest.approx(360 / 600)
    assert occupancy({"paused": 100, "logged_out": 50}) is None


def test_handle_time_is_the_sum_and_aht_its_mean() -> None:
    calls = [
        CallFacts(queued_at=0, answered_at=3, talk_s=100, hold_s=10, wrap_up_s=20),
        CallFacts(queued_at=0, answered_at=3, talk_s=50),
    ]
    summary = summarize(calls)
    assert (summary.handled, summary.handle_time_s, summary.aht_s) == (2, 180, 90)
    assert summary.as_report_dict()["handle_time_s"] == 180
