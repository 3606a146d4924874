"""Command encoding: the builders reproduce the recorded server's lines; quoting round-trips."""

from __future__ import annotations

import pytest
from agi_transcript_sessions import recorded_sessions
from hypothesis import given
from hypothesis import strategies as st

from acd.asterisk.agi import commands as c
from acd.asterisk.errors import LocalProtocolError

RECORDED = {line for s in recorded_sessions() for line in s.commands}

BUILT = [
    (c.answer(), "ANSWER"),
    (c.get_variable("CALLERID(num)"), "GET VARIABLE CALLERID(num)"),
    (
        c.get_full_variable("${CHANNEL}|${UNIQUEID}|${TALKTIME}"),
        'GET FULL VARIABLE "${CHANNEL}|${UNIQUEID}|${TALKTIME}"',
    ),
    (c.set_variable("IVR_STARTED", "1"), 'SET VARIABLE IVR_STARTED "1"'),
    (c.set_variable("AFTER_HANGUP", "yes"), 'SET VARIABLE AFTER_HANGUP "yes"'),
    (c.channel_status(), "CHANNEL STATUS"),
    (c.verbose("FastAGI ivr script started"), 'VERBOSE "FastAGI ivr script started" 1'),
    (c.stream_file("beep"), 'STREAM FILE beep ""'),
    (c.stream_file("tt-monkeys", "123"), 'STREAM FILE tt-monkeys "123"'),
    (c.get_data("vm-enter-num-to-call", 6000, 1), "GET DATA vm-enter-num-to-call 6000 1"),
    (c.get_data("beep", 1500, 4), "GET DATA beep 1500 4"),
    (c.exec_("NoOp", "IVR picked sales"), 'EXEC NoOp "IVR picked sales"'),
    (c.exec_("Set", "CDR(ivr)=sales"), 'EXEC Set "CDR(ivr)=sales"'),
    (c.exec_("NoSuchApplication", "foo"), "EXEC NoSuchApplication foo"),
    (c.say_number(42), 'SAY NUMBER 42 ""'),
    (c.say_digits("123"), 'SAY DIGITS 123 ""'),
    (c.wait_for_digit(100), "WAIT FOR DIGIT 100"),
    (c.database_put("ivr", "lastcaller", "5550100"), "DATABASE PUT ivr lastcaller 5550100"),
    (c.database_get("ivr", "no-such-key"), "DATABASE GET ivr no-such-key"),
    (c.get_option("beep", "12", 1000), 'GET OPTION beep "12" 1000'),
    (
        c.record_file("/var/spool/asterisk/monitor/agi-record-test", "wav", "#", 1500),
        "RECORD FILE /var/spool/asterisk/monitor/agi-record-test wav # 1500",
    ),
    (c.hangup(), "HANGUP"),
    (c.noop(), "NOOP"),
]


@pytest.mark.parametrize(("built", "recorded"), BUILT)
def test_builders_reproduce_recorded_lines(built: str, recorded: str) -> None:
    assert recorded in RECORDED  # the expectation itself comes from the transcript
    assert built == recorded


def test_exec_joins_application_arguments_with_commas_in_one_argument() -> None:
    line = c.exec_("Dial", "Local/1001@hotline-agents/n", "20", "tT")
    assert line == 'EXEC Dial "Local/1001@hotline-agents/n,20,tT"'
    assert c.split_args(line) == ("EXEC", "Dial", "Local/1001@hotline-agents/n,20,tT")
    assert c.exec_("StartMusicOnHold") == "EXEC StartMusicOnHold"


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ('SET VARIABLE X "a \\"b\\" c"', ("SET", "VARIABLE", "X", 'a "b" c')),
        ('STREAM FILE beep ""', ("STREAM", "FILE", "beep", "")),
        ("  GET   VARIABLE\tX  ", ("GET", "VARIABLE", "X")),
        ('a"b c"d', ("ab cd",)),
        ("back\\\\slash \\ x", ("back\\slash", " x")),
        ('SET CALLERID "IVR Renamed" <5559999>', ("SET", "CALLERID", "IVR Renamed", "<5559999>")),
    ],
)
def test_split_args_follows_parse_args(line: str, argv: tuple[str, ...]) -> None:
    assert c.split_args(line) == argv


@given(st.text(alphabet=st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"])))
def test_quoting_round_trips_through_parse_args(value: str) -> None:
    assert c.split_args(c.quote(value)) == (value,)
    assert c.split_args(c.bare_or_quoted(value)) == (value,)
    assert c.split_args(c.set_variable("V", value)) == ("SET", "VARIABLE", "V", value)


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b"])
def test_newline_in_an_argument_is_refused(bad: str) -> None:
    with pytest.raises(LocalProtocolError):
        c.set_variable("X", bad)
    with pytest.raises(LocalProtocolError):
        c.verbose(bad)


def test_too_long_and_bad_application_are_refused() -> None:
    with pytest.raises(LocalProtocolError):
        c.set_variable("X", "v" * 3000)
    with pytest.raises(LocalProtocolError):
        c.exec_("Dial now", "x")


@pytest.mark.parametrize(
    ("line", "dead_ok"),
    [
        ("GET VARIABLE CHANNEL", True),
        ('SET VARIABLE AFTER_HANGUP "yes"', True),
        ('VERBOSE "x" 1', True),
        ("database get ivr k", True),
        ("EXEC Set x=1", True),
        ("NOOP", True),
        ('STREAM FILE beep ""', False),
        ("WAIT FOR DIGIT 100", False),
        ("ANSWER", False),
        ("GET DATA beep", False),
    ],
)
def test_commands_allowed_on_a_dead_channel(line: str, dead_ok: bool) -> None:
    # Recorded: after the hang-up STREAM FILE / WAIT FOR DIGIT got 511, GET/SET VARIABLE 200.
    assert c.allowed_on_dead_channel(line) is dead_ok


def test_set_variables_go_in_one_mset_when_the_values_allow() -> None:
    pairs = (("HOTLINE_QUEUE", "orders"), ("HOTLINE_PRIORITY", "5"), ("HOTLINE_SINCE", "17.250"))
    assert c.set_variables(pairs) == (
        'EXEC MSet "HOTLINE_QUEUE=orders,HOTLINE_PRIORITY=5,HOTLINE_SINCE=17.250"'
    )


def test_a_function_travels_among_the_variables() -> None:
    # MSet writes a name ending in ")" through the function (pbx_builtin_setvar_helper)
    pairs = (("HOTLINE_CALL_ID", "1764.5"), ("CHANNEL(language)", "zh"))
    assert c.set_variables(pairs) == 'EXEC MSet "HOTLINE_CALL_ID=1764.5,CHANNEL(language)=zh"'


@pytest.mark.parametrize(
    "pairs",
    [
        (("A", "1"),),  # one variable: SET VARIABLE is as short
        (("A", "x,y"), ("B", "2")),  # MSet splits the data on ','
        (("A", "k=v"), ("B", "2")),  # ... and each pair on '='
        (("A", 'say "hi"'), ("B", "2")),  # ... and strips quotes
        (("A B", "1"), ("C", "2")),  # not a variable name
        (("CHANNEL(a,b)", "1"), ("C", "2")),  # a function: one plain argument only
        (("CHANNEL(a)x", "1"), ("C", "2")),  # neither a variable nor a function
        (("", "1"), ("C", "2")),
    ],
)
def test_set_variables_refuse_what_mset_would_misread(pairs: tuple[tuple[str, str], ...]) -> None:
    assert c.set_variables(pairs) is None
