"""Discrete-event staffing simulation in virtual time, routed by the real ``Router``.

Poisson arrivals, exponential handle times, optional exponential patience, the queue's wrap-up
after each call. Arrivals stop at the horizon; callers already queued are still served (or
abandon) so every offered call is counted. Rings are not simulated: offers are answered at once.
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from acd.engine.erlang import ErlangCResult, predict
from acd.engine.model import AgentSpec, QueueSpec, WaitingCall
from acd.engine.routing import Assignment, Router

SIM_QUEUE = "main"
SIM_SKILL = "general"

_ARRIVE, _FREE, _ABANDON, _WAKE = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class SimulationParams:
    """The single-queue form: ``agents`` identical agents all serving one queue."""

    agents: int
    calls_per_hour: float
    aht_s: float
    hours: float
    patience_s: float | None = None
    seed: int = 1
    target_s: float = 15.0


@dataclass(frozen=True, slots=True)
class StaffingScenario:
    """The multi-queue form: real queue/agent specs and each queue's offered calls per hour."""

    queues: tuple[QueueSpec, ...]
    agents: tuple[AgentSpec, ...]
    calls_per_hour: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    queue: str
    offered: int
    answered: int
    abandoned: int
    service_level: float  # answered within target / offered (abandons count as misses)
    asa_s: float  # mean wait of answered calls
    occupancy: float  # busy agent time (talk + wrap-up) / staffed time of the Erlang C agents
    erlang: ErlangCResult

    def as_json(self) -> dict[str, float | int | str]:
        return {
            "queue": self.queue,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "service_level_15s": round(self.service_level, 6),
            "erlang_c_service_level_15s": round(self.erlang.service_level, 6),
            "asa_s": round(self.asa_s, 3),
            "erlang_c_asa_s": round(self.erlang.asa_s, 3),
            "occupancy": round(self.occupancy, 6),
            "erlang_c_occupancy": round(self.erlang.occupancy, 6),
            "erlang_c_agents": self.erlang.agents,
        }


@dataclass(slots=True)
class _Tally:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    within: int = 0
    wait: float = 0.0
    busy: float = 0.0  # agent time (talk + wrap-up) spent on this queue's calls


def simulate(params: SimulationParams) -> SimulationResult:
    if params.agents < 1:
        raise ValueError("agents, calls per hour, handle time and hours must be positive")
    floor = StaffingScenario(
        (QueueSpec(name=SIM_QUEUE, skill=SIM_SKILL),),
        tuple(AgentSpec(f"a{i:05d}", f"SIM/{i}", {SIM_SKILL: 1}) for i in range(params.agents)),
        {SIM_QUEUE: params.calls_per_hour},
    )
    return simulate_floor(floor, params)[0]


def simulate_floor(floor: StaffingScenario, params: SimulationParams) -> list[SimulationResult]:
    """One result per queue, then (with several queues) a "total" row for the whole floor.

    Erlang C per queue assumes the agents holding its skill serve only it (an optimistic bound
    when skills overlap); the total row pools all agents and all traffic.
    """
    rates = [floor.calls_per_hour.get(q.name, 0.0) for q in floor.queues]
    if not floor.agents or sum(rates) <= 0 or params.aht_s <= 0 or params.hours <= 0:
        raise ValueError("agents, calls per hour, handle time and hours must be positive")
    run = _Run(floor, params, rates)
    run.run()
    results = [
        _result(q.name, run.tally[q.name], run.horizon, _erlang(floor, q, rate, params))
        for q, rate in zip(floor.queues, rates, strict=True)
    ]
    if len(results) > 1:
        tallies = run.tally.values()
        total = _Tally(*(sum(getattr(t, f) for t in tallies) for f in _Tally.__slots__))
        wrap = sum(q.wrap_up_s * r for q, r in zip(floor.queues, rates, strict=True)) / sum(rates)
        pooled = predict(sum(rates), params.aht_s + wrap, len(floor.agents), params.target_s)
        results.append(_result("total", total, run.horizon, pooled))
    return results


