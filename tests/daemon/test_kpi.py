"""KPI definitions on a hand-computed call set."""

from __future__ import annotations

import pytest

from acd.kpi import CallFacts, KpiSettings, summarize

# queue entry at t=0 for every call; cadence 5 s -> 3 rings = 15 s
CALLS = [
    # answered after 10 s wait, rang 4 s; talk 100, wrap 20
    CallFacts(queued_at=0, ring_started_at=6, answered_at=10, talk_s=100, wrap_up_s=20),
    # answered after 20 s wait (misses SL), rang 16 s (misses 3 rings); talk 200, hold 10
    CallFacts(queued_at=0, ring_started_at=4, answered_at=20, talk_s=200, hold_s=10),
    # answered at 15 s exactly: within SL (<=); rang 15 s: within 3 rings
    CallFacts(queued_at=0, ring_started_at=0, answered_at=15, talk_s=60),
    # short abandon (3 s < 5 s): excluded from the SL denominator
    CallFacts(queued_at=0, abandoned_at=3),
    # long abandon at 40 s: counts against SL
    CallFacts(queued_at=0, abandoned_at=40),
    # never queued (self-service): not offered
    CallFacts(queued_at=None),
]


def test_hand_computed_kpis() -> None:
    s = summarize(CALLS, KpiSettings(service_level_s=15, short_abandon_s=5, ring_cadence_s=5))
    assert (s.offered, s.answered, s.abandoned, s.short_abandoned) == (5, 3, 2, 1)
    assert s.service_level_15s == pytest.approx(2 / 4)
    assert s.service_level_with_short_abandons == pytest.approx(2 / 5)
    assert s.answered_within_3_rings == pytest.approx(2 / 3)
    assert s.answer_rate == pytest.approx(3 / 5)
    assert s.abandonment_rate == pytest.approx(2 / 5)
    assert s.asa_s == pytest.approx((10 + 20 + 15) / 3)
    assert s.aht_s == pytest.approx((120 + 210 + 60) / 3)


def test_no_calls_gives_none_not_zero_division() -> None:
    s = summarize([])
    assert s.offered == 0
    assert s.service_level_15s is None
    assert s.as_dict()["asa_s"] is None


def test_summary_dict_has_the_demo_keys() -> None:
    keys = summarize(CALLS).as_dict().keys()
    for key in ("offered", "answered", "abandoned", "service_level_15s"):
        assert key in keys
    assert {"answered_within_3_rings", "asa_s", "aht_s"} <= set(keys)


def test_calls_in_progress_count_once_judged_and_handle_time_once_ended() -> None:
    """A live period (the wallboard's today): a caller waiting less than 15 s is not judged
    yet; one waiting longer already missed; a conversation still going has no handle time."""
    live = [
        *CALLS,
        CallFacts(queued_at=0, open_s=8),  # waiting 8 s: may still make it
        CallFacts(queued_at=0, open_s=30),  # waiting 30 s: missed the level already
        CallFacts(queued_at=0, ring_started_at=1, answered_at=5, talk_s=0, open_s=50),  # talking
    ]
    s = summarize(live, KpiSettings(service_level_s=15, short_abandon_s=5, ring_cadence_s=5))
    assert (s.offered, s.answered, s.abandoned) == (8, 4, 2)
    assert s.service_level_15s == pytest.approx(3 / 6)  # 8 offered - 1 short - 1 pending
    assert s.service_level_with_short_abandons == pytest.approx(3 / 7)
    assert s.asa_s == pytest.approx((10 + 20 + 15 + 5) / 4)
    assert s.aht_s == pytest.approx((120 + 210 + 60) / 3)  # the live conversation left out
