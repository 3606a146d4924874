"""The weekly QA sample: which recorded calls supervisors listen to. Pure and reproducible.

Rules first (calls that must always be reviewed), then one random call for every agent not yet
represented (each agent gets feedback every week), then random calls until the rate is met.
The population is sorted by call id before any draw and the only randomness is
``random.Random(seed)``, so the same seed and the same calls give the same sample, whatever
order the database returned them in; the seed is stored with the sample so it can be checked.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

NO_AGENT = "unassigned"
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class SampleCandidate:
    call_id: str
    agent_id: str | None
    queue: str | None
    duration_s: float | None
    transferred: bool
    hung_up_by: str | None


@dataclass(frozen=True)
class SamplingRules:
    """Mirror of ``recording.yaml: qa.always_review``."""

    queues: frozenset[str] = frozenset()
    shorter_than_s: float | None = None
    longer_than_s: float | None = None
    transferred: bool = False
    agent_hung_up_first: bool = False


@dataclass(frozen=True)
class QaSampleResult:
    population: int
    sampled: list[str]  # call ids, sorted
    reasons: dict[str, list[str]]  # call id -> why it is in the sample
    by_agent: dict[str, int]  # agent id -> sampled calls
    seed: int

    def as_json(self) -> dict[str, object]:
        """Exactly what ``hotline qa sample --json`` prints."""
        return {
            "population": self.population,
            "sampled": self.sampled,
            "by_agent": self.by_agent,
            "seed": self.seed,
        }


def parse_week(week: str) -> tuple[int, int]:
    match = _WEEK.match(week)
    try:
        if match is None:
            raise ValueError("bad format")
        year, number = int(match.group(1)), int(match.group(2))
        date.fromisocalendar(year, number, 1)  # refuses W53 of a 52-week year
    except ValueError:
        raise ValueError(f"expected an ISO week like 2026-W47, got {week!r}") from None
    return year, number


def week_bounds(week: str, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) of the ISO week in the contact center's time zone."""
    year, number = parse_week(week)
    monday = date.fromisocalendar(year, number, 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    return start, start + timedelta(days=7)


def default_seed(week: str) -> int:
    """Derived from the week string alone (not Python's salted hash()), so it is the same on
    every machine and every run."""
    return int.from_bytes(hashlib.sha256(week.encode()).digest()[:4], "big")


def rule_reasons(call: SampleCandidate, rules: SamplingRules) -> list[str]:
    reasons = []
    if call.queue is not None and call.queue in rules.queues:
        reasons.append(f"queue:{call.queue}")
    if call.duration_s is not None:
        if rules.shorter_than_s is not None and call.duration_s < rules.shorter_than_s:
            reasons.append("short_call")
        if rules.longer_than_s is not None and call.duration_s > rules.longer_than_s:
            reasons.append("long_call")
    if rules.transferred and call.transferred:
        reasons.append("transferred")
    if rules.agent_hung_up_first and call.hung_up_by == "agent":
        reasons.append("agent_hung_up_first")
    return reasons


def select_sample(
    population: Iterable[SampleCandidate], rate: float, seed: int, rules: SamplingRules
) -> QaSampleResult:
    if not 0.0 <= rate <= 1.0:
        raise ValueError("rate must be between 0 and 1")
    calls = sorted({c.call_id: c for c in population}.values(), key=lambda c: c.call_id)
    rng = random.Random(seed)
    reasons: dict[str, list[str]] = {}
    for call in calls:
        why = rule_reasons(call, rules)
        if why:
            reasons[call.call_id] = why

    by_agent_calls: dict[str, list[SampleCandidate]] = {}
    for call in calls:
        if call.agent_id is not None:
            by_agent_calls.setdefault(call.agent_id, []).append(call)
    for agent in sorted(by_agent_calls):
        own = by_agent_calls[agent]
        if not any(c.call_id in reasons for c in own):
            reasons[rng.choice(own).call_id] = ["agent_cover"]

    target = math.ceil(rate * len(calls) - 1e-9)  # 0.1 * 30 must give 3, not 4
    rest = [c.call_id for c in calls if c.call_id not in reasons]
    if len(reasons) < target:
        for call_id in rng.sample(rest, target - len(reasons)):
            reasons[call_id] = ["random"]

    sampled = sorted(reasons)
    agent_of = {c.call_id: c.agent_id or NO_AGENT for c in calls}
    by_agent: dict[str, int] = {}
    for call_id in sampled:
        by_agent[agent_of[call_id]] = by_agent.get(agent_of[call_id], 0) + 1
    return QaSampleResult(
        population=len(calls),
        sampled=sampled,
        reasons={k: reasons[k] for k in sampled},
        by_agent=dict(sorted(by_agent.items())),
        seed=seed,
    )
