"""FastAGI at the core level: recorded scenarios D, E, F replayed, and the reply forms the
daemon relies on (510, 520, 511, -2, GET DATA timeout, missing file, HANGUP notices)."""

from __future__ import annotations

import re

import pytest

from acd.sim.outputs import OriginateRequest
from acd.sim.plan import CallerBehaviour, DtmfPress
from tests.sim.pbx_driver import (
    Driver,
    Run,
    event_types,
    normalise,
    recorded_agi_commands,
    recorded_agi_replies,
    recorded_events,
)


def _suffixless(lines: list[str]) -> str:
    return re.sub(r"-[0-9a-f]{8};", "-XXXXXXXX;", "".join(lines))


def _var(run: Run, name: str) -> list[str]:
    return [m["Value"] for m in run.messages if m.name == "VarSet" and m["Variable"] == name]


def _replay(
    scenario: str,
    number: str,
    variables: tuple[tuple[str, str], ...],
    caller: CallerBehaviour | None = None,
    context: str = "caller-sim",
) -> Run:
    driver = Driver(script=lambda _sid, _open: recorded_agi_commands(scenario))
    driver.originate(
        OriginateRequest(
            channel=f"Local/{number}@{context}/n",
            context="hotline",
            exten="s",
            variables=variables,
            caller=caller,
        )
    )
    return driver.run_until(300.0)


def test_scenario_d_caller_hangs_up_during_stream_file() -> None:
    # CALLER_HOLD 2.02: the recorded hang-up came 3.02 s into the 16 s prompt (endpos=24160).
    run = _replay(
        "D", "5550203", (("AGI_SCRIPT", "ivr-hangup"), ("DTMF_DELAY", "1"), ("CALLER_HOLD", "2.02"))
    )
    assert _suffixless(run.replies(1)) == _suffixless(recorded_agi_replies("D"))
    assert _var(run, "AGISTATUS") == ["HANGUP"]
    assert normalise(event_types(run.messages)) == normalise(event_types(recorded_events("D")))
    ends = [m for m in run.messages if m.name == "AGIExecEnd"]
    assert [(m["ResultCode"], m["Result"]) for m in ends][2:5] == [
        ("-1", "Failure"),
        ("200", "Success"),
        ("511", "Command Not Permitted on a dead channel or intercept routine"),
    ]


def test_scenario_e_missing_prompt_and_unknown_queue() -> None:
    run = _replay(
        "E", "5550204", (("AGI_SCRIPT", "ivr-fail"), ("DTMF_DELAY", "1"), ("CALLER_HOLD", "30"))
    )
    assert "".join(run.replies(1)) == "".join(recorded_agi_replies("E"))
    assert _var(run, "AGISTATUS") == ["FAILURE"]
    assert _var(run, "QUEUESTATUS") == ["UNKNOWN"]
    assert not [m for m in run.messages if m.name.startswith("Queue")]
    assert normalise(event_types(run.messages)) == normalise(event_types(recorded_events("E")))


def test_scenario_f_dtmf_tour_reply_forms() -> None:
    # caller-sim-dtmf: 1 at ~3.1 s, 2 at ~4.5 s, 45# at ~5.4 s (DTMF reaches ;1 ~0.1 s late)
    caller = CallerBehaviour(
        number="5550205",
        dtmf=(DtmfPress(3.1, "1"), DtmfPress(4.5, "2"), DtmfPress(5.4, "45#")),
        hangup_after=45.0,
    )
    run = _replay(
        "F",
        "5550205",
        (("AGI_SCRIPT", "ivr-dtmf?lang=en&mode=test"),),
        caller=caller,
        context="caller-sim-dtmf",
    )
    env = dict(run.agi_opened[0].env)
    assert env["agi_network_script"] == "ivr-dtmf?lang=en&mode=test"
    assert env["agi_request"] == "agi://127.0.0.1:4573/ivr-dtmf?lang=en&mode=test"

    def mask(text: str) -> str:
        return re.sub(r"endpos=\d+", "endpos=N", _suffixless([text]))

    ours = [mask(t) for t in run.replies(1)]
    assert ours == [mask(t) for t in recorded_agi_replies("F")]
    exact = {
        "200 result= (timeout)\n",
        "200 result=50\n",
        "200 result=45\n",
        "200 result=0 (timeout) endpos=12000\n",
        "200 result=0 endpos=3404\n",
    }
    assert exact <= set(run.replies(1))
    assert [w.path for w in run.wavs] == ["/var/spool/asterisk/monitor/agi-record-test.wav"]
    assert normalise(event_types(run.messages)) == normalise(event_types(recorded_events("F")))


