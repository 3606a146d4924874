"""Ready-agent indexes: per (skill, level), agents kept sorted for each selection policy.

Sorted Python lists with bisect: inserting or removing one agent moves at most a few thousand
pointers (microseconds), and picking the best agent only looks at the front of a handful of lists,
so one routing decision never rescans the floor.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from acd.engine.model import Policy

_K = TypeVar("_K", tuple[float, str], tuple[int, str], str)


@dataclass(slots=True)
class _Bucket:
    by_idle: list[tuple[float, str]] = field(default_factory=list)
    by_calls: list[tuple[int, str]] = field(default_factory=list)
    by_id: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Indexed:
    skills: Mapping[str, int]
    ready_since: float
    calls_today: int


def _remove(items: list[_K], key: _K) -> None:
    i = bisect_left(items, key)
    if i < len(items) and items[i] == key:
        del items[i]


def _first(items: list[_K], skip: Callable[[_K], bool], start: int = 0) -> _K | None:
    for i in range(start, len(items)):
        if not skip(items[i]):
            return items[i]
    return None


class ReadyAgents:
    """Agents that are ready and reachable, indexed for routing."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], _Bucket] = {}
        self._levels: dict[str, list[int]] = {}  # skill -> levels seen, ascending
        self._ready: dict[str, _Indexed] = {}

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._ready

    def __len__(self) -> int:
        return len(self._ready)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ready)

    def add(
        self, agent_id: str, skills: Mapping[str, int], ready_since: float, calls_today: int
    ) -> None:
        if agent_id in self._ready:
            self.remove(agent_id)
        self._ready[agent_id] = _Indexed(skills, ready_since, calls_today)
        for skill, level in skills.items():
            bucket = self._buckets.get((skill, level))
            if bucket is None:
                bucket = self._buckets[(skill, level)] = _Bucket()
                insort(self._levels.setdefault(skill, []), level)
            insort(bucket.by_idle, (ready_since, agent_id))
            insort(bucket.by_calls, (calls_today, agent_id))
            insort(bucket.by_id, agent_id)

    def remove(self, agent_id: str) -> None:
        entry = self._ready.pop(agent_id, None)
        if entry is None:
            return
        for skill, level in entry.skills.items():
            bucket = self._buckets[(skill, level)]
            _remove(bucket.by_idle, (entry.ready_since, agent_id))
            _remove(bucket.by_calls, (entry.calls_today, agent_id))
            _remove(bucket.by_id, agent_id)

    def _levels_from(self, skill: str, min_level: int) -> Iterable[_Bucket]:
        levels = self._levels.get(skill, [])
        for level in levels[bisect_left(levels, min_level) :]:
            yield self._buckets[(skill, level)]

    def pick(
        self,
        skill: str,
        min_level: int,
        policy: Policy,
        *,
        exclude: Container[str] = (),
        last_assigned: str | None = None,
    ) -> str | None:
        """The agent the policy chooses among ready agents with ``skill`` >= ``min_level``.

        Ties are broken by agent id so the same state always gives the same answer.
        """
        if policy is Policy.HIGHEST_SKILL_LEVEL:
            # Best level first; within a level the longest idle agent, then agent id.
            for bucket in reversed(list(self._levels_from(skill, min_level))):
                head = _first(bucket.by_idle, lambda e: e[1] in exclude)
                if head is not None:
                    return head[1]
            return None
        if policy is Policy.ROUND_ROBIN:
            return self._pick_round_robin(skill, min_level, exclude, last_assigned)
        # Longest idle: earliest ready_since; fewest calls: lowest count. Then agent id.
        best: tuple[float, str] | None = None
        for bucket in self._levels_from(skill, min_level):
            found: tuple[float, str] | None
            if policy is Policy.LONGEST_IDLE:
                found = _first(bucket.by_idle, lambda e: e[1] in exclude)
            else:
                counted = _first(bucket.by_calls, lambda e: e[1] in exclude)
                found = None if counted is None else (float(counted[0]), counted[1])
            if found is not None and (best is None or found < best):
                best = found
        return None if best is None else best[1]

    def _pick_round_robin(
        self, skill: str, min_level: int, exclude: Container[str], last: str | None
    ) -> str | None:
        # The next agent id after the queue's last assigned one, wrapping around to the lowest.
        after: str | None = None
        lowest: str | None = None
        for bucket in self._levels_from(skill, min_level):
            start = 0 if last is None else bisect_right(bucket.by_id, last)
            found = _first(bucket.by_id, lambda a: a in exclude, start)
            if found is not None and (after is None or found < after):
                after = found
            first = _first(bucket.by_id, lambda a: a in exclude)
            if first is not None and (lowest is None or first < lowest):
                lowest = first
        return after if after is not None else lowest

    def level_of(self, agent_id: str, skill: str) -> int | None:
        entry = self._ready.get(agent_id)
        return None if entry is None else entry.skills.get(skill)

    def count_eligible(self, skill: str, min_level: int) -> int:
        return sum(len(b.by_id) for b in self._levels_from(skill, min_level))
