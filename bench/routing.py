"""Routing latency: one decision (an agent is freed, or a caller arrives) on a busy floor.

5,000 agents with 3 of 20 skills each (levels 1-5), 20 queues with relax rules and all four
policies, ~5,000 callers waiting at three priorities. Each sample times exactly one decision:
the input (``agent_available`` / ``caller_arrived``) plus ``route(now)``. A second run times
arrivals on a floor where every agent is ready (``arrival_all_ready_p99_us``), i.e. the policy pick.

    python bench/routing.py --json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acd.engine.model import AgentSpec, Policy, QueueSpec, RelaxRule, WaitingCall
from acd.engine.routing import Router

SKILLS = 20
AGENTS = 5000
CALLERS = 5000


def build(rng: random.Random) -> tuple[Router, list[str], float]:
    policies = list(Policy)
    queues = [
        QueueSpec(
            name=f"q{i:02d}",
            skill=f"s{i:02d}",
            min_level=3,
            relax=(RelaxRule(10.0, 2), RelaxRule(20.0, 1)),
            policy=policies[i % len(policies)],
        )
        for i in range(SKILLS)
    ]
    agents = [
        AgentSpec(
            f"a{i:05d}",
            f"PJSIP/{1000 + i}",
            {f"s{s:02d}": rng.randint(1, 5) for s in rng.sample(range(SKILLS), 3)},
        )
        for i in range(AGENTS)
    ]
    router = Router(queues, agents)
    for agent in agents:
        router.agent_available(agent.id, rng.uniform(0.0, 60.0))
    now = 100.0
    # Enough callers that every agent gets one and about CALLERS are left waiting.
    for n in range(AGENTS + CALLERS):
        router.caller_arrived(_caller(rng, f"c{n}", now))
    busy = [a.agent_id for a in router.route(now)]
    return router, busy, now


def _caller(rng: random.Random, call_id: str, now: float) -> WaitingCall:
    return WaitingCall(
        call_id,
        f"q{rng.randrange(SKILLS):02d}",
        now - rng.uniform(0.0, 30.0),
        priority=rng.choice((0, 0, 0, 5, 10)),
    )


def picks_with_ready_floor(decisions: int, seed: int) -> list[int]:
    """Caller arrivals when all 5,000 agents are ready: times the agent choice itself."""
    rng = random.Random(seed)
    router, busy, now = build(rng)
    for call in router.waiting_calls():
        router.caller_left(call.call_id)
    for agent_id in busy:
        router.agent_available(agent_id, rng.uniform(0.0, now))
    router.route(now)
    samples: list[int] = []
    for n in range(decisions):
        now += 0.01
        call = _caller(rng, f"p{n}", now)
        t0 = time.perf_counter_ns()
        router.caller_arrived(call)
        made = router.route(now)
        samples.append(time.perf_counter_ns() - t0)
        for a in made:  # the call ends at once: the agent is ready again (not timed)
            router.caller_left(a.call_id)
            router.agent_available(a.agent_id, now)
        router.route(now)
    return samples


def run(decisions: int, seed: int) -> dict[str, float | int]:
    rng = random.Random(seed)
    router, busy, now = build(rng)
    samples: list[int] = []
    freed: list[int] = []
    arrived: list[int] = []
    for n in range(decisions // 2):
        now += 0.01
        # One agent finishes a call (wrap-up done) and is routable again.
        agent = busy.pop(rng.randrange(len(busy)))
        t0 = time.perf_counter_ns()
        router.agent_available(agent, now)
        made = router.route(now)
        freed.append(time.perf_counter_ns() - t0)
        busy.extend(a.agent_id for a in made)
        for a in made:  # connected: the router is done with the call (not timed)
            router.caller_left(a.call_id)
        # One caller arrives, keeping the queue near CALLERS.
        call = _caller(rng, f"n{n}", now)
        t0 = time.perf_counter_ns()
        router.caller_arrived(call)
        made = router.route(now)
        arrived.append(time.perf_counter_ns() - t0)
        busy.extend(a.agent_id for a in made)
        for a in made:  # connected: the router is done with the call (not timed)
            router.caller_left(a.call_id)
    samples = freed + arrived
    q = statistics.quantiles(samples, n=100)
    return {
        "p50_us": round(statistics.median(samples) / 1000, 2),
        "p99_us": round(q[98] / 1000, 2),
        "agent_freed_p99_us": round(statistics.quantiles(freed, n=100)[98] / 1000, 2),
        "caller_arrived_p99_us": round(statistics.quantiles(arrived, n=100)[98] / 1000, 2),
        "arrival_all_ready_p99_us": round(
            statistics.quantiles(picks_with_ready_floor(decisions // 2, seed), n=100)[98] / 1000, 2
        ),
        "agents": AGENTS,
        "callers": CALLERS,
        "waiting_at_end": router.waiting_count(),
        "skills": SKILLS,
        "decisions": len(samples),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--decisions", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.decisions, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
