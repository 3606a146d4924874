"""Post-call survey: the pure decisions, and whole surveys over a scripted Asterisk."""

from __future__ import annotations

import pytest

from acd.asterisk.aio.agi_session import AgiSession
from ivr.survey import (
    SurveyQuestion,
    SurveyResult,
    parse_rating,
    parse_solved,
    run_survey,
    should_survey,
)
from tests.ivr.scripted_call import HANGUP_MID_PROMPT, TIMEOUT, keys, played, run_call

ESC = '"0123456789*#"'
RATING = "GET DATA hotline/zh/survey-rating 6000 1"
SOLVED = "GET DATA hotline/zh/survey-solved 6000 1"
INVALID = f"STREAM FILE hotline/zh/survey-invalid {ESC}"
THANKS = 'STREAM FILE hotline/zh/survey-thanks ""'


@pytest.mark.parametrize(
    ("opted_in", "rate", "draw", "expected"),
    [
        (True, 0.0, 0.99, True),
        (False, 0.0, 0.0, False),
        (False, 0.25, 0.2499, True),
        (False, 0.25, 0.25, False),
        (False, 1.0, 0.999, True),
    ],
)
def test_should_survey(opted_in: bool, rate: float, draw: float, expected: bool) -> None:
    assert should_survey(opted_in=opted_in, sample_rate=rate, draw=draw) is expected


@pytest.mark.parametrize(
    ("digits", "rating"),
    [("1", 1), ("5", 5), ("0", None), ("6", None), ("", None), ("45", None), ("*", None)],
)
def test_parse_rating(digits: str, rating: int | None) -> None:
    assert parse_rating(digits) == rating


@pytest.mark.parametrize(("digits", "solved"), [("1", True), ("2", False), ("3", None), ("", None)])
def test_parse_solved(digits: str, solved: bool | None) -> None:
    assert parse_solved(digits) is solved


@pytest.mark.parametrize(
    ("answers", "steps"),
    [
        ([True], ["answered"]),
        ([False, True], ["retry", "answered"]),
        ([False, False], ["retry", "give_up"]),
    ],
)
def test_one_retry_per_question(answers: list[bool], steps: list[str]) -> None:
    question = SurveyQuestion()
    assert [question.answered(valid) for valid in answers] == steps


async def survey(script: list[tuple[str, bytes]]) -> SurveyResult | None:
    async def handler(session: AgiSession) -> SurveyResult | None:
        return await run_survey(session, language="zh")

    run = await run_call(handler, script)
    assert run.result is None or isinstance(run.result, SurveyResult)
    return run.result


@pytest.mark.asyncio
async def test_rating_and_solved() -> None:
    result = await survey([(RATING, keys("4")), (SOLVED, keys("1")), (THANKS, played())])
    assert result == SurveyResult(4, True)


@pytest.mark.asyncio
async def test_invalid_input_is_retried_once() -> None:
    result = await survey([
        (RATING, keys("9")),
        (INVALID, played()), (RATING, keys("2")),
        (SOLVED, TIMEOUT),
        (INVALID, played()), (SOLVED, keys("2")),
        (THANKS, played()),
    ])  # fmt: skip
    assert result == SurveyResult(2, False)


@pytest.mark.asyncio
async def test_no_valid_answer_to_solved_keeps_the_rating() -> None:
    result = await survey([
        (RATING, keys("5")),
        (SOLVED, keys("7")), (INVALID, played()), (SOLVED, TIMEOUT),
        (THANKS, played()),
    ])  # fmt: skip
    assert result == SurveyResult(5, None)


@pytest.mark.asyncio
async def test_no_valid_rating_gives_none() -> None:
    result = await survey([(RATING, TIMEOUT), (INVALID, played()), (RATING, keys("0"))])
    assert result is None


@pytest.mark.asyncio
async def test_hang_up_gives_none() -> None:
    result = await survey([(RATING, keys("3")), (SOLVED, b"200 result=-1\nHANGUP\n")])
    assert result is None


@pytest.mark.asyncio
async def test_hang_up_during_the_thanks_keeps_the_answers() -> None:
    result = await survey([(RATING, keys("3")), (SOLVED, keys("1")), (THANKS, HANGUP_MID_PROMPT)])
    assert result == SurveyResult(3, True)
