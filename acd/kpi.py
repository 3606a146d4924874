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
  abandons in the denominator is ``service_level_with_short_abandons``.) A call still waiting
  when the figures are taken (a live period, e.g. today on the wallboard) counts once it has
  waited T without an answer; before that it is in neither part of either ratio.
- **answered within 3 rings**: answered calls whose answering agent picked up within
  ``3 x ring cadence`` seconds of the ring starting, divided by answered.
- **answer rate**: answered / offered.
- **ASA** (average speed of answer): mean of (answered - queue entry) over answered calls.
- **AHT** (average handle time): mean of talk + hold + wrap-up over answered calls (a call
  still in conversation when the figures are taken is left out until it ends).
- **abandonment rate**: abandoned / offered.
- **CSAT**: rated calls whose post-call survey rating (1-5) is ``csat_min_rating`` (4) or more,
  divided by rated calls (calls with any rating). Unrated calls count in neither.
- **FCR** (first-contact resolution): answered calls marked resolved (``resolved`` true, or the
  disposition code ``resolved`` when no flag was recorded) with no further call from the same
  caller number within ``repeat_window_s`` (7 days) after arrival, divided by answered calls
  with a resolution recorded (flag or disposition code).
- **occupancy**: seconds in talk + hold + wrap-up (agent states ``on_call``, ``wrap_up``,
  ``pending_logout``) divided by logged-in, non-paused seconds (those plus ``ready`` and
  ``reserved``), from the agent state log.
- **handled** (per agent): answered calls; **handle time**: the sum of their talk + hold +
  wrap-up (AHT is its mean).
- **fallback-handled** (``fallback_handled``): offered calls the dialplan's plain ``Queue()``
  answered or lost while no daemon had them (imported from Asterisk's queue_log); they count in
  every figure above like the daemon's own calls.
- **transferred calls** (``POST /calls/{id}/transfer``) count once: answered, ASA and service
  level use the FIRST answer and the first queue entry; talk is the sum of the connected legs
  (it stops at the transfer and restarts at the next answer, the wait between is not talk).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
    ring_limit_s: float | None = None  # this queue's 3 rings in seconds; None: KpiSettings'
    # Optional facts for CSAT and FCR; the defaults leave the call out of both.
    survey_rating: int | None = None
    resolved: bool | None = None  # None: no resolution recorded
    repeat_call: bool = False  # the same number called again within the repeat window
    # Still in progress when the facts were taken (a report up to now): seconds since queue
    # entry. None: the call ended.
    open_s: float | None = None
    fallback: bool = False  # finished by the fallback Queue() (calls.handled_by)


@dataclass(frozen=True, slots=True)
class KpiSettings:
    service_level_s: float = 15.0
    short_abandon_s: float = 5.0
    ring_cadence_s: float = 5.0
    max_rings: int = 3
    csat_min_rating: int = 4
    repeat_window_s: float = 7 * 86400.0


# Agent states (acd.engine.agent.AgentState values) that count for occupancy.
BUSY_STATES = frozenset({"on_call", "wrap_up", "pending_logout"})
STAFFED_STATES = BUSY_STATES | {"ready", "reserved"}


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
    rated: int = 0
    csat: float | None = None
    fcr: float | None = None
    handle_time_s: float = 0.0  # sum over answered calls; aht_s is its mean
    fallback_handled: int = 0  # offered calls the fallback Queue() finished

    @property
    def handled(self) -> int:
        return self.answered

    def as_report_dict(self) -> dict[str, float | int | None]:
        """``as_dict`` plus the survey, resolution and handle-time figures of reports."""
        return {
            **self.as_dict(),
            "handled": self.handled,
            "handle_time_s": round(self.handle_time_s, 4),
            "rated": self.rated,
            "csat": _round(self.csat),
            "fcr": _round(self.fcr),
            "fallback_handled": self.fallback_handled,
        }

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
    offered = answered = abandoned = short = within_sl = within_rings = pending = fallback = 0
    rated = satisfied = with_resolution = first_contact = 0
    waits: list[float] = []
    handles: list[float] = []
    ring_limit = settings.ring_cadence_s * settings.max_rings
    for call in calls:
        if call.survey_rating is not None:
            rated += 1
            satisfied += call.survey_rating >= settings.csat_min_rating
        if call.queued_at is None:
            continue
        offered += 1
        fallback += call.fallback
        if call.answered_at is not None:
            answered += 1
            wait = call.answered_at - call.queued_at
            waits.append(wait)
            within_sl += wait <= settings.service_level_s
            started = call.ring_started_at
            ring_s = call.answered_at - started if started is not None else 0.0
            limit = ring_limit if call.ring_limit_s is None else call.ring_limit_s
            within_rings += ring_s <= limit
            if call.open_s is None:  # a conversation still going has no handle time yet
                handles.append(call.talk_s + call.hold_s + call.wrap_up_s)
            if call.resolved is not None:
                with_resolution += 1
                first_contact += call.resolved and not call.repeat_call
        elif call.abandoned_at is not None:
            abandoned += 1
            short += (call.abandoned_at - call.queued_at) < settings.short_abandon_s
        elif call.open_s is not None and call.open_s < settings.service_level_s:
            pending += 1  # still waiting and may yet be answered in time: not judged yet
    return KpiSummary(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        service_level_15s=_ratio(within_sl, offered - short - pending),
        service_level_with_short_abandons=_ratio(within_sl, offered - pending),
        answered_within_3_rings=_ratio(within_rings, answered),
        answer_rate=_ratio(answered, offered),
        abandonment_rate=_ratio(abandoned, offered),
        asa_s=_mean(waits),
        aht_s=_mean(handles),
        rated=rated,
        csat=_ratio(satisfied, rated),
        fcr=_ratio(first_contact, with_resolution),
        handle_time_s=sum(handles),
        fallback_handled=fallback,
    )


def repeat_calls(
    arrivals: Sequence[tuple[str | None, float]],
    later: Iterable[tuple[str, float]],
    window_s: float,
) -> list[bool]:
    """For each ``(caller number, arrival)``: did the same number call again within the window?

    ``later`` holds every known arrival per number (it may include ``arrivals`` themselves, and
    calls after the reporting period); a call with no number never counts as repeated.
    """
    by_number: dict[str, list[float]] = defaultdict(list)
    for known, when in later:
        by_number[known].append(when)
    for times in by_number.values():
        times.sort()
    result: list[bool] = []
    for number, at in arrivals:
        times = by_number.get(number, []) if number else []
        following = bisect_right(times, at)  # first arrival strictly after this one
        result.append(following < len(times) and times[following] <= at + window_s)
    return result


def occupancy(seconds_by_state: Mapping[str, float]) -> float | None:
    """Busy (talk + hold + wrap-up) seconds over logged-in, non-paused seconds."""
    staffed = sum(s for state, s in seconds_by_state.items() if state in STAFFED_STATES)
    busy = sum(s for state, s in seconds_by_state.items() if state in BUSY_STATES)
    return busy / staffed if staffed > 0 else None
