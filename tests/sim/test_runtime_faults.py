"""FastAGI fault modes seen from outside: refused/dropped connections and a mid-command hang-up.

The queue's only member answers after 1 s of ringing, so a call that falls back to ``Queue()`` is
answered (``AgentConnect``). The simulator runs 10x faster than real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from acd.asterisk.ami.message import Message
from acd.sim.plan import (
    AgentBehaviour,
    CallerBehaviour,
    DialplanPlan,
    QueueMember,
    QueuePlan,
    SimPlan,
)
from acd.sim.runtime import Simulator
from tests.sim.runtime_support import (
    AmiProbe,
    ScriptedAgiServer,
    is_event,
    recorded_agi_session,
    shape,
)

AGENT = "Local/agent2@agents/n"


def answered_queue_plan(agi_port: int) -> SimPlan:
    member = QueueMember(AGENT, "Agent Two", "Local/agent2@agents")
    return SimPlan(
        queues=(QueuePlan("sales", "linear", 4.0, 1.0, (member,)),),
        agents={AGENT: AgentBehaviour(answer_after=1.0, talk_time=2.0)},
        dialplan=DialplanPlan(agi_port=agi_port),
    )


@dataclass
class Rig:
    sim: Simulator
    probe: AmiProbe
    agi: ScriptedAgiServer


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    agi = ScriptedAgiServer(recorded_hangup_script())
    port = await agi.start()
    sim = Simulator(answered_queue_plan(port), seed=3, time_scale=10.0)
    await sim.start()
    probe = await AmiProbe.connect(sim.ami_port)
    assert (await probe.login_md5()).ok
    try:
        yield Rig(sim, probe, agi)
    finally:
        await probe.close()
        await sim.close()
        await agi.close()


def recorded_hangup_script() -> list[str]:
    """Scenario D's script (fastagi_session.txt #4): a long STREAM FILE the caller hangs up in."""
    return [exchange.command for exchange in recorded_agi_session(4)]


def agistatus(value: str) -> object:
    return is_event("VarSet", Variable="AGISTATUS", Value=value)


async def place(rig: Rig) -> None:
    accepted = await rig.sim.place_call(CallerBehaviour(number="5550300", hangup_after=None))
    assert type(accepted).__name__ == "OriginateAccepted"


async def wait(rig: Rig, match: object) -> Message:
    assert callable(match)
    return await rig.probe.wait_event(match)


@pytest.mark.asyncio
async def test_refused_agi_falls_back_to_the_queue_and_a_member_answers(rig: Rig) -> None:
    rig.sim.faults.refuse_agi()
    await place(rig)
    await wait(rig, agistatus("FAILURE"))
    connect = await wait(rig, is_event("AgentConnect", Queue="sales"))
    assert connect["Interface"] == AGENT
    assert rig.agi.connections == 0  # nothing reached the FastAGI server


@pytest.mark.asyncio
async def test_dropped_agi_runs_no_script_and_falls_back(rig: Rig) -> None:
    rig.sim.faults.drop_agi()
    await place(rig)
    await wait(rig, agistatus("SUCCESS"))  # the README's backlog gotcha: "success", nothing done
    await wait(rig, is_event("AgentConnect", Queue="sales"))
    await rig.agi.finished.wait()
    assert rig.agi.connections == 1
    assert rig.agi.runs == []  # the connection closed before any environment arrived


@pytest.mark.asyncio
async def test_hangup_in_the_middle_of_an_agi_command(rig: Rig) -> None:
    rig.sim.faults.hangup_in_agi()
    await place(rig)
    await wait(rig, agistatus("HANGUP"))
    await rig.agi.finished.wait()
    run = rig.agi.runs[0]
    recorded = recorded_agi_session(4)
    # ANSWER and VERBOSE answer at once; the STREAM FILE is cut by the hang-up, then media
    # commands get 511 while GET/SET VARIABLE still work -- the forms of scenario D.
    assert [c for c, _ in run.replies] == [r.command for r in recorded]
    for (command, ours), theirs in zip(run.replies, recorded, strict=True):
        assert [shape(x) for x in ours] == [shape(x) for x in theirs.reply], command
    assert run.hangup_lines >= 1  # the unsolicited HANGUP line
    assert not any(m.name == "QueueCallerJoin" for m in rig.probe.events)
