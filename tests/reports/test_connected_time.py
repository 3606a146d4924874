"""Talk time of a transferred call in reports: the legs, not the wait between them (as the
daemon's own summary counts it); calls still in progress at the report's ``as_of``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from acd.kpi import KpiSettings
from acd.reports.facts import build_facts, connected_seconds
from acd.reports.queries import CallRow, EventRow

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _at(seconds: float | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


def _row(answered: float | None, ended: float | None) -> CallRow:
    return CallRow(
        id="c1",
        uniqueid=None,
        caller_number="5550100",
        arrived_at=T0,
        queue="orders",
        queued_at=T0,
        answered_at=_at(answered),
        agent_id="1001",
        ended_at=_at(ended),
        hung_up_by="agent",
        outcome="answered",
        ivr_path=None,
        ivr_reason=None,
        ivr_category=None,
        disposition_code=None,
        resolved=None,
        survey_rating=None,
    )


def _event(seq: int, s: float, kind: str) -> EventRow:
    return EventRow("c1", seq, T0 + timedelta(seconds=s), kind, "1001", None)


def test_legs_of_a_transferred_call_add_up_without_the_wait_between() -> None:
    # answered at 10, transferred at 70 (60 s), waits, answered again at 100, ends at 130 (30 s)
    events = [
        _event(1, 10, "answered"),
        _event(2, 70, "transferred"),
        _event(3, 100, "answered"),
        _event(4, 130, "ended"),
    ]
    assert connected_seconds(_row(10, 130), events) == 90.0


def test_a_plain_call_is_answer_to_end_and_an_unanswered_one_is_zero() -> None:
    assert connected_seconds(_row(10, 70), [_event(1, 10, "answered")]) == 60.0
    assert connected_seconds(_row(10, 70), []) == 60.0  # rows without the per-leg timeline
    assert connected_seconds(_row(None, 70), []) == 0.0


def test_a_call_without_an_end_or_outcome_is_in_progress_as_of_the_report() -> None:
    waiting = replace(_row(None, None), id="w", outcome=None, agent_id=None)
    talking = replace(_row(5, None), id="t", outcome=None)
    over = _row(10, 70)
    facts = build_facts(
        [waiting, talking, over], {}, [], [], settings=KpiSettings(), ring_limits={},
        as_of=T0 + timedelta(seconds=12),
    )  # fmt: skip
    assert [f.facts.open_s for f in facts] == [12.0, 12.0, None]
