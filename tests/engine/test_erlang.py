"""Erlang C against an independent direct formula, a hand-worked case and published values."""

from __future__ import annotations

import math

import pytest

from acd.engine.erlang import erlang_b, erlang_c, predict


def direct_erlang_c(a: float, n: int) -> float:
    """Textbook formula with factorials, kept separate from the recursion under test."""
    top = a**n / math.factorial(n) * n / (n - a)
    bottom = sum(a**k / math.factorial(k) for k in range(n)) + top
    return top / bottom


@pytest.mark.parametrize(
    ("a", "n"), [(10.0, 11), (10.0, 12), (10.0, 14), (10.0, 20), (2.5, 3), (50.0, 55)]
)
def test_matches_direct_formula(a: float, n: int) -> None:
    assert erlang_c(a, n) == pytest.approx(direct_erlang_c(a, n), rel=1e-9)


def test_hand_worked_small_case() -> None:
    # 1 Erlang on 2 agents: P0 terms 1 + 1, queue term (1/2!)(2/(2-1)) = 1, so C = 1/3.
    assert erlang_c(1.0, 2) == pytest.approx(1 / 3)
    # Erlang B for 1 Erlang on 1 server is 1/2.
    assert erlang_b(1.0, 1) == pytest.approx(0.5)


def test_published_probability_of_waiting() -> None:
    # Widely tabulated: 10 Erlang offered to 12 agents waits with probability ~0.4494.
    assert erlang_c(10.0, 12) == pytest.approx(0.4494, abs=5e-4)


def test_unstable_queue_always_waits() -> None:
    assert erlang_c(10.0, 10) == 1.0
    result = predict(1000.0, 180.0, 50)
    assert result.service_level == 0.0
    assert math.isinf(result.asa_s)


def test_service_level_and_asa() -> None:
    # 200 calls/h x 180 s = 10 Erlang on 12 agents.
    result = predict(200.0, 180.0, 12, target_s=15.0)
    pw = direct_erlang_c(10.0, 12)
    assert result.traffic_erl == pytest.approx(10.0)
    assert result.service_level == pytest.approx(1 - pw * math.exp(-2 * 15 / 180))
    assert result.asa_s == pytest.approx(pw * 180 / 2)
    assert result.occupancy == pytest.approx(10 / 12)
