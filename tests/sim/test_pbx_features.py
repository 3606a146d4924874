"""Supervisor and administration features at the core level: ChanSpy, MixMonitor, Hangup,
Redirect, variables and the list actions' item layouts, checked against the recordings."""

from __future__ import annotations

import pytest

from acd.sim.outputs import OriginateRequest
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from tests.sim.pbx_driver import (
    Driver,
    Run,
    event_types,
    layout,
    normalise,
    recorded_chanspy_part,
    recorded_layouts,
    talking_call,
)


def _names(run: Run, since: int = 0) -> list[str]:
    return [m.name for m in run.messages[since:]]


def _supervisor(driver: Driver, **kw: str) -> None:
    driver.originate(
        OriginateRequest(
            channel="Local/phone@supervisor/n",
            caller_id='"Supervisor" <9001>',
            variables=(("SPYTIME", "5"),),
            **kw,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize("how", ["application", "dialplan"])
def test_chanspy_start_and_stop_as_recorded(how: str) -> None:
    driver = talking_call()
    start = len(driver.run.events)
    if how == "application":
        _supervisor(driver, application="ChanSpy", data="Local/agent2@agents,qbE")
    else:
        driver.originate(
            OriginateRequest(
                channel="Local/phone@supervisor/n",
                context="supervisor",
                exten="spy",
                caller_id='"Supervisor" <9001>',
                variables=(
                    ("SPYTIME", "5"),
                    ("SPYTARGET", "Local/agent2@agents"),
                    ("SPYOPTS", "qbE"),
                ),
            )
        )
    driver.run_until(driver.now + 8.0)
    run = driver.run
    spy = [m for m in run.messages[start:] if m.name.startswith("ChanSpy")]
    assert [m.name for m in spy] == ["ChanSpyStart", "ChanSpyStop"]
    assert spy[0]["SpyeeChannel"].endswith(";1")  # b: the bridged ;1 leg, not ;2
    assert spy[0]["SpyerCallerIDNum"] == "9001"
    layouts = recorded_layouts("chanspy_events.txt")
    for message in spy:
        assert layout(message) in layouts[message.name]
    tail = [
        m.name
        for m in run.messages[start:]
        if m.name in {"SoftHangupRequest", "HangupRequest", "Hangup", "ChanSpyStop"}
    ]
    assert tail == ["SoftHangupRequest", "HangupRequest", "Hangup", "ChanSpyStop", "Hangup"]


def test_ami_hangup_of_the_bridged_caller_follows_the_recorded_teardown() -> None:
    driver = talking_call()
    start = len(driver.run.events)
    caller = next(
        c.name
        for c in driver.pbx.channels()
        if c.name.startswith("Local/5550300") and c.name.endswith(";1")
    )
    driver.at(driver.now, lambda now: driver.pbx.hangup(now, caller, 16))
    ours = [n for n in _names(driver.run, start) if n not in {"VarSet", "DeviceStateChange"}]
    assert ours == [
        "BridgeLeave",
        "BridgeLeave",
        "BridgeDestroy",
        "HangupRequest",
        "Hangup",
        "SoftHangupRequest",
        "Hangup",
        "QueueMemberStatus",
        "AgentComplete",
        "SoftHangupRequest",
        "HangupRequest",
        "SoftHangupRequest",
        "Hangup",
        "Hangup",
    ]
    (complete,) = [m for m in driver.run.messages if m.name == "AgentComplete"]
    assert complete["Reason"] == "caller"
    assert "DestChannel" not in complete
    assert driver.pbx.channels() == []
    assert not driver.pbx.hangup(driver.now, caller)


def test_mixmonitor_action_records_the_talk_time_in_stereo() -> None:
    driver = talking_call(talk=30.0)
    caller = next(
        c.name for c in driver.pbx.channels() if c.name.endswith(";1") and "caller-sim" in c.name
    )
    mmid = driver.pbx.mixmonitor(driver.now, caller, "qa/call-1.wav", "Di(MMID)")
    assert mmid is not None
    assert mmid.startswith("0x")
    assert driver.pbx.get_var(caller, "MMID") == mmid
    assert driver.pbx.mixmonitor_mute(driver.now, caller, "read", True)
    assert driver.pbx.mixmonitor(driver.now, "Local/nope-00000000;1", "x.wav") is None
    driver.run_until(200.0)
    wavs = [w for w in driver.run.wavs if w.path.endswith("qa/call-1.wav")]
    assert len(wavs) == 1
    assert wavs[0].channels == 2
    assert wavs[0].path == "/var/spool/asterisk/monitor/qa/call-1.wav"
    # started at t=10, agent answered at ~10.1 (4 s agent1 + 1 s retry + 1 s ring) and talks 30 s
    assert 20.0 < wavs[0].seconds < 30.0
    names = [m.name for m in driver.run.messages]
    assert "MixMonitorMute" in names


def test_stop_mixmonitor_emits_stop_and_finishes_the_file() -> None:
    driver = talking_call()
    caller = next(
        c.name for c in driver.pbx.channels() if "caller-sim" in c.name and c.name.endswith(";1")
    )
    mmid = driver.pbx.mixmonitor(driver.now, caller, "/tmp/rec.wav")
    assert mmid is not None
    driver.run_until(driver.now + 4.0)
    assert driver.pbx.stop_mixmonitor(driver.now, caller, mmid)
    assert not driver.pbx.stop_mixmonitor(driver.now, caller, mmid)
    driver.pump()
    (wav,) = [w for w in driver.run.wavs if w.path == "/tmp/rec.wav"]
    assert wav.seconds == pytest.approx(4.0)
    assert "MixMonitorStop" in _names(driver.run)


def test_redirect_out_of_the_queue_then_hangup() -> None:
    plan = SimPlan(agents={"Local/agent1@agents/n": AgentBehaviour(answer_after=None)})
    driver = Driver(plan, script=lambda _sid, _open: ['SET VARIABLE IVR_QUEUE "support"'])
    driver.originate(
        OriginateRequest(
            channel="Local/5550600@caller-sim/n",
            context="hotline",
            exten="s",
            caller=CallerBehaviour(number="5550600", hangup_after=None),
        )
    )
    driver.run_until(3.0)
    caller = next(c.name for c in driver.pbx.channels() if c.name.endswith("aa;1"))
    start = len(driver.run.events)
    driver.at(3.0, lambda now: driver.pbx.redirect(now, caller, "parking-lot", "hold"))
    names = _names(driver.run, start)
    assert "QueueCallerLeave" in names
    assert "QueueCallerAbandon" not in names
    assert names[-1] == "MusicOnHoldStart"
    assert not driver.pbx.redirect(3.0, "Local/nope-00000000;1", "x", "y")
    snapshot = {c.name: c for c in driver.pbx.channels()}[caller]
    assert (snapshot.context, snapshot.application) == ("parking-lot", "MusicOnHold")
    start = len(driver.run.events)
    driver.at(4.0, lambda now: driver.pbx.hangup(now, caller))
    assert [n for n in _names(driver.run, start) if n != "DeviceStateChange"] == [
        "MusicOnHoldStop",
        "SoftHangupRequest",
        "HangupRequest",
        "SoftHangupRequest",
        "Hangup",
        "Hangup",
    ]


def test_direct_queue_call_matches_the_recorded_chanspy_setup() -> None:
    # PART setup: Originate Local/5550300@caller-sim/n -> [hotline-direct] Queue(sales)
    plan = SimPlan(
        agents={
            "Local/agent1@agents/n": AgentBehaviour(answer_after=None),
            "Local/agent2@agents/n": AgentBehaviour(answer_after=1.0, talk_time=60.0),
        }
    )
    driver = Driver(plan)
    driver.originate(
        OriginateRequest(
            channel="Local/5550300@caller-sim/n",
            context="hotline-direct",
            exten="5550300",
            variables=(("QUEUE_NAME", "sales"),),
            caller=CallerBehaviour(number="5550300", hangup_after=None),
        )
    )
    run = driver.run_until(7.0)
    real = recorded_chanspy_part("setup")

    def split(types: list[str]) -> tuple[list[str], list[str]]:
        # The originated ;2 answers on its own thread: the prologue up to the Originate's
        # DialEnd comes in a different order in scenario A and here, so compare it as a set.
        cut = types.index("DialEnd") + 1
        return sorted(types[:cut]), types[cut:]

    ours, theirs = split(normalise(event_types(run.messages))), split(normalise(event_types(real)))
    assert ours == theirs
    assert not run.agi_opened
