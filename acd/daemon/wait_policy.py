"""What a waiting caller hears and which overflow rung they take, decided from plain numbers.

Pure: no sockets, no asyncio, no clock; the waiting loop (``acd.daemon.waiting``) passes ``now``
(steady-clock seconds: a wall-clock jump must not fire an announcement or a rung early) and the
floor's answers (callers ahead, estimated wait) in. The estimate itself and the ladder
rules live in ``acd.engine.estimate``; this module adds the per-call timing around them.
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from acd.engine.estimate import next_overflow_step, will_miss_target
from acd.engine.model import OverflowStep, QueueSpec

ANNOUNCE_FIRST_S = 10.0  # a caller answered within the 15 s target hears no announcement
ANNOUNCE_EVERY_S = 30.0


@dataclass(frozen=True, slots=True)
class Announcements:
    """A queue's position / estimated-wait announcements (``queues.yaml`` ``announcements``)."""

    first_after_s: float = ANNOUNCE_FIRST_S
    every_s: float = ANNOUNCE_EVERY_S  # 0: only the first one
    position: bool = True  # "you are caller number N"
    wait_time: bool = True  # "the estimated hold time is N minutes"

    @property
    def enabled(self) -> bool:
        return self.position or self.wait_time


@dataclass(frozen=True, slots=True)
class Announcement:
    position: int | None  # 1 = next in line; None: not said
    minutes: int | None  # None: not said, or nobody who can take the call is logged in


def announcement(
    callers_ahead: int, estimate_s: float | None, rules: Announcements = Announcements()
) -> Announcement:
    """Position counted from 1; the estimate rounded up to whole minutes, at least one (a
    caller told "zero minutes" who then waits 40 s feels misled)."""
    minutes = None if estimate_s is None else max(1, math.ceil(estimate_s / 60.0))
    return Announcement(
        callers_ahead + 1 if rules.position else None, minutes if rules.wait_time else None
    )


@dataclass(slots=True)
class WaitState:
    """One waiting caller's announcement schedule and the overflow rungs already taken."""

    queued_at: float
    rules: Announcements = Announcements()
    rungs_taken: int = 0
    next_announce_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.next_announce_at = self.queued_at + self.rules.first_after_s

    def announce_due(self, now: float) -> bool:
        return self.rules.enabled and now >= self.next_announce_at

    def announced(self, now: float) -> None:
        every = self.rules.every_s
        self.next_announce_at = now + every if every > 0 else math.inf

    def rung_may_be_due(self, queue: QueueSpec, now: float) -> bool:
        """Cheap check before asking the floor for an estimate: the next rung's time has come."""
        if self.rungs_taken >= len(queue.overflow):
            return False
        return now - self.queued_at >= queue.overflow[self.rungs_taken].after_s


def music_wait_ms(
    state: WaitState, queue: QueueSpec, now: float, cap_ms: int, retry_ms: int
) -> int:
    """How long the music's one ``WAIT FOR DIGIT`` may last: until the next announcement or
    overflow rung is due, at most ``cap_ms``. One due but not taken (no status yet, the rung's
    condition unmet) is looked at again after ``retry_ms``."""
    due = state.next_announce_at if state.rules.enabled else math.inf
    if state.rungs_taken < len(queue.overflow):
        due = min(due, state.queued_at + queue.overflow[state.rungs_taken].after_s)
    until_ms = min((due - now) * 1000, cap_ms)  # inf: nothing is ever due
    ms = math.ceil(until_ms) if until_ms > 0 else retry_ms
    return max(1, min(ms, cap_ms))


def choose_rung(
    queue: QueueSpec, waited_s: float, estimate_s: float | None, rungs_taken: int
) -> OverflowStep | None:
    """The rung to take now: only when the caller is predicted to miss the queue's target."""
    miss = will_miss_target(waited_s, estimate_s, queue.service_level.answer_within_s)
    return next_overflow_step(queue, waited_s, miss, rungs_taken)


def calling_hours(
    now: float, timezone: str, hours: tuple[int, int], days: int = 3
) -> list[tuple[float, float]]:
    """Polite calling hours (local ``[start_hour, end_hour)``) of today and the next days, as
    epoch intervals for ``acd.engine.estimate.plan_callback``."""
    tz = zoneinfo.ZoneInfo(timezone)
    today = datetime.fromtimestamp(now, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    spans: list[tuple[float, float]] = []
    for day in range(days):
        midnight = (today + timedelta(days=day)).replace(tzinfo=None)
        start = midnight.replace(hour=hours[0]).replace(tzinfo=tz)
        end = (midnight + timedelta(hours=hours[1])).replace(tzinfo=tz)
        spans.append((start.timestamp(), end.timestamp()))
    return spans
