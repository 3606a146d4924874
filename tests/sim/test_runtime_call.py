"""A whole call through the simulator over real sockets: AMI Originate, FastAGI, queue, WAV.

The FastAGI server replays the command lines of the recorded scenario A session
(fastagi_session.txt #1); the simulator runs 8x faster than real time so the 17 s call takes ~2 s.
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from acd.sim.plan import DialplanPlan, SimPlan
from acd.sim.runtime import Simulator
from tests.sim.runtime_support import (
    NOISE,
    AmiProbe,
    ScriptedAgiServer,
    recorded_agi_session,
    shape,
    summary_types,
)

SCALE = 8.0
CALLER = "Local/5550200@caller-sim/n"


def scenario_a_originate() -> list[tuple[str, str]]:
    # As recorded: AMI Originate Channel=Local/5550200@caller-sim/n Context=hotline Exten=s ...
    return [
        ("Channel", CALLER),
        ("Context", "hotline"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Async", "true"),
        ("Variable", "IVR_DIGIT=1"),
        ("Variable", "DTMF_DELAY=3"),
        ("Variable", "CALLER_HOLD=120"),
        ("Variable", "__TALKTIME=5"),
    ]


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(name in it for name in wanted)


async def run_scenario_a(tmp_path: Path) -> tuple[Simulator, AmiProbe, ScriptedAgiServer]:
    recorded = recorded_agi_session(1)
    agi = ScriptedAgiServer([exchange.command for exchange in recorded])
    port = await agi.start()
    plan = SimPlan(dialplan=DialplanPlan(agi_port=port))
    sim = Simulator(plan, seed=7, recordings_dir=tmp_path, keep_events=True, time_scale=SCALE)
    await sim.start()
    probe = await AmiProbe.connect(sim.ami_port)
    assert (await probe.login_md5()).ok
    queued = await probe.action("Originate", scenario_a_originate())
    assert queued.message == "Originate successfully queued"
    # the caller's trunk side (;1) hangs up last in scenario A
    await probe.wait_event(
        lambda m: (
            m.name == "Hangup"
            and (m.get("Channel") or "").endswith(";1")
            and (m.get("Channel") or "").startswith("Local/5550200@caller-sim-")
        )
    )
    return sim, probe, agi


@pytest.mark.asyncio
async def test_scenario_a_over_sockets(tmp_path: Path) -> None:
    sim, probe, agi = await run_scenario_a(tmp_path)
    try:
        # FastAGI: every recorded command got a reply of the recorded form
        assert agi.connections == 1
        run = agi.runs[0]
        assert run.env["agi_network_script"] == "ivr"
        assert run.env["agi_callerid"] == "5550200"
        recorded = recorded_agi_session(1)
        assert [c for c, _ in run.replies] == [r.command for r in recorded]
        for (command, ours), theirs in zip(run.replies, recorded, strict=True):
            assert [shape(x) for x in ours] == [shape(x) for x in theirs.reply], command
        assert run.trailer == ("HANGUP",)  # Asterisk's closing HANGUP, then EOF

        # AMI: the socket carried exactly what the core emitted, in order
        socket_events = [m for m in probe.events if m.name not in ("FullyBooted", "SuccessfulAuth")]
        assert sim.emitted is not None
        assert [m.headers for m in socket_events] == [m.headers for m in sim.emitted]

        # ... and the call went the recorded way (milestones of scenario A, in order)
        seen = [m.name for m in socket_events if m.name not in NOISE]
        recorded_types = summary_types("A")
        milestones = [
            "Newchannel",
            "OriginateResponse",
            "AGIExecStart",
            "QueueCallerJoin",
            "AgentCalled",
            "AgentRingNoAnswer",
            "AgentCalled",
            "AgentConnect",
            "AgentComplete",
            "Hangup",
        ]
        assert is_subsequence(milestones, recorded_types)  # the list itself is right
        assert is_subsequence(milestones, seen), seen
        ring = next(m for m in socket_events if m.name == "AgentRingNoAnswer")
        assert ring["RingTime"] == "4000"  # milliseconds, as recorded
    finally:
        await probe.close()
        await sim.close()
        await agi.close()


@pytest.mark.asyncio
async def test_recorded_call_leaves_a_valid_wav(tmp_path: Path) -> None:
    sim, probe, agi = await run_scenario_a(tmp_path)
    try:
        started = next(m for m in probe.events if m.name == "MixMonitorStart")
        assert started["Channel"] is not None
        filename = next(
            m["Value"]
            for m in probe.events
            if m.name == "VarSet" and m.get("Variable") == "MIXMONITOR_FILENAME"
        )
        path = Path(filename)
        assert path.parent == tmp_path
        # The core hands the WAV over when the call ends (before the caller's last Hangup reached
        # us); close() lets writes in progress finish.
        await sim.close()
        with wave.open(str(path), "rb") as recording:
            assert recording.getframerate() == 8000
            assert recording.getsampwidth() == 2
            assert recording.getnframes() > 8000  # more than a second of talk
    finally:
        await probe.close()
        await sim.close()
        await agi.close()
