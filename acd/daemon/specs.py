"""Validated settings mapped onto the ACD engine's own frozen specs (one place, used by the
daemon, ``hotline simulate`` and the demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.engine.model import (
    AgentSpec,
    OfferCallback,
    OverflowStep,
    OverflowToQueue,
    Policy,
    QueueSpec,
    RelaxRule,
    ServiceLevelTarget,
    SkillRequirement,
    WidenSkills,
)
from acd.kpi import KpiSettings

if TYPE_CHECKING:
    from acd.settings.schema_routing import OverflowStep as OverflowSettings
    from acd.settings.schema_service import TargetsFile
    from acd.settings.settings import Settings

# settings.yaml policy names -> engine policies
POLICIES = {
    "longest_idle": Policy.LONGEST_IDLE,
    "fewest_calls": Policy.FEWEST_CALLS_TODAY,
    "round_robin": Policy.ROUND_ROBIN,
    "skill_level": Policy.HIGHEST_SKILL_LEVEL,
}


def engine_specs(settings: Settings) -> tuple[tuple[QueueSpec, ...], tuple[AgentSpec, ...]]:
    """Map validated settings onto the engine's own frozen specs."""
    queues = tuple(
        QueueSpec(
            name=q.name,
            skill=q.skill,
            min_level=q.min_level,
            priority=q.priority,
            wrap_up_s=q.wrapup_s,
            relax=tuple(RelaxRule(r.after_s, r.min_level) for r in q.relax),
            policy=POLICIES[q.policy],
            ring_timeout_rings=q.ring_timeout_rings,
            ring_cadence_s=q.ring_cadence_s,
            auto_pause_misses=q.auto_pause_after_missed,
            overflow=tuple(_overflow(step) for step in q.overflow),
            service_level=ServiceLevelTarget(
                q.service_level.answer_within_s, q.service_level.target
            ),
        )
        for q in settings.queues
    )
    agents = tuple(AgentSpec(a.id, a.endpoint, dict(a.skills)) for a in settings.agents)
    return queues, agents


def _overflow(step: OverflowSettings) -> OverflowStep:
    if step.action == "widen_skills":
        return WidenSkills(step.after_s, tuple(SkillRequirement(s) for s in step.skills))
    if step.action == "overflow_queue" and step.queue is not None:
        return OverflowToQueue(step.after_s, step.queue)
    return OfferCallback(step.after_s)


def kpi_settings(targets: TargetsFile) -> KpiSettings:
    """The KPI thresholds from targets.yaml (ring limits come per queue, see ``Outputs``)."""
    return KpiSettings(
        service_level_s=targets.service_level_s, short_abandon_s=targets.short_abandon_s
    )
