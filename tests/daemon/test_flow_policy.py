"""The waiting caller's pure decisions: announcement wording, its schedule, the overflow rung to
take, polite calling hours, the floor's overflow moves, and the screen pop's IVR part."""

from __future__ import annotations

import datetime as dt

import pytest

from acd.daemon.call_state import fold
from acd.daemon.call_steps import Arrival, IvrFinished
from acd.daemon.screen_pop import ivr_summary
from acd.daemon.wait_policy import (
    Announcement,
    Announcements,
    WaitState,
    announcement,
    calling_hours,
    choose_rung,
    music_wait_ms,
)
from acd.engine.floor import Floor
from acd.engine.floor_effects import Offer
from acd.engine.floor_inputs import AgentAction, AgentRequest, CallerArrived, Overflow
from acd.engine.model import (
    AgentSpec,
    OfferCallback,
    OverflowToQueue,
    QueueSpec,
    ServiceLevelTarget,
    SkillRequirement,
    WaitingCall,
    WidenSkills,
)

WIDEN = WidenSkills(60.0, (SkillRequirement("general"),))
MOVE = OverflowToQueue(120.0, "enquiries")
CALLBACK = OfferCallback(180.0)
ORDERS = QueueSpec(
    "orders", "orders", overflow=(WIDEN, MOVE, CALLBACK),
    service_level=ServiceLevelTarget(15.0, 0.9),
)  # fmt: skip


@pytest.mark.parametrize(
    ("ahead", "estimate_s", "said"),
    [
        (0, 30.0, Announcement(1, 1)),  # under a minute is said as one minute, never zero
        (0, 60.0, Announcement(1, 1)),
        (2, 61.0, Announcement(3, 2)),
        (4, 180.0, Announcement(5, 3)),
        (1, None, Announcement(2, None)),  # nobody can take the call: no time promised
    ],
)
def test_announcement(ahead: int, estimate_s: float | None, said: Announcement) -> None:
    assert announcement(ahead, estimate_s) == said


def test_announcements_start_after_the_first_delay_then_repeat() -> None:
    state = WaitState(queued_at=100.0, rules=Announcements(first_after_s=10.0, every_s=30.0))
    assert [state.announce_due(t) for t in (100.0, 109.9, 110.0)] == [False, False, True]
    state.announced(111.0)
    assert [state.announce_due(t) for t in (140.9, 141.0)] == [False, True]
    once = WaitState(queued_at=0.0, rules=Announcements(first_after_s=10.0, every_s=0.0))
    assert once.announce_due(10.0)
    once.announced(10.0)
    assert not once.announce_due(1000.0)
    silent = Announcements(position=False, wait_time=False)
    assert not WaitState(queued_at=0.0, rules=silent).announce_due(1000.0)


def test_an_announcement_says_only_what_the_queue_asks_for() -> None:
    assert announcement(2, 61.0, Announcements(wait_time=False)) == Announcement(3, None)
    assert announcement(2, 61.0, Announcements(position=False)) == Announcement(None, 2)


@pytest.mark.parametrize(
    ("waited_s", "estimate_s", "taken", "rung"),
    [
        (59.0, None, 0, None),  # the rung's time has not come
        (60.0, None, 0, WIDEN),  # nobody can take the call: a miss is certain
        (60.0, 500.0, 0, WIDEN),
        (130.0, 500.0, 1, MOVE),  # one rung per step, in order
        (130.0, 500.0, 2, None),  # the call-back rung waits for its own time
        (200.0, 500.0, 2, CALLBACK),
        (400.0, 500.0, 3, None),  # the ladder is used up
    ],
)
def test_overflow_rung(waited_s: float, estimate_s: float | None, taken: int, rung: object) -> None:
    assert choose_rung(ORDERS, waited_s, estimate_s, taken) == rung


def test_no_rung_for_a_caller_predicted_to_make_the_target() -> None:
    # A queue whose first rung comes before the target: a caller about to be answered stays.
    early = QueueSpec("q", "s", overflow=(OverflowToQueue(5.0, "other"),))
    assert choose_rung(early, 6.0, 8.0, 0) is None  # 6 + 8 <= 15
    assert choose_rung(early, 6.0, 10.0, 0) == OverflowToQueue(5.0, "other")


