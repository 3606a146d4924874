"""Seeded random operation sequences checked against a brute-force reference.

After every ``route(now)`` no waiting caller may be eligible for a ready agent, and a freed agent
must take the best eligible caller (priority, then longest waiting).
"""

from __future__ import annotations

import random

import pytest

from acd.engine.model import AgentSpec, Policy, QueueSpec, RelaxRule, WaitingCall
from acd.engine.routing import Router

QUEUES = [
    QueueSpec("q0", "s0", min_level=3, relax=(RelaxRule(10.0, 2), RelaxRule(20.0, 1))),
    QueueSpec("q1", "s1", min_level=2, relax=(RelaxRule(15.0, 1),), policy=Policy.ROUND_ROBIN),
    QueueSpec("q2", "s0", min_level=1, priority=3, policy=Policy.HIGHEST_SKILL_LEVEL),
    QueueSpec("q3", "s2", min_level=4, policy=Policy.FEWEST_CALLS_TODAY),
]
BY_NAME = {q.name: q for q in QUEUES}


REFUSED: dict[str, set[str]] = {}  # call id -> agents that missed it (reset per test)


def eligible(router: Router, call: WaitingCall, agent_id: str, now: float) -> bool:
    if agent_id in REFUSED.get(call.call_id, set()):
        return False
    queue = BY_NAME[call.queue]
    need = queue.required_level(queue.min_level, now - call.arrived_at)
    return router.agents[agent_id].skills.get(queue.skill, 0) >= need


def check_invariant(router: Router, now: float) -> None:
    for call in router.waiting_calls():
        for agent_id in router.ready:
            assert not eligible(router, call, agent_id, now), (call, agent_id, now)


@pytest.mark.parametrize("seed", range(12))
def test_random_operations_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    REFUSED.clear()
    specs = [
        AgentSpec(
            f"a{i}", f"PJSIP/{i}", {s: rng.randint(1, 5) for s in rng.sample(["s0", "s1", "s2"], 2)}
        )
        for i in range(8)
    ]
    router = Router(QUEUES, specs)
    busy: set[str] = {a.id for a in specs}
    now = 0.0
    calls = 0
    for _ in range(400):
        now += rng.choice((0.0, 0.5, 3.0, 7.0))
        op = rng.random()
        if op < 0.45:
            calls += 1
            router.caller_arrived(
                WaitingCall(
                    f"c{calls}", rng.choice(QUEUES).name, now, priority=rng.choice((0, 0, 5))
                )
            )
            made = router.route(now)
            assert len({a.call_id for a in made}) == len(made)
        elif op < 0.85 and busy:
            agent_id = rng.choice(sorted(busy))
            busy.discard(agent_id)
            before = [c for c in router.waiting_calls() if eligible(router, c, agent_id, now)]
            router.agent_available(agent_id, now)
            made = router.route(now)
            # Freed agents are served before relax sweeps, so it gets the best eligible caller.
            mine = [a.call_id for a in made if a.agent_id == agent_id]
            assert mine == [c.call_id for c in before[:1]]
        elif router.waiting_count():
            gone = rng.choice(router.waiting_calls())
            router.caller_left(gone.call_id)
            made = router.route(now)
        else:
            made = router.route(now)
        while made:
            retry = False
            for a in made:
                assert a.queue in BY_NAME
                busy.add(a.agent_id)
                if rng.random() < 0.2:  # ring-no-answer: the caller goes back, skipping a
                    router.offer_failed(a.call_id)
                    REFUSED.setdefault(a.call_id, set()).add(a.agent_id)
                    retry = True
                else:
                    router.offer_answered(a.call_id, now)
            made = router.route(now) if retry else []
        check_invariant(router, now)
