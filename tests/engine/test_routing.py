"""Routing decisions: preferred agent, policies, priorities, relaxing, misses, supervisor moves."""

from __future__ import annotations

import pytest

from acd.engine.model import (
    AgentSpec,
    Policy,
    QueueSpec,
    RelaxRule,
    SkillRequirement,
    WaitingCall,
)
from acd.engine.routing import Assignment, AssignmentError, Router

SALES = QueueSpec("sales", "sales", policy=Policy.LONGEST_IDLE, ring_timeout_rings=3)
COMPLAINTS = QueueSpec("complaints", "complaints", priority=5)


def agents(*specs: tuple[str, dict[str, int]]) -> list[AgentSpec]:
    return [AgentSpec(a, f"PJSIP/{a}", skills) for a, skills in specs]


def pairs(made: list[Assignment]) -> list[tuple[str, str]]:
    return [(a.call_id, a.agent_id) for a in made]


def test_caller_goes_to_longest_idle_agent_with_ring_timeout() -> None:
    router = Router([SALES], agents(("a1", {"sales": 1}), ("a2", {"sales": 1})))
    router.agent_available("a1", 20.0)
    router.agent_available("a2", 10.0)
    router.caller_arrived(WaitingCall("c1", "sales", 30.0))
    made = router.route(30.0)
    assert made == [Assignment("c1", "a2", "sales", 30.0, SALES.ring_timeout_s)]
    assert SALES.ring_timeout_s == 18.0


def test_last_agent_first_when_idle() -> None:
    router = Router([SALES], agents(("a1", {"sales": 1}), ("a2", {"sales": 1})))
    router.agent_available("a1", 0.0)
    router.agent_available("a2", 5.0)
    router.caller_arrived(WaitingCall("c1", "sales", 9.0, preferred_agent="a2"))
    assert pairs(router.route(9.0)) == [("c1", "a2")]


def test_busy_last_agent_does_not_hold_the_caller() -> None:
    router = Router([SALES], agents(("a1", {"sales": 1}), ("a2", {"sales": 1})))
    router.agent_available("a1", 0.0)
    router.caller_arrived(WaitingCall("c1", "sales", 9.0, preferred_agent="a2"))
    assert pairs(router.route(9.0)) == [("c1", "a1")]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (Policy.LONGEST_IDLE, "b"),  # idle since 1.0
        (Policy.FEWEST_CALLS_TODAY, "c"),  # 0 calls today
        (Policy.HIGHEST_SKILL_LEVEL, "a"),  # level 5
        (Policy.ROUND_ROBIN, "c"),  # next id after the last assigned "b"
    ],
)
def test_policies(policy: Policy, expected: str) -> None:
    queue = QueueSpec("q", "s", policy=policy)
    router = Router([queue], agents(("a", {"s": 5}), ("b", {"s": 2}), ("c", {"s": 1})))
    router.agent_available("b", 0.0)
    router.caller_arrived(WaitingCall("warm-up", "q", 0.0))
    assert pairs(router.route(0.0)) == [("warm-up", "b")]  # b now has 1 call, last assigned
    router.offer_answered("warm-up", 0.0)
    router.agent_available("a", 3.0, calls_today=4)
    router.agent_available("b", 1.0)
    router.agent_available("c", 2.0)
    router.route(3.0)
    router.caller_arrived(WaitingCall("x", "q", 5.0))
    assert pairs(router.route(5.0)) == [("x", expected)]


def test_round_robin_wraps_to_lowest_id() -> None:
    queue = QueueSpec("q", "s", policy=Policy.ROUND_ROBIN)
    router = Router([queue], agents(("a", {"s": 1}), ("b", {"s": 1})))
    router.agent_available("a", 0.0)
    router.agent_available("b", 0.0)
    seen = []
    for n in range(4):
        router.caller_arrived(WaitingCall(f"c{n}", "q", float(n)))
        (made,) = router.route(float(n))
        seen.append(made.agent_id)
        router.offer_answered(made.call_id, float(n))
        router.agent_available(made.agent_id, float(n))
    assert seen == ["a", "b", "a", "b"]


def test_ties_are_broken_by_agent_id() -> None:
    router = Router([SALES], agents(("z", {"sales": 1}), ("m", {"sales": 1})))
    router.agent_available("z", 1.0)
    router.agent_available("m", 1.0)
    router.caller_arrived(WaitingCall("c", "sales", 2.0))
    assert pairs(router.route(2.0)) == [("c", "m")]


def test_freed_agent_takes_priority_then_longest_waiting_across_queues() -> None:
    router = Router([SALES, COMPLAINTS], agents(("a", {"sales": 1, "complaints": 1})))
    router.caller_arrived(WaitingCall("old-sales", "sales", 1.0, priority=0))
    router.caller_arrived(WaitingCall("complaint", "complaints", 5.0, priority=5))
    router.caller_arrived(WaitingCall("vip-sales", "sales", 4.0, priority=5))
    router.route(6.0)
    served = []
    for t in (7.0, 8.0, 9.0):
        router.agent_available("a", t)
        (made,) = router.route(t)
        router.offer_answered(made.call_id, t)
        served.append(made.call_id)
    assert served == ["vip-sales", "complaint", "old-sales"]


