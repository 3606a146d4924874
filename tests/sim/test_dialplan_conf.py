"""Reading extensions.conf: the shipped file, patterns and their order, and clear refusals."""

from __future__ import annotations

import pytest

from acd.sim.dialplan_conf import DialplanError, parse_dialplan
from acd.sim.dialplan_pattern import compile_pattern
from tests.sim.pbx_driver import SHIPPED_DIALPLAN


def test_the_shipped_dialplan_is_read_completely() -> None:
    plan = parse_dialplan(SHIPPED_DIALPLAN.read_text(), "dialplan/extensions.conf")
    assert list(plan.contexts) == [
        "hotline",
        "hotline-resume",
        "hotline-fallback",
        "hotline-callback",
        "hotline-predial",
        "hotline-answer",
        "hotline-agents",
    ]
    s = plan.find("hotline", "s")
    assert s is not None
    assert [s.steps[p].app for p in sorted(s.steps)] == [
        "NoOp", "Answer", "Set", "Set", "AGI", "Goto"
    ]  # fmt: skip
    resume = plan.find("hotline-resume", "s")
    assert resume is not None
    assert [resume.steps[p].app for p in sorted(resume.steps)] == [
        "NoOp", "GotoIf", "GotoIf", "GotoIf", "GotoIf", "Set", "ExecIf", "AGI", "Goto", "Hangup"
    ]  # fmt: skip
    assert resume.labels == {"done": 10}
    assert plan.priority_of("hotline-fallback", "enquiries", "1") == 1
    assert plan.priority_of("hotline-fallback", "nosuchqueue", "1") is None
    # a trunk delivering the dialled number takes the _X. pattern
    trunk = plan.find("hotline", "4008001234")
    assert trunk is not None
    assert trunk.name == "_X."


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("_X.", ["5550100", "12"], ["s", "1", "*11"]),
        ("_*13.", ["*132", "*1399"], ["*13", "*14"]),
        ("_agent[2-9]", [], ["agent2"]),  # the shared README gotcha: n is [2-9]
        ("_age[n]t[2-9]", ["agent2", "agent9"], ["agent1", "agenx2"]),
        ("_NXXZ!", ["2001", "20010", "9991"], ["1001", "2000"]),
        ("_1-800-X", ["18005"], ["1800", "28005"]),  # "-" is eye candy in a pattern
    ],
)
def test_patterns_match_like_asterisk(
    pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    compiled = compile_pattern(pattern)
    assert [e for e in matching if compiled.matches(e)] == matching
    assert [e for e in not_matching if compiled.matches(e)] == []


def test_literal_extensions_win_over_patterns_and_specific_patterns_over_wide_ones() -> None:
    text = """[ctx]
exten => _X.,1,NoOp(any number)
exten => _1XX,1,NoOp(three digits from 1)
exten => *13,1,NoOp(pause)
exten => _*13.,1,NoOp(pause with a reason)
exten => 123,1,NoOp(exactly 123)
"""
    plan = parse_dialplan(text)
    found = {e: plan.find("ctx", e) for e in ("123", "145", "99", "*13", "*132")}
    assert {e: x.name if x else None for e, x in found.items()} == {
        "123": "123",
        "145": "_1XX",
        "99": "_X.",
        "*13": "*13",
        "*132": "_*13.",
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[c]\nexten => s,1,Playback(hello)\n", 2, "Playback() is not supported"),
        ("[c]\ninclude => other\n", 2, "'include' lines are not supported"),
        ("#include other.conf\n", 1, "directive not supported"),
        ("[c]\nsame => n,NoOp()\n", 2, "'same =>' without an extension"),
        ("[c]\nexten => s,hint,PJSIP/1001\n", 2, "priority not supported"),
        ("[c](template)\n", 1, "context header not supported"),
        ("[c]\nexten => s,1,NoOp(x\n", 2, "must end with ')'"),
        ("[c]\nexten => s,1,NoOp()\nexten => s,1,NoOp()\n", 3, "priority 1 of s defined twice"),
        ("[c]\nexten => _X[1,1,NoOp()\n", 2, "unclosed ["),
    ],
)
def test_anything_unsupported_is_refused_naming_the_line(
    text: str, line: int, message: str
) -> None:
    with pytest.raises(DialplanError) as caught:
        parse_dialplan(text, "x.conf")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"x.conf:{line}: ")
    assert message in str(caught.value)


def test_comments_escaped_semicolons_and_priorities() -> None:
    text = r"""[general]
static = yes ; a comment
[globals]
COMPANY=ACME
[c]
exten => s,1,NoOp(a \; b) ; the escaped one is data
 same => n(next),NoOp(two)
 same => 5,NoOp(five)
 same => n,NoOp(six)
"""
    plan = parse_dialplan(text)
    s = plan.find("c", "s")
    assert s is not None
    assert {p: (st.data, st.label) for p, st in s.steps.items()} == {
        1: ("a ; b", None),
        2: ("two", "next"),
        5: ("five", None),
        6: ("six", None),
    }
    assert plan.globals == {"COMPANY": "ACME"}