def test_rung_may_be_due_only_once_its_time_has_come() -> None:
    state = WaitState(queued_at=1000.0)
    assert not state.rung_may_be_due(ORDERS, 1059.0)
    assert state.rung_may_be_due(ORDERS, 1060.0)
    state.rungs_taken = 3
    assert not state.rung_may_be_due(ORDERS, 5000.0)


def test_calling_hours_are_local_and_cross_days() -> None:
    noon_utc = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC).timestamp()
    spans = calling_hours(noon_utc, "Asia/Shanghai", (9, 20), days=2)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert spans == [
        (
            dt.datetime(2026, 3, 2, 9, tzinfo=shanghai).timestamp(),
            dt.datetime(2026, 3, 2, 20, tzinfo=shanghai).timestamp(),
        ),
        (
            dt.datetime(2026, 3, 3, 9, tzinfo=shanghai).timestamp(),
            dt.datetime(2026, 3, 3, 20, tzinfo=shanghai).timestamp(),
        ),
    ]


def _floor() -> Floor:
    queues = [QueueSpec("orders", "orders", min_level=3), QueueSpec("enquiries", "general")]
    return Floor(queues, [AgentSpec("gen", "PJSIP/1", {"general": 1})])


def test_floor_widen_lets_an_agent_with_the_extra_skill_take_the_caller() -> None:
    floor = _floor()
    floor.handle(AgentRequest("gen", AgentAction.LOGIN), 0.0)
    assert floor.handle(CallerArrived(WaitingCall("c1", "orders", 0.0)), 0.0) == []
    effects = floor.handle(Overflow("c1", WidenSkills(60.0, (SkillRequirement("general"),))), 60.0)
    offers = [e for e in effects if isinstance(e, Offer)]
    assert [(o.call_id, o.agent_id) for o in offers] == [("c1", "gen")]


def test_floor_move_keeps_the_place_and_ignores_a_caller_no_longer_waiting() -> None:
    floor = _floor()
    floor.handle(CallerArrived(WaitingCall("late", "enquiries", 50.0)), 50.0)
    floor.handle(CallerArrived(WaitingCall("early", "orders", 10.0)), 10.0)
    floor.handle(Overflow("early", OverflowToQueue(120.0, "enquiries")), 130.0)
    assert [c.call_id for c in floor.router.waiting_calls()] == ["early", "late"]
    assert floor.router.position("early") == 0
    floor.handle(AgentRequest("gen", AgentAction.LOGIN), 131.0)  # "early" is now ringing the agent
    assert floor.handle(Overflow("early", OverflowToQueue(120.0, "orders")), 132.0) == []
    assert floor.engaged_agent("early") == "gen"


def test_screen_pop_ivr_part_lists_menus_reason_and_order() -> None:
    path = (
        {"node": "main", "keys": ["2"], "seconds": 3.1},
        {"node": "after_sales", "keys": ["3"], "seconds": 2.0},
    )
    ivr = IvrFinished(
        1.0, "queue", "after_sales", path, reason="item_missing", order_number="A1001"
    )
    call = fold(Arrival("c1", "u1", "PJSIP/x", "5550100", None, 0.0), [ivr])
    assert ivr_summary(call) == {
        "menus": [{"node": "main", "keys": ["2"]}, {"node": "after_sales", "keys": ["3"]}],
        "reason": "item_missing",
        "order_number": "A1001",
    }


def test_the_music_wait_lasts_until_the_next_announcement_or_rung_at_most_the_cap() -> None:
    rules = Announcements(first_after_s=10.0, every_s=30.0)
    ladder = QueueSpec("q", "s", overflow=(OverflowToQueue(5.0, "other"),))
    state = WaitState(100.0, rules)
    # the rung at 105 s comes before the announcement at 110 s
    assert music_wait_ms(state, ladder, 101.0, 10_000, 500) == 4000
    state.rungs_taken = 1
    assert music_wait_ms(state, ladder, 101.0, 10_000, 500) == 9000
    assert music_wait_ms(state, ladder, 101.0, 2000, 500) == 2000  # the cap (poll_ms: AMI down)
    # due but not taken (no status yet): looked at again after the retry time, not at once
    assert music_wait_ms(state, ladder, 111.0, 10_000, 500) == 500
    silent = WaitState(100.0, Announcements(position=False, wait_time=False))
    assert music_wait_ms(silent, QueueSpec("q", "s"), 101.0, 10_000, 500) == 10_000
