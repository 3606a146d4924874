"""Post-call survey: after the agent hangs up, the caller rates the call 1-5 and says whether the
problem was solved (1 yes, 2 no).

Pure parts: ``should_survey`` (opt-in or a random sample; the draw is a parameter),
``parse_rating`` / ``parse_solved`` and ``SurveyQuestion`` (one retry after an invalid answer or
silence). ``run_survey`` asks over the caller's FastAGI session; a hang-up before both answers
gives None. A valid rating with no valid answer to the second question counts (``solved`` None).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal

from acd.asterisk.aio.agi_session import AgiSession, ChannelHungUp
from ivr.agi_io import collect, play
from ivr.prompts import sound

ANSWER_TIMEOUT_S = 6.0
MAX_TRIES = 2  # invalid input is retried once


@dataclass(frozen=True, slots=True)
class SurveyResult:
    rating: int  # 1 (poor) .. 5 (excellent)
    solved: bool | None  # None: no valid answer to the second question


def should_survey(*, opted_in: bool, sample_rate: float, draw: float) -> bool:
    """Opted-in callers always; others when ``draw`` (uniform in [0, 1)) falls under the rate."""
    return opted_in or draw < sample_rate


def parse_rating(digits: str) -> int | None:
    return int(digits) if len(digits) == 1 and digits in "12345" else None


def parse_solved(digits: str) -> bool | None:
    return {"1": True, "2": False}.get(digits)


Step = Literal["answered", "retry", "give_up"]


class SurveyQuestion:
    """One question's attempts: a valid answer ends it, otherwise one retry, then give up."""

    def __init__(self, max_tries: int = MAX_TRIES) -> None:
        self.max_tries = max_tries
        self.tries = 0

    def answered(self, valid: bool) -> Step:
        self.tries += 1
        if valid:
            return "answered"
        return "retry" if self.tries < self.max_tries else "give_up"


async def _ask(
    session: AgiSession, language: str, question: str, valid: frozenset[str]
) -> str | None:
    state = SurveyQuestion()
    prompts: tuple[str, ...] = (sound(language, question),)
    while True:
        keys = await collect(session, prompts, timeout_s=ANSWER_TIMEOUT_S, max_digits=1)
        step = state.answered(keys.digits in valid)
        if step == "answered":
            return keys.digits
        if step == "give_up":
            return None
        prompts = (sound(language, "survey-invalid"), sound(language, question))


async def run_survey(session: AgiSession, *, language: str) -> SurveyResult | None:
    """Ask both questions; None when the caller hangs up or gives no valid rating."""
    try:
        rating_keys = await _ask(session, language, "survey-rating", frozenset("12345"))
        rating = parse_rating(rating_keys or "")
        if rating is None:
            return None
        solved_keys = await _ask(session, language, "survey-solved", frozenset("12"))
    except ChannelHungUp:
        return None
    result = SurveyResult(rating, parse_solved(solved_keys or ""))
    with contextlib.suppress(ChannelHungUp):  # both answers are in: hanging up now is fine
        await play(session, (sound(language, "survey-thanks"),))
    return result
