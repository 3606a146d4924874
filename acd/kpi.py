"""KPI definitions: every contact-center number hotline shows is computed here, once.

Inputs are plain ``CallFacts`` (built from the call rows or from the live engine); time is data.
Definitions (the README repeats them):

- **offered**: calls that asked for a person, i.e. entered a queue.
- **answered**: offered calls an agent answered.
- **abandoned**: offered calls the caller left before an agent answered (hang-up while waiting
  or while an agent rang, or a queue timeout). A *short abandon* is one that happened less than
  ``short_abandon_s`` (default 5 s) after queue entry.
- **service level within T** (``service_level_15s``, T = 15 s): answered within T seconds of
  queue entry, divided by offered minus short abandons. (The variant that also counts short
  abandons in the denominator is ``service_level_with_short_abandons``.)
- **answered within 3 rings**: answered calls whose answering agent picked up within
  ``3 x ring cadence`` seconds of the ring starting, divided by answered.
- **answer rate**: answered / offered.
- **ASA** (average speed of answer): mean of (answered - queue entry) over answered calls.
- **AHT** (average handle time): mean of talk + hold + wrap-up over answered calls.
- **abandonment rate**: abandoned / offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CallFacts:
    queued_at: float | None  # None: never asked for a person (self-service, hang-up in IVR)
    answered_at: float | None = None
    ring_started_at: float | None = None  # ring start of the offer that was answered
    ended_at: float | None = None
    abandoned_at: float | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_up_s: float = 0.0


@dataclass(frozen=True, slots=True)
class KpiSettings:
    service_level_s: float = 15.0
    short_abandon_s: float = 5.0
    ring_cadence_s: float = 5.0
    max_rings: int = 3


@dataclass(frozen=True, slots=True)
class KpiSummary:
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    service_level_15s: float | None
    service_level_with_short_abandons: float | None
    answered_within_3_rings: float | None
    answer_rate: float | None
    abandonment_rate: float | None
    asa_s: float | None
    aht_s: float | None
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | int | None]:
        """The summary object printed by ``hotline demo --json`` (fractions 0-1, seconds)."""
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "service_level_15s": _round(self.service_level_15s),
            "service_level_with_short_abandons": _round(self.service_level_with_short_abandons),
            "answered_within_3_rings": _round(self.answered_within_3_rings),
            "answer_rate": _round(self.answer_rate),
            "abandonment_rate": _round(self.abandonment_rate),
            "asa_s": _round(self.asa_s),
            "aht_s": _round(self.aht_s),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(calls: Iterable[CallFacts], settings: KpiSettings = KpiSettings()) -> KpiSummary:
    offered = answered = abandoned = short = within_sl = within_rings = 0
    waits: list[float] = []
    handles: list[float] = []
    ring_limit = settings.ring_cadence_s * settings.max_rings
    for call in calls:
        if call.queued_at is None:
            continue
        offered += 1
        if call.answered_at is not None:
            answered += 1
            wait = call.answered_at - call.queued_at
            waits.append(wait)
            within_sl += wait <= settings.service_level_s
            started = call.ring_started_at
            ring_s = call.answered_at - started if started is not None else 0.0
            within_rings += ring_s <= ring_limit
            handles.append(call.talk_s + call.hold_s + call.wrap_up_s)
        elif call.abandoned_at is not None:
            abandoned += 1
            short += (call.abandoned_at - call.queued_at) < settings.short_abandon_s
    return KpiSummary(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        service_level_15s=_ratio(within_sl, offered - short),
        service_level_with_short_abandons=_ratio(within_sl, offered),
        answered_within_3_rings=_ratio(within_rings, answered),
        answer_rate=_ratio(answered, offered),
        abandonment_rate=_ratio(abandoned, offered),
        asa_s=_mean(waits),
        aht_s=_mean(handles),
    )
