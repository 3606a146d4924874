"""An offer ends whatever the waiting caller hears: AMI PlayDTMF (Receive: yes) into the running
AGI command, then EXEC Dial (acd/daemon/offer_interrupt.py, docs/offer-delivery.md). Asserted
on the simulator's event log (order and mechanism, never durations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from acd.asterisk.ami.message import Message
from acd.daemon.offer_interrupt import INTERRUPT_DIGIT
from acd.engine.floor_inputs import AgentAction
from acd.settings.schema_routing import Announcements
from acd.sim.plan import CallerBehaviour, DtmfPress
from tests.daemon.flow_daemon import flow_settings
from tests.daemon.harness import Harness, floor_harness

CALLER = "5550700"


@asynccontextmanager
async def _one_paused_agent(
    tmp_path: Path, *, announce: bool = True
) -> AsyncIterator[tuple[Harness, str]]:
    """One agent paused so that the caller waits; announcements after 0.2 s and every 0.5 s in
    real time (each prompt lasts its 1.5 s) unless ``announce`` is False (10x time then)."""
    rules = (
        Announcements(first_after_s=0.2, every_s=0.5)
        if announce
        else Announcements(position=False, wait_time=False)
    )
    base = flow_settings(tmp_path, 1)
    settings = flow_settings(tmp_path, 1, queues={base.default_queue: {"announcements": rules}})
    agent = settings.agents[0].id
    async with floor_harness(
        tmp_path, settings=settings, keep_events=True, time_scale=1.0 if announce else 10.0
    ) as h:
        await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "meeting")
        yield h, agent


def _agi(h: Harness) -> list[Message]:
    """The caller's AGIExecStart/End events and the DTMF it received, in order."""
    return [
        m
        for m in h.sim.emitted or ()
        if (m.get("Channel") or "").startswith(f"Local/{CALLER}")
        and (m.name in ("AGIExecStart", "AGIExecEnd") or m.name == "DTMFEnd")
    ]


def _started(h: Harness, prefix: str) -> bool:
    return any(m.name == "AGIExecStart" and m["Command"].startswith(prefix) for m in _agi(h))


@pytest.mark.asyncio
async def test_an_offer_during_an_announcement_interrupts_it_and_dials(tmp_path: Path) -> None:
    async with _one_paused_agent(tmp_path) as (h, agent):
        await h.place(CallerBehaviour(number=CALLER, hangup_after=None))
        await h.wait_for(lambda: _started(h, "STREAM FILE queue-"), "an announcement")
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        await h.wait_for(lambda: _started(h, "EXEC Dial"), "the agent's ring")
        log = _agi(h)
    dial = next(i for i, m in enumerate(log) if m.name == "AGIExecStart" and "Dial" in m["Command"])
    before = log[:dial]
    dtmf = [i for i, m in enumerate(before) if m.name == "DTMFEnd"]
    assert [before[i]["Digit"] for i in dtmf] == [INTERRUPT_DIGIT]
    # a piece was playing when the digit came, it ended next, and nothing of the announcement
    # (nor the music) came after it: straight to the Dial
    running, ended = before[dtmf[0] - 1], before[dtmf[0] + 1]
    assert running.name == "AGIExecStart"
    assert running["Command"].startswith(("STREAM FILE queue-", "SAY NUMBER"))
    assert running["Command"].endswith(f'"{INTERRUPT_DIGIT}"')  # an escape digit of the piece
    assert (ended.name, ended["CommandId"]) == ("AGIExecEnd", running["CommandId"])
    after = [m["Command"] for m in before[dtmf[0] :] if m.name == "AGIExecStart"]
    assert not [c for c in after if c.startswith(("STREAM FILE", "SAY", "WAIT", "EXEC Start"))]


@pytest.mark.asyncio
async def test_music_is_one_wait_the_offer_ends(tmp_path: Path) -> None:
    async with _one_paused_agent(tmp_path, announce=False) as (h, agent):
        await h.place(CallerBehaviour(number=CALLER, hangup_after=None))
        await h.wait_for(lambda: _started(h, "EXEC StartMusicOnHold"), "the music")
        await h.wait_for(lambda: _started(h, "WAIT FOR DIGIT"), "the wait under the music")
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        await h.wait_for(lambda: _started(h, "EXEC Dial"), "the agent's ring")
        log = [m for m in _agi(h) if "Music" not in (m.get("Command") or "")]
    waits = [m for m in log if m.name == "AGIExecStart" and m["Command"].startswith("WAIT FOR")]
    # nothing is due: one long wait under the music, which the digit ended
    assert len(waits) == 1
    assert [m.name for m in log[-4:-1]] == ["AGIExecStart", "DTMFEnd", "AGIExecEnd"]
    assert log[-4]["CommandId"] == waits[0]["CommandId"] == log[-2]["CommandId"]
    assert h.daemon.flow.interrupter.sent == 1


