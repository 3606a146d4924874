"""Estimated wait, the service-level miss prediction, and the overflow ladder decision.

The estimate uses the live handle times of the agents who can actually take the caller, per queue,
not a floor-wide average: a queue staffed by slow specialists waits longer than the mean says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from acd.engine.model import OverflowStep, QueueSpec

DEFAULT_HANDLE_S = 180.0
EWMA_WEIGHT = 0.2  # weight of the newest call; ~the last 10 calls dominate


class HandleTimes:
    """Exponentially weighted mean handle time per (queue, agent)."""

    def __init__(self, default_s: float = DEFAULT_HANDLE_S, weight: float = EWMA_WEIGHT) -> None:
        self.default_s = default_s
        self.weight = weight
        self._mean: dict[tuple[str, str], float] = {}

    def record(self, queue: str, agent_id: str, handle_s: float) -> None:
        key = (queue, agent_id)
        old = self._mean.get(key)
        self._mean[key] = handle_s if old is None else old + self.weight * (handle_s - old)

    def of(self, queue: str, agent_id: str) -> float:
        return self._mean.get((queue, agent_id), self.default_s)

    def for_agents(self, queue: str, agent_ids: Iterable[str]) -> list[float]:
        return [self.of(queue, a) for a in agent_ids]


def estimated_wait(position: int, handle_times_s: Sequence[float]) -> float | None:
    """Seconds until a caller with ``position`` callers ahead is answered, or None if nobody can.

    Eligible agents complete calls at a combined rate sum(1/h); the caller needs position + 1
    completions. With memoryless handle times the wait for one completion is 1/rate on average.
    """
    return wait_at_rate(position, completion_rate(handle_times_s))


def completion_rate(handle_times_s: Iterable[float]) -> float:
    """Calls a second the agents complete together: sum(1/h)."""
    return sum(1.0 / h for h in handle_times_s if h > 0)


def wait_at_rate(position: int, rate: float) -> float | None:
    """``estimated_wait`` from the agents' combined completion rate."""
    if rate <= 0:
        return None
    return (position + 1) / rate


def will_miss_target(waited_s: float, estimate_s: float | None, target_s: float) -> bool:
    """True when the caller is predicted to be answered after the service-level target."""
    return estimate_s is None or waited_s + estimate_s > target_s


def next_overflow_step(
    queue: QueueSpec, waited_s: float, predicted_miss: bool, steps_taken: int
) -> OverflowStep | None:
    """The next rung of the queue's overflow ladder to take now, if any.

    Rungs are climbed in order, one per call, only while the caller is predicted to miss the
    target and has waited at least the rung's ``after_s``: a caller about to be answered stays.
    """
    if not predicted_miss or steps_taken >= len(queue.overflow):
        return None
    step = queue.overflow[steps_taken]
    return step if waited_s >= step.after_s else None


@dataclass(frozen=True, slots=True)
class CallbackPlan:
    at: float
    slot_start: float


def plan_callback(
    now: float,
    estimate_s: float | None,
    *,
    calling_hours: Sequence[tuple[float, float]],
    booked: Sequence[float],
    capacity_per_slot: int,
    slot_s: float = 900.0,
) -> CallbackPlan | None:
    """When to call back a caller who keeps their place, or None (offer voicemail instead).

    The call-back goes when the caller would have reached the head of the queue, moved into the
    polite calling hours (``[start, end)`` intervals on the same clock as ``now``), and into the
    first slot whose booked call-backs are below ``capacity_per_slot`` (what agents can absorb).
    """
    if estimate_s is None or capacity_per_slot <= 0:
        return None
    wanted = now + estimate_s
    for start, end in sorted(calling_hours):
        t = max(wanted, start)
        while t < end:
            slot_start = start + ((t - start) // slot_s) * slot_s
            used = sum(1 for b in booked if slot_start <= b < slot_start + slot_s)
            if used < capacity_per_slot:
                return CallbackPlan(at=t, slot_start=slot_start)
            t = slot_start + slot_s
    return None
