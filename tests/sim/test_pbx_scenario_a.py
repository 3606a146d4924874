"""Scenario A against the recording: IVR over FastAGI, press 1, Queue(sales) linear, agent1 never
answers, agent2 answers after 1 s, MixMonitor by app_queue, agent hangs up.

The core is driven with the recorded AGI command lines and the recorded caller/agent timing
(DTMF_DELAY=3, agent2 ring 1 s, talk 6.4 s). Compared: the sequence of event types without
CEL/VarSet/Newexten/DeviceStateChange/Cdr (NewCallerid and NewConnectedLine included), the header
names and order of every emitted event, the AGI replies byte for byte and the env block.
"""

from __future__ import annotations

import pytest

from acd.asterisk.ami.message import Message
from tests.sim.pbx_driver import (
    Driver,
    Run,
    event_types,
    recorded_agi_commands,
    recorded_agi_replies,
    recorded_events,
    scenario_a_request,
    sort_racy_runs,
)
from tests.transcripts import read_text

#: Dial progress and app_queue's device-state callbacks run on different Asterisk threads, so
#: within one instant their relative order varies in the recording itself (agent1: DialState
#: before QueueMemberStatus, agent2: after). Runs made only of these two types are sorted.
_RACY = {"DialState", "QueueMemberStatus"}


def normalise(types: list[str]) -> list[str]:
    return sort_racy_runs(types, _RACY)


@pytest.fixture(scope="module")
def run_a() -> Run:
    driver = Driver(script=lambda _sid, _open: recorded_agi_commands("A"))
    driver.originate(scenario_a_request())
    return driver.run_until(300.0)


@pytest.fixture(scope="module")
def recorded_shapes() -> dict[str, set[tuple[str, ...]]]:
    shapes: dict[str, set[tuple[str, ...]]] = {}
    for scenario in "ABCDEF":
        for message in recorded_events(scenario):
            shapes.setdefault(message.name, set()).add(tuple(k for k, _ in message.headers))
    return shapes


def test_event_type_sequence_matches_recording(run_a: Run) -> None:
    ours = normalise(event_types(run_a.messages))
    real = normalise(event_types(recorded_events("A")))
    assert ours == real


def test_racy_runs_really_differ_in_the_recording() -> None:
    # Guards the normalisation above: without it the recording disagrees with itself.
    real = event_types(recorded_events("A"))
    # after an agent leg starts ringing (Newstate, NewConnectedLine of its ;1):
    firsts = [
        real[i + 2]
        for i, name in enumerate(real[:-2])
        if (name, real[i + 1]) == ("Newstate", "NewConnectedLine")
    ]
    assert "DialState" in firsts
    assert "QueueMemberStatus" in firsts


def test_every_event_has_a_recorded_header_layout(
    run_a: Run, recorded_shapes: dict[str, set[tuple[str, ...]]]
) -> None:
    for message in run_a.messages:
        names = tuple(k for k, _ in message.headers)
        assert names in recorded_shapes[message.name], message.name


def test_key_events_carry_recorded_values(run_a: Run) -> None:
    by_name: dict[str, list[Message]] = {}
    for message in run_a.messages:
        by_name.setdefault(message.name, []).append(message)
    (no_answer,) = by_name["AgentRingNoAnswer"]
    assert no_answer["RingTime"] == "4000"  # milliseconds
    assert no_answer["MemberName"] == "Agent One"
    (connect,) = by_name["AgentConnect"]
    assert connect["RingTime"] == "1"  # seconds
    assert connect["Interface"] == "Local/agent2@agents/n"
    (complete,) = by_name["AgentComplete"]
    assert complete["Reason"] == "agent"
    assert complete["TalkTime"] == "6"
    assert [m["DialStatus"] for m in by_name["DialEnd"]] == [
        "ANSWER",
        "NOANSWER",
        "CANCEL",
        "ANSWER",
    ]
    filenames = [m["Value"] for m in by_name["VarSet"] if m["Variable"] == "MIXMONITOR_FILENAME"]
    assert filenames == ["/var/spool/asterisk/monitor/call-1795327343.852.wav"]
    assert "MixMonitorStop" not in by_name  # the call simply ended
    (response,) = by_name["OriginateResponse"]
    assert (response["ActionID"], response["Reason"], response["Response"]) == (
        "ctl-7",
        "4",
        "Success",
    )


def test_agi_replies_are_byte_exact(run_a: Run) -> None:
    assert "".join(run_a.replies(1)) == "".join(recorded_agi_replies("A"))


def test_agi_env_block_matches_recording(run_a: Run) -> None:
    block = read_text("fastagi_session.txt").split("== SCENARIO A:")[1].split("--- >>>")[0]
    recorded = [
        tuple(line[: -len("\\n")].split(": ", 1))
        for line in block.splitlines()
        if line.startswith("agi_")
    ]
    ours = list(run_a.agi_opened[0].env)
    assert [k for k, _ in ours] == [k for k, *_ in recorded]
    differing = {k for (k, v), rec in zip(ours, recorded, strict=True) if (k, v) != tuple(rec)}
    assert differing <= {"agi_threadid"}


def test_recording_and_teardown(run_a: Run) -> None:
    (wav,) = run_a.wavs
    assert wav.path == "/var/spool/asterisk/monitor/call-1795327343.852.wav"
    assert wav.seconds == pytest.approx(6.4)
    assert run_a.agi_closed == [1]
    hangups = [m["Channel"] for m in run_a.messages if m.name == "Hangup"]
    created = [m["Channel"] for m in run_a.messages if m.name == "Newchannel"]
    assert sorted(hangups) == sorted(created)