@pytest.mark.asyncio
async def test_the_callers_own_keys_do_not_end_the_wait(tmp_path: Path) -> None:
    # "1" pressed under the music is not the interrupt: the caller keeps waiting, then rings
    presses = (DtmfPress(at=0.5, digits="1"),)
    async with _one_paused_agent(tmp_path, announce=False) as (h, agent):
        await h.place(CallerBehaviour(number=CALLER, hangup_after=None, dtmf=presses))
        await h.wait_for(
            lambda: any(m.name == "DTMFEnd" and m["Digit"] == "1" for m in _agi(h)),
            "the caller's key",
        )
        assert not _started(h, "EXEC Dial")
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        await h.wait_for(lambda: _started(h, "EXEC Dial"), "the agent's ring")


@pytest.mark.asyncio
async def test_with_ami_stalled_the_offer_waits_for_the_piece_to_end(tmp_path: Path) -> None:
    async with _one_paused_agent(tmp_path, announce=False) as (h, agent):
        await h.place(CallerBehaviour(number=CALLER, hangup_after=None))
        await h.wait_for(lambda: _started(h, "WAIT FOR DIGIT"), "the wait under the music")
        h.sim.faults.stall_ami(True)
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        await h.wait_for(lambda: _started(h, "EXEC Dial"), "the agent's ring", limit_s=30.0)
        log = _agi(h)
        sent, failed = h.daemon.flow.interrupter.sent, h.daemon.flow.interrupter.failed
        h.sim.faults.stall_ami(False)
    # no digit reached the channel: the wait ran to its end (hold_ms), then the Dial
    assert not [m for m in log if m.name == "DTMFEnd"]
    assert (sent, failed) == (0, 1)


@pytest.mark.asyncio
async def test_a_crash_mid_interrupt_hands_the_caller_to_the_dialplan(tmp_path: Path) -> None:
    async with _one_paused_agent(tmp_path, announce=False) as (h, agent):
        await h.place(CallerBehaviour(number=CALLER, hangup_after=None))
        await h.wait_for(lambda: _started(h, "WAIT FOR DIGIT"), "the wait under the music")
        h.sim.faults.stall_ami(True)  # the PlayDTMF is read, never answered: mid-interrupt
        ignored = h.sim.faults.ami_actions_ignored
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)
        await h.wait_for(
            lambda: h.sim.faults.ami_actions_ignored > ignored, "the interrupt to be sent"
        )
        await h.sigkill_daemon()
        # the FastAGI session ends: the channel leaves [hotline] the way every waiting caller
        # does when the daemon dies (tests/daemon/test_resilience_killed.py), never rung
        await h.wait_for(lambda: not h.caller_channels(), "the caller to leave [hotline]")
        h.sim.faults.stall_ami(False)
        assert not _started(h, "EXEC Dial")


@pytest.mark.asyncio
async def test_an_offer_racing_the_callers_key_still_rings_once(tmp_path: Path) -> None:
    # the agent is freed the moment the caller's key is seen: whichever ends the wait first
    # (the key, or the interrupt digit), the caller is rung once and the call is answered
    presses = (DtmfPress(at=0.5, digits="5"),)
    async with _one_paused_agent(tmp_path, announce=False) as (h, agent):
        await h.place(CallerBehaviour(number=CALLER, hangup_after=None, dtmf=presses))
        await h.wait_for(
            lambda: any(m.name == "DTMFEnd" and m["Digit"] == "5" for m in _agi(h)),
            "the caller's key",
        )
        await h.daemon.acd.agent_input(agent, AgentAction.UNPAUSE)

        async def talking() -> bool:
            return (await h.agent_states())[agent] == "on_call"

        await h.wait_for(talking, "the agent to answer")
        dials = [m for m in _agi(h) if m.name == "AGIExecStart" and "Dial" in m["Command"]]
    assert len(dials) == 1
