"""The engine's own inputs: frozen specs for queues and agents, and the waiting call.

The engine does not read settings; the daemon maps ``acd.settings`` onto these so the pure core
stays independent of the YAML schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from acd.asterisk.devices import device_of

# Priority raised for special callers; queues' own priorities are small integers.
VIP_PRIORITY_BOOST = 10
COMPLAINT_PRIORITY_BOOST = 5


class Policy(StrEnum):
    """How a queue chooses among eligible ready agents."""

    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS_TODAY = "fewest_calls_today"
    ROUND_ROBIN = "round_robin"
    HIGHEST_SKILL_LEVEL = "highest_skill_level"


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    skill: str
    min_level: int = 1


@dataclass(frozen=True, slots=True)
class RelaxRule:
    """After ``after_s`` seconds of waiting, accept agents with ``min_level`` or more."""

    after_s: float
    min_level: int


@dataclass(frozen=True, slots=True)
class WidenSkills:
    after_s: float
    skills: tuple[SkillRequirement, ...]


@dataclass(frozen=True, slots=True)
class OverflowToQueue:
    after_s: float
    queue: str


@dataclass(frozen=True, slots=True)
class OfferCallback:
    after_s: float


@dataclass(frozen=True, slots=True)
class Voicemail:
    after_s: float


OverflowStep = WidenSkills | OverflowToQueue | OfferCallback | Voicemail


@dataclass(frozen=True, slots=True)
class ServiceLevelTarget:
    answer_within_s: float = 15.0
    fraction: float = 0.9


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    skill: str
    min_level: int = 1
    priority: int = 0
    wrap_up_s: float = 0.0
    relax: tuple[RelaxRule, ...] = ()
    policy: Policy = Policy.LONGEST_IDLE
    ring_timeout_rings: int = 3
    ring_cadence_s: float = 6.0
    auto_pause_misses: int = 3
    overflow: tuple[OverflowStep, ...] = ()
    service_level: ServiceLevelTarget = field(default_factory=ServiceLevelTarget)

    @property
    def ring_timeout_s(self) -> float:
        return self.ring_timeout_rings * self.ring_cadence_s

    def required_level(self, base_level: int, waited_s: float) -> int:
        """The level a caller needs after waiting ``waited_s``; relaxing never raises it."""
        level = base_level
        for rule in self.relax:
            if waited_s >= rule.after_s and rule.min_level < level:
                level = rule.min_level
        return level

    def next_relax_after(self, base_level: int, waited_s: float) -> float | None:
        """Waiting time at which the requirement next drops, or None if it never will."""
        current = self.required_level(base_level, waited_s)
        later = [r.after_s for r in self.relax if r.after_s > waited_s and r.min_level < current]
        return min(later) if later else None


@dataclass(frozen=True, slots=True)
class AgentSpec:
    id: str
    endpoint: str
    skills: Mapping[str, int] = field(default_factory=dict)

    @property
    def device(self) -> str:
        return device_of(self.endpoint)


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A caller to be routed. ``skill``/``min_level`` default to the queue's requirement."""

    call_id: str
    queue: str
    arrived_at: float
    priority: int = 0
    skill: str | None = None
    min_level: int | None = None
    preferred_agent: str | None = None  # the caller's last agent: offered first if idle
    designated_agent: str | None = None  # a supervisor reserved this caller for one agent


def caller_priority(queue: QueueSpec, *, vip: bool = False, complaint: bool = False) -> int:
    """Queue priority raised for VIPs and complaints; higher is served first across queues."""
    return (
        queue.priority
        + (VIP_PRIORITY_BOOST if vip else 0)
        + (COMPLAINT_PRIORITY_BOOST if complaint else 0)
    )