def _session(
    commands: list[str], *, hangup_at: float | None = None, prompt_answers: tuple[str, ...] = ()
) -> Run:
    driver = Driver(script=lambda _sid, _open: commands)
    caller = CallerBehaviour(
        number="5550300", prompt_answers=prompt_answers, hangup_after=hangup_at
    )
    driver.originate(
        OriginateRequest(
            channel="Local/5550300@caller-sim/n", context="hotline", exten="s", caller=caller
        )
    )
    return driver.run_until(200.0)


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("FOOBAR", "510 Invalid or unknown command\n"),
        ("EXEC NoSuchApplication foo", "200 result=-2\n"),
        ('STREAM FILE no-such-file ""', "200 result=-1 endpos=0\n"),
        ("GET DATA beep 500 2", "200 result= (timeout)\n"),
        ("WAIT FOR DIGIT 200", "200 result=0\n"),
        ("GET VARIABLE CALLERID(num)", "200 result=1 (5550300)\n"),
        ("DATABASE GET cc missing", "200 result=0\n"),
        ("EXEC StartMusicOnHold default", "200 result=0\n"),
        ("GET VARIABLE", "520-Invalid command syntax.  Proper usage follows:\n"),
    ],
)
def test_single_command_replies(command: str, reply: str) -> None:
    run = _session([command])
    assert run.replies(1)[0].startswith(reply)
    if reply.startswith("520-"):
        assert run.replies(1)[0].endswith("520 End of proper usage.\n")


def test_mset_sets_each_pair_and_skips_one_without_a_value() -> None:
    # ASSUMPTION from main/pbx_variables.c (pbx_builtin_setvar_multiple), not RECORDED
    run = _session(['EXEC MSet "A1=one,BROKEN,B2=2.5"', "GET VARIABLE A1", "GET VARIABLE B2"])
    assert run.replies(1)[:3] == ["200 result=0\n", "200 result=1 (one)\n", "200 result=1 (2.5)\n"]
    assert _var(run, "A1") == ["one"]
    assert _var(run, "BROKEN") == []


def test_get_data_collects_the_callers_prompt_answer() -> None:
    run = _session(
        ["GET DATA vm-enter-num-to-call 3000 4", "GET DATA beep 3000 1"],
        prompt_answers=("42#", "5"),
    )
    assert run.replies(1)[:2] == ["200 result=42\n", "200 result=5\n"]


def test_hangup_while_idle_sends_hangup_and_then_511() -> None:
    # hang up 1 s in, while the script is blocked in a 5 s WAIT FOR DIGIT
    run = _session(
        [
            "WAIT FOR DIGIT 5000",
            'STREAM FILE beep ""',
            "GET VARIABLE CHANNEL",
            "DATABASE PUT a b c",
        ],
        hangup_at=1.0,
    )
    lines = run.replies(1)
    assert lines[:3] == [
        "200 result=-1\n",
        "HANGUP\n",
        "511 Command Not Permitted on a dead channel or intercept routine\n",
    ]
    assert lines[3].startswith("200 result=1 (Local/5550300@caller-sim-")
    assert lines[4:] == ["200 result=1\n", "HANGUP\n"]
    assert run.agi_closed == [1]


def test_moh_commands_emit_events() -> None:
    run = _session(
        ["EXEC StartMusicOnHold default", "WAIT FOR DIGIT 100", 'EXEC StopMusicOnHold ""']
    )
    names = [m.name for m in run.messages]
    assert names.index("MusicOnHoldStart") < names.index("MusicOnHoldStop")


def test_refused_connection_sets_failure_and_falls_back_to_the_queue() -> None:
    driver = Driver(script=lambda _sid, _open: None)
    driver.originate(
        OriginateRequest(
            channel="Local/5550301@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5550301"),
        )
    )
    run = driver.run_until(200.0)
    assert _var(run, "AGISTATUS") == ["FAILURE"]
    names = [m.name for m in run.messages]
    assert "QueueCallerJoin" in names
    assert "AgentConnect" in names  # agent2 of the reference sales queue answers
    assert run.agi_closed == []  # never connected, nothing to close
