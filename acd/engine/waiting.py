"""Waiting callers, kept in lanes so that routing only ever looks at the front of a lane.

A lane is keyed (queue, skill, base level, priority, relaxing) and sorted by arrival. Everyone in
a lane shares the relax rules, so the oldest caller needs the lowest level: if the head cannot be
served, nobody behind it can, unless the head refused some agents (missed offers). Lanes also know
when their front next relaxes, so routing wakes up exactly then.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from acd.engine.model import QueueSpec, SkillRequirement, WaitingCall

LaneKey = tuple[str, str, int, int, bool]  # queue, skill, base level, priority, relaxing
Entry = tuple[float, int, str]  # arrival, sequence, call id


@dataclass(slots=True)
class Caller:
    """The engine's one record of a call, from arrival until it ends: waiting in lanes, then
    engaged with ``agent_id`` (ringing, talking from ``answered_at``)."""

    call: WaitingCall
    seq: int
    lanes: list[LaneKey] = field(default_factory=list)
    excluded: set[str] = field(default_factory=set)  # agents who missed this caller
    widened: list[SkillRequirement] = field(default_factory=list)
    agent_id: str | None = None
    answered_at: float | None = None

    @property
    def order(self) -> tuple[int, float, int]:
        """Across queues: higher priority first, then longest waiting."""
        return (-self.call.priority, self.call.arrived_at, self.seq)

    @property
    def entry(self) -> Entry:
        return (self.call.arrived_at, self.seq, self.call.call_id)


class WaitingCallers:
    def __init__(self, queues: Mapping[str, QueueSpec]) -> None:
        self.queues = queues
        self.by_id: dict[str, Caller] = {}
        self.lanes: dict[LaneKey, list[Entry]] = {}
        self.lanes_by_skill: dict[str, set[LaneKey]] = {}
        self.designated: dict[str, list[Entry]] = {}  # agent id -> callers kept for that agent
        self.clock = float("-inf")  # the latest ``now`` routing has seen
        self._due: list[tuple[float, LaneKey]] = []
        self._due_at: dict[LaneKey, float] = {}

    def requirements(self, caller: Caller) -> list[tuple[SkillRequirement, bool]]:
        """The caller's own requirement (relaxing) followed by overflow widenings (fixed)."""
        queue = self.queues[caller.call.queue]
        skill = caller.call.skill or queue.skill
        level = queue.min_level if caller.call.min_level is None else caller.call.min_level
        return [(SkillRequirement(skill, level), True)] + [(w, False) for w in caller.widened]

    def required_level(self, key: LaneKey, arrived_at: float, now: float) -> int:
        queue, _, level, _, relaxing = key
        return self.queues[queue].required_level(level, now - arrived_at) if relaxing else level

    def add(self, caller: Caller) -> None:
        call = caller.call
        self.by_id[call.call_id] = caller
        if call.designated_agent is not None:
            insort(self.designated.setdefault(call.designated_agent, []), caller.entry)
            return
        for req, relaxing in self.requirements(caller):
            key: LaneKey = (call.queue, req.skill, req.min_level, call.priority, relaxing)
            lane = self.lanes.get(key)
            if lane is None:
                lane = self.lanes[key] = []
                self.lanes_by_skill.setdefault(req.skill, set()).add(key)
            insort(lane, caller.entry)
            caller.lanes.append(key)
            self.schedule(key)

    def remove(self, call_id: str) -> Caller:
        caller = self.by_id.pop(call_id)
        entry = caller.entry
        lists = [self.lanes[k] for k in caller.lanes]
        if caller.call.designated_agent is not None:
            lists.append(self.designated.get(caller.call.designated_agent, []))
        for items in lists:
            i = bisect_left(items, entry)
            if i < len(items) and items[i] == entry:
                del items[i]
        for key in caller.lanes:
            self.schedule(key)
        caller.lanes.clear()
        return caller

    def front(self, key: LaneKey) -> Iterator[Caller]:
        """Callers routing must consider: the head, plus whoever follows a head with refusals."""
        for _, _, call_id in self.lanes[key]:
            caller = self.by_id[call_id]
            yield caller
            if not caller.excluded:
                return

    def schedule(self, key: LaneKey) -> None:
        """Remember when the lane's front next relaxes (one pending wake-up per lane)."""
        if not key[4] or not self.lanes[key]:
            return
        queue = self.queues[key[0]]
        due: float | None = None
        for caller in self.front(key):
            arrived = caller.call.arrived_at
            after = queue.next_relax_after(key[2], max(self.clock, arrived) - arrived)
            if after is not None and (due is None or arrived + after < due):
                due = arrived + after
        if due is not None and due < self._due_at.get(key, float("inf")):
            self._due_at[key] = due
            heapq.heappush(self._due, (due, key))

    def pop_due(self, now: float) -> Iterator[LaneKey]:
        while self._due and self._due[0][0] <= now:
            due, key = heapq.heappop(self._due)
            if self._due_at.get(key) == due:
                del self._due_at[key]
                yield key

    def next_due(self) -> float | None:
        while self._due and self._due_at.get(self._due[0][1]) != self._due[0][0]:
            heapq.heappop(self._due)  # superseded by an earlier wake-up for that lane
        return self._due[0][0] if self._due else None
