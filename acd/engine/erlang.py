"""Erlang C: the staffing model the simulator is checked against.

Computed through the Erlang B recursion, which is numerically stable for hundreds of agents where
the textbook factorial formula overflows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(traffic_erl: float, agents: int) -> float:
    """Blocking probability with ``agents`` servers and ``traffic_erl`` offered (no queue)."""
    if agents < 0 or traffic_erl < 0:
        raise ValueError("agents and traffic must be >= 0")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic_erl * b / (n + traffic_erl * b)
    return b


def erlang_c(traffic_erl: float, agents: int) -> float:
    """Probability that a caller has to wait; 1.0 when the queue is unstable (agents <= load)."""
    if agents <= traffic_erl:
        return 1.0
    b = erlang_b(traffic_erl, agents)
    return agents * b / (agents - traffic_erl * (1 - b))


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    traffic_erl: float
    agents: int
    probability_wait: float
    service_level: float  # share answered within the target
    asa_s: float  # average speed of answer over all callers
    occupancy: float


def predict(
    calls_per_hour: float, aht_s: float, agents: int, target_s: float = 15.0
) -> ErlangCResult:
    traffic = calls_per_hour * aht_s / 3600.0
    pw = erlang_c(traffic, agents)
    if agents <= traffic:
        return ErlangCResult(traffic, agents, 1.0, 0.0, math.inf, 1.0)
    spare = agents - traffic
    service_level = 1.0 - pw * math.exp(-spare * target_s / aht_s)
    asa = pw * aht_s / spare
    return ErlangCResult(traffic, agents, pw, service_level, asa, traffic / agents)
