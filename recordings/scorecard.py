"""Scoring a call against a scorecard form. Pure.

Score = weight of the items passed / weight of the items that applied, as 0..100. An item
answered "n/a" is left out of both. Failing any instant-fail item scores the whole call 0
(e.g. asking for a full card number: the rest of the call cannot make up for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from acd.settings.schema_recording import Scorecard

PASS_WORDS = frozenset({"yes", "y", "1", "true", "pass", "ok"})
FAIL_WORDS = frozenset({"no", "n", "0", "false", "fail"})
NA_WORDS = frozenset({"na", "n/a", "-"})

Answer = bool | None  # None = not applicable


class ScoreError(ValueError):
    """Answers that do not fit the form (unknown items, missing items, unreadable values)."""


@dataclass(frozen=True)
class ScoreResult:
    score: float  # 0..100, rounded to 0.1
    instant_fail: bool
    failed_items: tuple[str, ...]
    answers: dict[str, Answer]


def parse_answers(text: str) -> dict[str, Answer]:
    """``greeting=yes,empathy=no,closing=na`` -> {"greeting": True, ...}."""
    answers: dict[str, Answer] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        key, value = key.strip(), raw.strip().lower()
        if not sep or not key:
            raise ScoreError(f"expected item=value, got {part!r}")
        if key in answers:
            raise ScoreError(f"item {key!r} answered twice")
        if value in PASS_WORDS:
            answers[key] = True
        elif value in FAIL_WORDS:
            answers[key] = False
        elif value in NA_WORDS:
            answers[key] = None
        else:
            raise ScoreError(f"item {key!r}: expected yes/no/na, got {raw.strip()!r}")
    return answers


def compute_score(card: Scorecard, answers: Mapping[str, Answer]) -> ScoreResult:
    items = {item.id: item for item in card.items}
    unknown = sorted(answers.keys() - items.keys())
    missing = sorted(items.keys() - answers.keys())
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown items {unknown}")
        if missing:
            parts.append(f"unanswered items {missing}")
        raise ScoreError(f"form {card.id} v{card.version}: " + "; ".join(parts))
    failed = tuple(item.id for item in card.items if answers[item.id] is False)
    instant_fail = any(items[i].instant_fail for i in failed)
    applicable = sum(item.weight for item in card.items if answers[item.id] is not None)
    passed = sum(item.weight for item in card.items if answers[item.id] is True)
    score = 0.0 if instant_fail or applicable == 0 else round(100.0 * passed / applicable, 1)
    return ScoreResult(score, instant_fail, failed, {i.id: answers[i.id] for i in card.items})