class _Run:
    def __init__(
        self, floor: StaffingScenario, params: SimulationParams, rates: list[float]
    ) -> None:
        self.floor = floor
        self.params = params
        self.rng = random.Random(params.seed)
        self.horizon = params.hours * 3600.0
        self.arrival_rate = sum(rates) / 3600.0
        self.cumulative = list(accumulate(rates))
        self.router = Router(floor.queues, floor.agents)
        self.tally = {q.name: _Tally() for q in floor.queues}
        self.waiting: dict[str, WaitingCall] = {}
        self.events: list[tuple[float, int, int, str]] = []
        self.seq = 0

    def push(self, at: float, kind: int, ref: str) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, ref))

    def run(self) -> None:
        router = self.router
        for agent in self.floor.agents:
            router.agent_available(agent.id, 0.0)
        router.route(0.0)
        self.push(self.rng.expovariate(self.arrival_rate), _ARRIVE, "")
        while self.events:
            now, _, kind, ref = heapq.heappop(self.events)
            if kind == _ARRIVE:
                if now >= self.horizon:
                    continue
                self.arrive(now)
            elif kind == _FREE:
                router.agent_available(ref, now)
            elif kind == _ABANDON and ref in self.waiting:  # patience ran out while waiting
                self.tally[self.waiting.pop(ref).queue].abandoned += 1
                router.caller_left(ref)
            self.start(router.route(now))
            wake = router.next_wakeup()
            if wake is not None and (not self.events or wake < self.events[0][0]):
                self.push(wake, _WAKE, "")  # a requirement relaxes: route again then

    def arrive(self, now: float) -> None:
        queues = self.floor.queues
        pick = bisect_right(self.cumulative, self.rng.random() * self.cumulative[-1])
        queue = queues[min(pick, len(queues) - 1)].name
        self.tally[queue].offered += 1
        call = WaitingCall(f"c{self.seq}", queue, now)
        self.waiting[call.call_id] = call
        self.router.caller_arrived(call)
        patience = self.params.patience_s
        if patience is not None:
            self.push(now + self.rng.expovariate(1.0 / patience), _ABANDON, call.call_id)
        self.push(now + self.rng.expovariate(self.arrival_rate), _ARRIVE, "")

    def start(self, assignments: list[Assignment]) -> None:
        for a in assignments:
            self.router.caller_left(a.call_id)  # answered at once; the talk is not routed
            wait = a.at - self.waiting.pop(a.call_id).arrived_at
            t = self.tally[a.queue]
            t.answered += 1
            t.wait += wait
            t.within += wait <= self.params.target_s
            talk = self.rng.expovariate(1.0 / self.params.aht_s)
            done = a.at + talk + self.router.queues[a.queue].wrap_up_s
            t.busy += max(0.0, min(done, self.horizon) - min(a.at, self.horizon))
            self.push(done, _FREE, a.agent_id)


def _erlang(
    floor: StaffingScenario, queue: QueueSpec, rate: float, params: SimulationParams
) -> ErlangCResult:
    skilled = sum(1 for a in floor.agents if queue.skill in a.skills)
    return predict(max(rate, 1e-9), params.aht_s + queue.wrap_up_s, skilled, params.target_s)


def _result(name: str, t: _Tally, horizon: float, erlang: ErlangCResult) -> SimulationResult:
    return SimulationResult(
        queue=name,
        offered=t.offered,
        answered=t.answered,
        abandoned=t.abandoned,
        service_level=t.within / t.offered if t.offered else 0.0,
        asa_s=t.wait / t.answered if t.answered else 0.0,
        occupancy=t.busy / (erlang.agents * horizon) if erlang.agents else math.inf,
        erlang=erlang,
    )


def queue_mix(queues: Sequence[QueueSpec], calls_per_hour: float) -> dict[str, float]:
    """Spread a total call rate evenly over the queues (when no per-queue mix is given)."""
    return {q.name: calls_per_hour / len(queues) for q in queues}
