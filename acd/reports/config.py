"""What a report takes from the settings: KPI parameters, targets, time zone, queue membership."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from acd.kpi import KpiSettings
from acd.settings.settings import Settings


@dataclass(frozen=True, slots=True)
class ReportConfig:
    kpi: KpiSettings
    targets: dict[str, float]  # report key -> target (fractions, seconds)
    ring_limits: dict[str, float]  # queue -> its "3 rings" in seconds
    tz: ZoneInfo
    agent_queues: dict[str, tuple[str, ...]]  # agent id -> queues whose skill the agent has


def report_config(settings: Settings) -> ReportConfig:
    targets = settings.targets
    rings = targets.answered_within_rings.rings
    kpi = KpiSettings(
        service_level_s=targets.service_level_s,
        short_abandon_s=targets.short_abandon_s,
        max_rings=rings,
    )
    agent_queues = {
        agent.id: tuple(
            queue.name
            for queue in settings.queues
            if agent.skills.get(queue.skill, 0) >= queue.min_level
        )
        for agent in settings.agents
    }
    return ReportConfig(
        kpi=kpi,
        targets={
            "service_level_15s": targets.service_level,
            "answered_within_3_rings": targets.answered_within_rings.target,
            "answer_rate": targets.answer_rate,
            "aht_s": targets.aht_s,
            "csat": targets.csat,
            "fcr": targets.fcr,
        },
        ring_limits={queue.name: rings * queue.ring_cadence_s for queue in settings.queues},
        tz=ZoneInfo(settings.timezone),
        agent_queues=agent_queues,
    )
