"""Queue, answer and recording on a real Asterisk: Local agent phones that answer, refuse or
never answer (tests/live/asterisk/live-phones.conf); asserted on AMI events and the database."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from acd.asterisk.ami.message import Message
from tests.live.rig import Caller, EventCheck, LiveRig

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

MAIN = "GET DATA hotline/zh/main-menu"


def dial_end(caller: Caller, status: str | None = None) -> EventCheck:
    def check(m: Message) -> bool:
        return (
            m.name == "DialEnd"
            and m.get("Uniqueid") == caller.uniqueid
            and (status is None or m.get("DialStatus") == status)
        )

    return check


async def to_agent(rig: LiveRig, number: str) -> Caller:
    """A caller who presses 0 (an agent, the default queue) in the main menu."""
    caller = await rig.call(number)
    await rig.agi_command(caller, MAIN)
    await rig.press(caller, "0")
    return caller


async def answered_call(rig: LiveRig, number: str, phone: str, what: str) -> dict[str, Any]:
    """A caller who asks for an agent, is answered on a phone whose channel starts with
    ``phone`` and hangs up: their finished ``calls`` row."""
    mark = rig.events.mark()
    caller = await to_agent(rig, number)
    answered = await rig.events.wait(dial_end(caller, "ANSWER"), what, after=mark)
    assert (answered.get("DestChannel") or "").startswith(phone)
    await rig.hang_up(caller)
    return await rig.daemon.ended_call(caller.uniqueid)


async def test_answered_and_recorded(rig: LiveRig) -> None:
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    caller = await to_agent(rig, "13800000010")
    answered = await rig.events.wait(dial_end(caller, "ANSWER"), "the agent's answer", after=mark)
    assert (answered.get("DestChannel") or "").startswith("Local/1001@live-phones-")
    agent_leg = answered.get("DestChannel")
    started = await rig.events.wait(
        lambda m: m.name == "MixMonitorStart" and m.get("Channel") == agent_leg,
        "the recording",
        after=mark,
    )
    # started on the agent's channel when it answered, by the Dial's U() in the rendered
    # [hotline-answer], before DialEnd and the bridge: nothing of it before the ring; the
    # Dial's B() stored the caller's place before the ring (an agent was free); no command
    # of their own
    assert started.get("Context") == "hotline-answer"
    ours = rig.events.since(mark, lambda m: m.get("Uniqueid") == caller.uniqueid)
    names = [m.name for m in ours]
    assert "MixMonitorStart" not in names  # not on the caller's channel
    order = [
        m.name
        for m in rig.events.since(mark)
        if (m.name in ("DialBegin", "DialEnd") and m.get("DestChannel") == agent_leg)
        or (m.name == "MixMonitorStart" and m.get("Channel") == agent_leg)
    ]
    assert order == ["DialBegin", "MixMonitorStart", "DialEnd"]
    execs = [m.get("Command") or "" for m in ours if m.name == "AGIExecStart"]
    assert not [c for c in execs if c.startswith(("EXEC MixMonitor", 'EXEC MSet "HOTLINE_QUEUE'))]
    (dial,) = [c for c in execs if c.startswith("EXEC Dial")]
    assert "B(hotline-predial^place^1(" in dial
    assert "U(hotline-answer^" in dial
    retval = [
        m.get("Value") for m in ours if m.name == "VarSet" and m.get("Variable") == "GOSUB_RETVAL"
    ]
    place = {
        m.get("Variable"): m.get("Value")
        for m in ours
        if m.name == "VarSet" and (m.get("Variable") or "").startswith("HOTLINE_")
    }
    assert place["HOTLINE_QUEUE"] == "enquiries"  # what a resuming daemon would read
    await rig.events.wait(
        lambda m: (
            m.name == "MusicOnHoldStart"
            and (m.get("Channel") or "").startswith("Local/1001@live-phones-")
        ),
        "the agent talking (music from the agent's phone)",
        after=mark,
    )
    agents = await rig.daemon.agents()
    assert agents["1001"]["state"] == "on_call"
    await asyncio.sleep(2)  # the conversation's length, not a synchronisation
    mark = rig.events.mark()
    await rig.hang_up(caller)
    await rig.gone(caller, after=mark)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["outcome"], row["agent_id"], row["hung_up_by"]) == ("answered", "1001", "caller")
    assert row["recording_id"] is not None
    await rig.daemon.stop()
    ((path, size),) = rig.daemon.rows(
        "select path, size_bytes from recordings where id = ?", (row["recording_id"],)
    )
    assert size > 44  # more than a WAV header: audio was written
    assert size == await asyncio.to_thread(os.path.getsize, path)
    assert retval[-1] == path  # [hotline-answer]'s return, copied to the caller by app_dial


async def test_the_agent_hangs_up_and_the_dialplan_ends_the_caller(rig: LiveRig) -> None:
    """The agent ends the conversation: the Dial returns ANSWER to the daemon, which reads its
    result (and may ask the survey) and ends the session with no HOTLINE_DONE (and sent no
    ANSWER: ?answered=1); the rendered [hotline-resume] hangs the caller up on
    DIALSTATUS=ANSWER, without offering them to a daemon again."""
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    caller = await to_agent(rig, "13800000012")
    answered = await rig.events.wait(dial_end(caller, "ANSWER"), "the agent's answer", after=mark)
    await asyncio.sleep(1)  # a conversation, not a synchronisation
    reply = await rig.ami.action("Hangup", [("Channel", answered.get("DestChannel") or "")])
    assert reply.ok, reply.message
    await rig.gone(caller, after=mark)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["outcome"], row["agent_id"], row["hung_up_by"]) == ("answered", "1001", "agent")
    ours = rig.events.since(mark, lambda m: m.get("Uniqueid") == caller.uniqueid)
    execs = [m.get("Command") or "" for m in ours if m.name == "AGIExecStart"]
    assert any(c.startswith("GET FULL VARIABLE") for c in execs)  # the Dial's result
    # (then perhaps the survey, which does not clear DIALSTATUS)
    assert not [c for c in execs if "HOTLINE_DONE" in c]
    assert "ANSWER" not in execs
    resume = [
        m.get("Application")
        for m in ours
        if m.name == "Newexten" and m.get("Context") == "hotline-resume"
    ]
    assert "Hangup" in resume
    assert "AGI" not in resume


async def test_busy_and_never_answering_phones_are_skipped_then_auto_paused(
    rig: LiveRig,
) -> None:
    # complaints: 1003 refuses (BUSY), 1005 rings out; nobody else is logged in
    await rig.daemon.login("1003", "1005")
    mark = rig.events.mark()
    caller = await rig.call("13800000011")
    await rig.agi_command(caller, MAIN)
    await rig.press(caller, "3")
    await rig.agi_command(caller, "GET DATA hotline/zh/complaints-menu", after=mark)
    await rig.press(caller, "1")
    busy = await rig.events.wait(dial_end(caller, "BUSY"), "1003 refusing", after=mark)
    assert (busy.get("DestChannel") or "").startswith("Local/1003@live-phones-")
    await rig.events.wait(dial_end(caller, "NOANSWER"), "1005 ringing out", after=mark, limit_s=60)

    async def both_paused() -> bool:
        agents = await rig.daemon.agents()
        return all(agents[a]["state"] == "paused" for a in ("1003", "1005"))

    await rig.daemon.until(both_paused, "both agents auto-paused", limit_s=120)
    agents = await rig.daemon.agents()
    assert {agents[a]["pause_reason"] for a in ("1003", "1005")} == {"missed-offers"}
    assert caller.uniqueid in await rig.daemon.waiting()  # the caller keeps waiting
    await rig.hang_up(caller)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert row["outcome"] == "abandoned"
    assert row["ring_count"] >= 2
