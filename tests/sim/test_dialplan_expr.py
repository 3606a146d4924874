"""``${...}`` substitution and ``$[...]`` expressions as main/pbx_variables.c and ast_expr2 do."""

from __future__ import annotations

import pytest

from acd.sim.dialplan_expr import ExprError, evaluate, split_args, substitute
from acd.sim.dialplan_funcs import check_condition, split_condition


class Vars:
    """A resolver over a dict, with IF and a LEN-less function table (like the real one)."""

    def __init__(self, **values: str) -> None:
        self.values = values

    def variable(self, name: str) -> str | None:
        return self.values.get(name)

    def function(self, name: str, args: str) -> str:
        if name == "IF":
            cond, yes, no = split_condition(args)
            return yes if check_condition(cond) else no
        raise ExprError(f"function {name}() is not supported")


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ('"FAILURE"="HANGUP"', "0"),  # quotes are part of the token, compared as strings
        ('"HANGUP"="HANGUP"', "1"),
        ('""!="1"', "1"),
        ('"1"!="1"', "0"),
        ("1003 > 1010", "0"),  # both numbers: numeric comparison
        ("1011 > 1010", "1"),
        ("abc < abd", "1"),
        ("2 + 3 - 1", "4"),
        ("7 / 2", "3.5"),
        ("8 / 2", "4"),
        ("7 % 4", "3"),
        ("2 * (3 + 4)", "14"),
        ("- 5 + 2", "-3"),
        ("! 0", "1"),
        ("0 | fallback", "fallback"),
        ("yes | fallback", "yes"),
        ("1 & 2", "1"),
        ("0 & 2", "0"),
        ("1 = 1 & 2 > 1", "1"),  # & binds looser than comparisons
        ("1 == 1", "1"),
        ("", ""),
    ],
)
def test_expressions(expr: str, value: str) -> None:
    assert evaluate(expr) == value


def test_quoted_empty_string_is_not_empty() -> None:
    # ast_expr2 keeps the quotes: '""' is a two-character string, not null
    assert evaluate('"" | fallback') == '""'


@pytest.mark.parametrize("expr", ["abc + 1", "1 / 0", "a =~ b", "1 ? 2 :: 3", "LEN(abc)", "(1"])
def test_expressions_the_simulator_refuses(expr: str) -> None:
    with pytest.raises(ExprError):
        evaluate(expr)


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ('$["${AGISTATUS}"="HANGUP"]?done', "0?done"),
        ('$["${HOTLINE_DONE}"!="1"]?hotline-fallback,s,1', "1?hotline-fallback,s,1"),
        ('${IF($["${HOTLINE_QUEUE}"=""]?enquiries:${HOTLINE_QUEUE})}', "enquiries"),
        ("action=pause&reason=${EXTEN:3}", "action=pause&reason=2"),
        ("${EXTEN:-2}|${EXTEN:1:2}|${EXTEN:0:-1}", "32|13|*13"),
        ("${UNSET}x", "x"),
        ("cost $5 ${AGISTATUS}", "cost $5 FAILURE"),
        ("${IF($[${EXTEN:3} > 1]?big:small)}", "big"),
    ],
)
def test_substitution(text: str, result: str) -> None:
    assert substitute(text, Vars(AGISTATUS="FAILURE", EXTEN="*132")) == result


def test_unknown_functions_and_unclosed_braces_are_refused() -> None:
    with pytest.raises(ExprError, match="LEN"):
        substitute("${LEN(abc)}", Vars())
    with pytest.raises(ExprError, match="missing"):
        substitute("${AGISTATUS", Vars())


def test_application_arguments_split_like_ast_app_separate_args() -> None:
    assert split_args("orders,t,,,300") == ["orders", "t", "", "", "300"]
    assert split_args('a,"b,c",d') == ["a", "b,c", "d"]
    assert split_args("IF(x,y),z") == ["IF(x,y)", "z"]
    assert split_args(r"a\,b,c") == ["a,b", "c"]


def test_conditions_as_pbx_checkcondition() -> None:
    assert [check_condition(c) for c in ("", "0", "1", "00", "abc", " 2 ", "-1")] == [
        False,
        False,
        True,
        False,
        True,
        True,
        True,
    ]
    assert split_condition("1?App(a:b):Other(c)") == ("1", "App(a:b)", "Other(c)")
