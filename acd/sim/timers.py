"""A deterministic timer heap: the core's only notion of time passing."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class Timer:
    deadline: float
    seq: int
    action: Callable[[float], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """Callbacks run with their own deadline as ``now`` so event times do not depend on lateness."""

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        #: time of the input or timer being processed (for code that has no ``now`` at hand)
        self.now = 0.0

    def touch(self, now: float) -> None:
        self.now = max(self.now, now)

    def at(self, deadline: float, action: Callable[[float], None]) -> Timer:
        timer = Timer(deadline, next(self._seq), action)
        heapq.heappush(self._heap, timer)
        return timer

    def next_deadline(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].deadline if self._heap else None

    def run_due(self, now: float) -> None:
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > now:
                self.now = max(self.now, now)
                return
            timer = heapq.heappop(self._heap)
            self.now = max(self.now, timer.deadline)
            timer.action(timer.deadline)

    def __len__(self) -> int:
        return sum(1 for t in self._heap if not t.cancelled)
