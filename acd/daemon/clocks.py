"""The daemon's two clocks: wall-clock time for what is stored or shown, a steady clock for
deadlines and timers.

The wall clock (``time.time``) can jump: an NTP step, an operator fixing the date. A timer on it
would fire an hour early or an hour late. So the floor (wrap-up timers, relaxation, ring
forgiveness), the waiting caller's announcement schedule, call-back dial deadlines and recording
pause limits run on the steady clock (``time.monotonic``); only timestamps that are stored or
shown come from the wall clock, converted at the edge with ``to_wall`` / ``to_steady``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Clocks:
    wall: Callable[[], float] = field(default=time.time)
    steady: Callable[[], float] = field(default=time.monotonic)

    def to_wall(self, steady_at: float) -> float:
        """The wall-clock time of a steady-clock instant (as the wall clock reads now)."""
        return self.wall() - (self.steady() - steady_at)

    def to_steady(self, wall_at: float) -> float:
        """The steady-clock instant of a stored wall-clock time (e.g. a booking time)."""
        return self.steady() - (self.wall() - wall_at)