def test_requirement_relaxes_with_waiting_time() -> None:
    queue = QueueSpec("q", "s", min_level=3, relax=(RelaxRule(10.0, 2), RelaxRule(20.0, 1)))
    router = Router([queue], agents(("junior", {"s": 1}), ("mid", {"s": 2})))
    router.agent_available("junior", 0.0)
    router.caller_arrived(WaitingCall("c1", "q", 100.0))
    router.caller_arrived(WaitingCall("c2", "q", 105.0))
    assert router.route(100.0) == []
    assert router.next_wakeup() == 110.0
    router.agent_available("mid", 101.0)
    assert router.route(109.9) == []
    assert pairs(router.route(110.0)) == [("c1", "mid")]
    assert router.next_wakeup() == 115.0  # c2 is the new head: relaxes to level 2 at 115
    assert router.route(119.0) == []
    assert pairs(router.route(125.0)) == [("c2", "junior")]


def test_ring_no_answer_keeps_place_and_tries_the_next_agent() -> None:
    router = Router([SALES], agents(("a1", {"sales": 1}), ("a2", {"sales": 1})))
    router.caller_arrived(WaitingCall("first", "sales", 1.0))
    router.caller_arrived(WaitingCall("second", "sales", 2.0))
    router.agent_available("a1", 3.0)
    assert pairs(router.route(3.0)) == [("first", "a1")]
    router.offer_failed("first")
    router.agent_available("a1", 21.0)  # back to ready after the miss
    assert pairs(router.route(21.0)) == [("second", "a1")]  # not re-offered "first"
    router.agent_available("a2", 22.0)
    assert pairs(router.route(22.0)) == [("first", "a2")]


def test_supervisor_assignment_and_its_errors() -> None:
    router = Router([SALES], agents(("a1", {"sales": 1}), ("boss", {})))
    router.caller_arrived(WaitingCall("c1", "sales", 1.0))
    router.route(1.0)
    with pytest.raises(AssignmentError) as err:
        router.assign("c1", "boss", 2.0)
    assert err.value.reason == "agent-not-ready"
    with pytest.raises(AssignmentError) as err:
        router.assign("c1", "ghost", 2.0)
    assert err.value.reason == "unknown-agent"
    router.agent_available("boss", 2.0)  # no sales skill, so routing leaves c1 waiting
    assert router.route(2.0) == []
    assert router.assign("c1", "boss", 3.0).agent_id == "boss"
    with pytest.raises(AssignmentError) as err:
        router.assign("c1", "a1", 4.0)
    assert err.value.reason == "caller-gone"


def test_designated_caller_waits_for_that_agent_only() -> None:
    router = Router([SALES], agents(("a1", {"sales": 1}), ("a2", {"sales": 1})))
    router.caller_arrived(WaitingCall("c1", "sales", 1.0, designated_agent="a2"))
    router.agent_available("a1", 2.0)
    assert router.route(2.0) == []
    router.agent_available("a2", 3.0)
    assert pairs(router.route(3.0)) == [("c1", "a2")]


def test_widen_skills_and_move_queue_keep_arrival_order() -> None:
    support = QueueSpec("support", "support")
    router = Router([SALES, support], agents(("s", {"support": 1})))
    router.caller_arrived(WaitingCall("c1", "sales", 1.0))
    router.caller_arrived(WaitingCall("c2", "support", 5.0))
    router.caller_arrived(WaitingCall("c3", "sales", 2.0))
    router.route(5.0)
    router.widen("c3", [SkillRequirement("support", 1)])
    router.move("c1", "support")
    router.route(6.0)
    order = []
    for t in (7.0, 8.0, 9.0):
        router.agent_available("s", t)
        (made,) = router.route(t)
        router.offer_answered(made.call_id, t)
        order.append(made.call_id)
    assert order == ["c1", "c3", "c2"]


def test_caller_left_is_forgotten() -> None:
    router = Router([SALES], agents(("a1", {"sales": 1})))
    router.caller_arrived(WaitingCall("c1", "sales", 1.0))
    router.caller_arrived(WaitingCall("c2", "sales", 2.0))
    router.route(2.0)
    assert router.position("c2") == 1
    router.caller_left("c1")
    assert router.position("c2") == 0
    router.agent_available("a1", 3.0)
    assert pairs(router.route(3.0)) == [("c2", "a1")]
    assert router.waiting_count() == 0


def test_caller_behind_a_refused_head_still_relaxes_onto_that_agent() -> None:
    queue = QueueSpec("q", "s", min_level=2, relax=(RelaxRule(10.0, 1),))
    router = Router([queue], agents(("a", {"s": 1})))
    router.agent_available("a", 0.0)
    router.caller_arrived(WaitingCall("head", "q", 0.0))
    router.caller_arrived(WaitingCall("second", "q", 8.0))
    assert router.route(8.0) == []
    assert pairs(router.route(10.0)) == [("head", "a")]
    router.offer_failed("head")  # a missed it: head will not be offered to a again
    router.agent_available("a", 15.0)
    assert router.route(15.0) == []  # second still needs level 2 until 18 s
    assert router.next_wakeup() == 18.0
    assert router.route(17.9) == []
    assert pairs(router.route(18.0)) == [("second", "a")]
