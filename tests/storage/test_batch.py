"""The pure batch planner: one row per natural key, the end state of submit order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from acd.storage.agent_states import Interval, in_state_at
from acd.storage.batch import by_columns, plan_batch
from acd.storage.commands import (
    AppendAgentState,
    AppendAudit,
    AppendCallEvent,
    UpdateCallback,
    UpsertCall,
    UpsertCustomer,
)
from acd.storage.timeline import TimelineStep, decode_timeline, encode_timeline

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_upserts_of_one_call_merge_later_values_over_earlier_ones() -> None:
    step = TimelineStep(seq=1, at=s(0), kind="arrived")
    plan = plan_batch(
        [
            UpsertCall(
                idempotency_key="1", call_id="c1", values={"arrived_at": s(0), "queue": "a"}
            ),
            UpsertCall(idempotency_key="2", call_id="c2", values={"answered_at": s(3)}),
            UpsertCall(idempotency_key="3", call_id="c1", values={"queue": "b", "vip": True}),
            UpsertCall(idempotency_key="4", call_id="c1", values={}, timeline=(step,)),
            UpsertCall(idempotency_key="5", call_id="c1", values={"outcome": "answered"}),
        ]
    )
    assert plan.calls == {
        "c1": {
            "id": "c1",
            "arrived_at": s(0),
            "queue": "b",
            "vip": True,
            "timeline": encode_timeline([step]),
            "outcome": "answered",
        },
        "c2": {"id": "c2", "answered_at": s(3)},
    }


def test_a_timeline_of_none_leaves_the_stored_one() -> None:
    plan = plan_batch([UpsertCall(idempotency_key="1", call_id="c1", values={"queue": "a"})])
    assert "timeline" not in plan.calls["c1"]


def test_replayed_timeline_rows_collapse_onto_call_and_seq_first_wins() -> None:
    def event(key: str, seq: int, kind: str) -> AppendCallEvent:
        return AppendCallEvent(idempotency_key=key, call_id="c1", seq=seq, at=s(seq), kind=kind)

    plan = plan_batch([event("a", 1, "arrived"), event("b", 2, "offered"), event("c", 1, "x")])
    assert [(k, row["kind"]) for k, row in plan.call_events.items()] == [
        (("c1", 1), "arrived"),
        (("c1", 2), "offered"),
    ]


def test_order_dependent_commands_keep_submit_order() -> None:
    states = [
        AppendAgentState(idempotency_key=str(n), agent_id="a1", state=name, reason=None, at=s(n))
        for n, name in enumerate(["ready", "ringing", "ready"])
    ]
    updates = [
        UpdateCallback(idempotency_key="u1", callback_id="b1", state="dialing", attempts=1),
        UpdateCallback(idempotency_key="u2", callback_id="b1", state="pending", due_at=s(9)),
    ]
    plan = plan_batch([states[0], updates[0], states[1], updates[1], states[2]])
    assert plan.agent_states == states
    assert [u["new_state"] for u in plan.callback_updates] == ["dialing", "pending"]
    assert plan.callback_updates[1]["new_attempts"] is None  # COALESCE keeps the stored value


def test_customer_upserts_merge_and_audits_are_claimed() -> None:
    audit = AppendAudit(idempotency_key="au", who="w", role="r", action="listen", at=s(0))
    plan = plan_batch(
        [
            UpsertCustomer(idempotency_key="1", number="+49", values={"vip": True}),
            audit,
            UpsertCustomer(idempotency_key="2", number="+49", values={"name": "Ann"}),
        ]
    )
    assert plan.customers == {"+49": {"number": "+49", "vip": True, "name": "Ann"}}
    assert plan.claimed == [audit]


def test_rows_are_grouped_by_their_column_set_in_first_seen_order() -> None:
    rows = [{"id": 1, "a": 1}, {"id": 2}, {"a": 3, "id": 3}, {"id": 4}]
    assert by_columns(rows) == [[rows[0], rows[2]], [rows[1], rows[3]]]


def test_timeline_round_trips_through_its_json_form() -> None:
    steps = [
        TimelineStep(seq=1, at=s(0), kind="arrived"),
        TimelineStep(seq=2, at=s(2.5), kind="offered", agent_id="a1", data={"ring": 1}),
    ]
    stored = encode_timeline(steps)
    assert stored[1] == {
        "seq": 2,
        "at": "2026-03-01T09:00:02.500000+00:00",
        "kind": "offered",
        "agent_id": "a1",
        "data": {"ring": 1},
    }
    assert decode_timeline(stored) == steps


def interval(state: str, start: float, end: float | None) -> Interval:
    return Interval(state, None, s(start), None if end is None else s(end))


def test_the_log_tells_whether_the_agent_was_in_a_state_at_an_instant() -> None:
    log = [interval("ready", 0, 10), interval("ringing", 10, 10), interval("paused", 10, None)]
    assert in_state_at(log, "ready", None, s(5))
    assert not in_state_at(log, "ready", None, s(10))  # ready ended at 10
    assert in_state_at(log, "ringing", None, s(10))  # zero-length, but it started at 10
    assert in_state_at(log, "paused", None, s(99))
    assert not in_state_at(log, "paused", "lunch", s(99))  # another reason is another state
    assert not in_state_at(log, "on_call", None, s(5))
