"""app_queue's bookkeeping: queues, members and their AMI header blocks.

Header sets/order from ami_events_full_call.txt (QueueMemberStatus) and ami_login_and_actions.txt
(QueueMemberAdded/Pause, QueueParams, QueueMember). Status numbers are device states
(0 UNKNOWN, 1 NOT_INUSE, 2 INUSE, 3 BUSY, 4 INVALID, 5 UNAVAILABLE, 6 RINGING).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.sim.plan import QueuePlan
from acd.sim.timers import Timer

if TYPE_CHECKING:
    from acd.sim.channels import Channel
    from acd.sim.dial_app import Leg

DEVICE_STATUS = {
    "UNKNOWN": 0,
    "NOT_INUSE": 1,
    "INUSE": 2,
    "BUSY": 3,
    "INVALID": 4,
    "UNAVAILABLE": 5,
    "RINGING": 6,
}


@dataclass(eq=False)
class Member:
    interface: str
    name: str
    state_interface: str
    penalty: int = 0
    dynamic: bool = False
    paused: bool = False
    paused_reason: str = ""
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    status: int = 1
    busy_until: float = 0.0  # wrap-up

    def headers(self, queue: str) -> list[tuple[str, str]]:
        """QueueMemberStatus / QueueMemberAdded / QueueMemberPause body."""
        return [
            ("Queue", queue),
            ("MemberName", self.name),
            ("Interface", self.interface),
            *self._state(),
            ("Ringinuse", "0"),
            ("Wrapuptime", "0"),
        ]

    def _state(self) -> list[tuple[str, str]]:
        """The member's state headers, common to both layouts and in the recorded order."""
        return [
            ("StateInterface", self.state_interface),
            ("Membership", "dynamic" if self.dynamic else "static"),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls_taken)),
            ("LastCall", str(self.last_call)),
            ("LastPause", str(self.last_pause)),
            ("LoginTime", str(self.login_time)),
            ("InCall", str(int(self.in_call))),
            ("Status", str(self.status)),
            ("Paused", str(int(self.paused))),
            ("PausedReason", self.paused_reason),
        ]

    def list_item(self, queue: str) -> list[tuple[str, str]]:
        """QueueStatus's QueueMember item (no Ringinuse; Name/Location)."""
        return [
            ("Queue", queue),
            ("Name", self.name),
            ("Location", self.interface),
            *self._state(),
            ("Wrapuptime", "0"),
        ]


@dataclass(eq=False)
class Entry:
    """One caller waiting in (or being connected from) a queue."""

    caller: Channel
    joined_at: float
    original_position: int
    legs: list[Leg] = field(default_factory=list)
    connected: bool = False
    linpos: int = 0
    timeout_timer: Timer | None = None
    #: the member ring timeout or the retry pause, whichever is pending
    ring_timer: Timer | None = None
    #: ends the Queue() application: 0 = the dialplan goes on, -1 = the caller hangs up
    done: Callable[[float, int], None] | None = None
    #: QUEUE_PRIO when the caller joined (higher goes first)
    priority: int = 0

    def cancel_timers(self) -> None:
        for timer in (self.timeout_timer, self.ring_timer):
            if timer is not None:
                timer.cancel()
        self.timeout_timer = self.ring_timer = None


@dataclass(eq=False)
class QueueState:
    plan: QueuePlan
    members: list[Member]
    entries: list[Entry] = field(default_factory=list)
    completed: int = 0
    abandoned: int = 0
    holdtime: float = 0.0
    talktime: float = 0.0
    rr_next: int = 0

    @property
    def name(self) -> str:
        return self.plan.name

    def member(self, interface: str) -> Member | None:
        return next((m for m in self.members if m.interface == interface), None)

    def position(self, entry: Entry) -> int:
        return self.entries.index(entry) + 1

    def insert(self, entry: Entry) -> None:
        """app_queue.c ``insert_entry`` via ``join_queue``: before the first caller of a lower
        priority, after everyone of the same or higher (RECORDED q6_queue.txt: QUEUE_PRIO=10
        joins at position 1 ahead of a priority-0 caller)."""
        index = next(
            (i for i, e in enumerate(self.entries) if e.priority < entry.priority),
            len(self.entries),
        )
        self.entries.insert(index, entry)

    def record_completed(self, hold: float, talk: float) -> None:
        # app_queue keeps exponential averages: (old * 3 + new) / 4 (update_queue()).
        self.completed += 1
        self.holdtime = (self.holdtime * 3 + hold) / 4
        self.talktime = (self.talktime * 3 + talk) / 4

    def params(self) -> list[tuple[str, str]]:
        return [
            ("Queue", self.name),
            ("Max", "0"),
            ("Strategy", self.plan.strategy),
            ("Calls", str(sum(1 for e in self.entries if not e.connected))),
            ("Holdtime", str(int(self.holdtime))),
            ("TalkTime", str(int(self.talktime))),
            ("Completed", str(self.completed)),
            ("Abandoned", str(self.abandoned)),
            ("ServiceLevel", "0"),
            ("ServicelevelPerf", "0.0"),
            ("ServicelevelPerf2", "0.0"),
            ("Weight", "0"),
        ]
