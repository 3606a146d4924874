"""Seeded traffic for the simulator: when callers arrive, what they press, how long they wait.

Pure functions of a ``random.Random``: the same seed gives the same call sequence every time, so a
demo or a benchmark run can be repeated exactly. Arrivals are a Poisson process (exponential gaps
at ``calls_per_hour``); patience and talk times are exponential around their means, the usual
first model of a contact-centre queue (Erlang C / Erlang A assume exactly this).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from acd.sim.plan import (
    AgentBehaviour,
    CallerBehaviour,
    DialplanPlan,
    QueueMember,
    QueuePlan,
    SimPlan,
)


def _default_menu_mix() -> dict[str, float]:
    # menu answer -> weight; "" = the caller types nothing (GET DATA times out)
    return {"1": 0.55, "2": 0.30, "3": 0.05, "": 0.10}


@dataclass(frozen=True, slots=True)
class TrafficProfile:
    calls_per_hour: float = 120.0
    duration_s: float = 600.0
    menu_mix: Mapping[str, float] = field(default_factory=_default_menu_mix)
    #: share of callers with limited patience; the others wait until someone answers
    impatient_share: float = 0.3
    patience_mean_s: float = 60.0
    #: time spent in the IVR before queueing, added to the patience of impatient callers
    ivr_time_s: float = 10.0
    answer_delay_mean_s: float = 1.5  # how long a caller takes to type after a prompt starts
    survey_share: float = 0.5  # callers who answer the post-call survey
    number_prefix: str = "555"


@dataclass(frozen=True, slots=True)
class PlannedCall:
    at: float  # seconds after the start of the traffic run
    caller: CallerBehaviour


def arrival_times(rng: random.Random, calls_per_hour: float, duration_s: float) -> list[float]:
    """Poisson arrivals in ``[0, duration_s)``: exponential gaps with mean 3600/calls_per_hour."""
    if calls_per_hour <= 0 or duration_s <= 0:
        return []
    rate_per_s = calls_per_hour / 3600.0
    times: list[float] = []
    t = rng.expovariate(rate_per_s)
    while t < duration_s:
        times.append(t)
        t += rng.expovariate(rate_per_s)
    return times


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    choices = list(weights)
    if not choices:
        return ""
    return rng.choices(choices, weights=[weights[c] for c in choices])[0]


def make_caller(rng: random.Random, profile: TrafficProfile) -> CallerBehaviour:
    """One caller: number, menu answer, optional survey score, patience."""
    number = f"{profile.number_prefix}{rng.randrange(10**7):07d}"
    answers = [_pick(rng, profile.menu_mix)]
    if rng.random() < profile.survey_share:
        answers.append(str(rng.randint(1, 5)))
    patience: float | None = None
    if rng.random() < profile.impatient_share:
        patience = round(profile.ivr_time_s + rng.expovariate(1.0 / profile.patience_mean_s), 3)
    delay = round(max(0.2, rng.expovariate(1.0 / profile.answer_delay_mean_s)), 3)
    return CallerBehaviour(
        number=number,
        prompt_answers=tuple(answers),
        answer_delay=delay,
        hangup_after=patience,
    )


def generate_calls(rng: random.Random, profile: TrafficProfile) -> list[PlannedCall]:
    """The whole run: arrival times first, then one caller per arrival, both from ``rng``."""
    times = arrival_times(rng, profile.calls_per_hour, profile.duration_s)
    return [PlannedCall(round(t, 3), make_caller(rng, profile)) for t in times]


def agent_endpoints(count: int, *, technology: str = "PJSIP", first: int = 1001) -> list[str]:
    """Endpoint strings for ``count`` softphones: ``PJSIP/1001``, ``PJSIP/1002``, ..."""
    return [f"{technology}/{first + i}" for i in range(count)]


def make_agents(
    rng: random.Random,
    endpoints: Iterable[str],
    *,
    answer_probability: float = 0.95,
    ring_mean_s: float = 3.0,
    talk_mean_s: float = 120.0,
) -> dict[str, AgentBehaviour]:
    """Agent phones: ring a few seconds before answering, talk an exponential time.

    The agent side ends the call (``hangs_up="agent"``) so every call finishes even for callers
    without a patience limit.
    """
    agents: dict[str, AgentBehaviour] = {}
    for endpoint in endpoints:
        agents[endpoint] = AgentBehaviour(
            answer_after=round(min(15.0, 0.5 + rng.expovariate(1.0 / ring_mean_s)), 3),
            answer_probability=answer_probability,
            talk_time=round(max(5.0, rng.expovariate(1.0 / talk_mean_s)), 3),
            hangs_up="agent",
        )
    return agents


def demo_plan(
    rng: random.Random,
    *,
    agents: int,
    agi_host: str = "127.0.0.1",
    agi_port: int = 4573,
    recordings_dir: str = "/var/spool/asterisk/monitor",
) -> SimPlan:
    """A plan for ``hotline sim``/benchmarks: ``agents`` softphones (PJSIP/1001...) that are
    members of the reference queues (sales: rrmemory, support: ringall) for the fallback path."""
    endpoints = agent_endpoints(agents)
    members = tuple(QueueMember(ep, f"Agent {ep.rsplit('/', 1)[-1]}", ep) for ep in endpoints)
    queues = (
        QueuePlan("sales", "rrmemory", 15.0, 2.0, members, monitor_format="wav"),
        QueuePlan("support", "ringall", 15.0, 2.0, members),
    )
    return SimPlan(
        queues=queues,
        agents=make_agents(rng, endpoints),
        dialplan=DialplanPlan(agi_host=agi_host, agi_port=agi_port),
        recordings_dir=recordings_dir,
    )
