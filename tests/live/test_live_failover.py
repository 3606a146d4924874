"""SIGKILL of the daemon with callers in the IVR, waiting and talking, and a restart, on a real
Asterisk. What Asterisk does when the FastAGI server dies is recorded in
tests/fixtures/asterisk/transcripts/ami_daemon_killed_3_waiting.raw and the q2_* captures:
``AGI()`` ends with AGISTATUS=SUCCESS and every variable the daemon set is kept."""

from __future__ import annotations

import pytest

from acd.asterisk.ami.message import Message
from tests.live.rig import Caller, EventCheck, LiveRig
from tests.live.test_live_queue import MAIN, answered_call, dial_end, to_agent

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


def fate(caller: Caller) -> EventCheck:
    """The caller reaching the fallback Queue(), or hanging up."""

    def check(m: Message) -> bool:
        if m.get("Uniqueid") != caller.uniqueid:
            return False
        return m.name == "Hangup" or (
            m.name == "Newexten" and m.get("Context") == "hotline-fallback"
        )

    return check


async def test_a_conversation_survives_a_sigkill(rig: LiveRig) -> None:
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    talking = await to_agent(rig, "13800000020")
    await rig.events.wait(dial_end(talking, "ANSWER"), "the agent's answer", after=mark)
    mark = rig.events.mark()
    assert await rig.daemon.kill() == -9
    # Dial goes on after the FastAGI socket closed: the two still talk
    await rig.events.wait(
        lambda m: (
            m.name == "MusicOnHoldStart"
            and (m.get("Channel") or "").startswith("Local/1001@live-phones-")
        ),
        "the agent's side still playing",
        limit_s=5,
    )
    assert not rig.events.since(
        mark, lambda m: m.name == "Hangup" and m.get("Uniqueid") == talking.uniqueid
    )
    # restart: the new daemon restores 1001 talking (its session, reconciled with Asterisk's
    # channels), frees it when that conversation ends, and serves the next caller
    await rig.daemon.start()
    assert (await rig.daemon.agents())["1001"]["state"] == "on_call"
    await rig.hang_up(talking)
    await rig.gone(talking, after=mark)

    async def free() -> bool:
        return (await rig.daemon.agents())["1001"]["state"] in ("wrap_up", "ready")

    await rig.daemon.until(free, "1001 free once its conversation ended")
    await rig.daemon.login("1002")
    row = await answered_call(rig, "13800000021", "Local/100", "an answer after restart")
    assert row["outcome"] == "answered"


async def test_callers_in_the_ivr_and_waiting_reach_the_fallback_queue_after_a_sigkill(
    rig: LiveRig,
) -> None:
    # no daemon comes back: [hotline-resume] tries the address 3 times, then the plain Queue()
    in_ivr = await rig.call("13800000022")
    await rig.agi_command(in_ivr, MAIN)
    waiting = await to_agent(rig, "13800000023")  # nobody logged in: it waits

    async def queued() -> bool:
        return waiting.uniqueid in await rig.daemon.waiting()

    await rig.daemon.until(queued, "the second caller waiting")
    mark = rig.events.mark()
    assert await rig.daemon.kill() == -9
    for caller in (in_ivr, waiting):
        seen = await rig.events.wait(fate(caller), f"{caller.uniqueid}'s fate", after=mark)
        assert seen.name == "Newexten", f"{caller.uniqueid} was hung up"


async def test_a_waiting_caller_is_resumed_by_the_restarted_daemon(rig: LiveRig) -> None:
    """SIGKILL, then the daemon started again at once: [hotline-resume] offers the waiting caller
    to it (route resume) before any plain Queue(); they are answered, one row, one arrival."""
    waiting = await to_agent(rig, "13800000024")  # nobody logged in: it waits

    async def queued() -> bool:
        return waiting.uniqueid in await rig.daemon.waiting()

    await rig.daemon.until(queued, "the caller waiting")
    arrived = (await rig.daemon.waiting())[waiting.uniqueid]
    mark = rig.events.mark()
    assert await rig.daemon.kill() == -9
    await rig.daemon.start()
    await rig.daemon.until(queued, "the caller resumed by the restarted daemon")
    resumed = (await rig.daemon.waiting())[waiting.uniqueid]
    assert (resumed["queue"], resumed["priority"]) == (arrived["queue"], arrived["priority"])
    assert resumed["waited_s"] >= arrived["waited_s"]  # their original arrival: their place
    await rig.daemon.login("1001")
    await rig.events.wait(dial_end(waiting, "ANSWER"), "the agent's answer", after=mark)
    assert not rig.events.since(
        mark,
        lambda m: m.get("Uniqueid") == waiting.uniqueid and m.get("Context") == "hotline-fallback",
    )
    await rig.hang_up(waiting)
    row = await rig.daemon.ended_call(waiting.uniqueid)
    assert row["outcome"] == "answered"


async def test_a_caller_whose_transfer_outlives_the_daemon_is_resumed(rig: LiveRig) -> None:
    """A transfer's window: the daemon names the agent's leg on the caller's channel
    (``HOTLINE_TRANSFERRED``, AMI Setvar), hangs that leg up, and dies before the Dial's return
    reaches it. Here the daemon is SIGKILLed while the two talk and the suite sends those same
    two actions: the Dial returns DIALSTATUS=ANSWER with DIALEDPEERNAME equal to the marker, and
    the rendered [hotline-resume] must offer the caller to the restarted daemon, not hang up."""
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    talking = await to_agent(rig, "13800000025")
    answer = await rig.events.wait(dial_end(talking, "ANSWER"), "the agent's answer", after=mark)
    leg = answer.get("DestChannel") or ""
    assert leg.startswith("Local/1001@live-phones-")
    assert await rig.daemon.kill() == -9
    mark = rig.events.mark()
    marked = await rig.ami.action(
        "Setvar",
        [("Channel", talking.channel), ("Variable", "HOTLINE_TRANSFERRED"), ("Value", leg)],
    )
    assert marked.ok, marked.message
    hung_up = await rig.ami.action("Hangup", [("Channel", leg)])
    assert hung_up.ok, hung_up.message
    # the Dial returned ANSWER to a caller no daemon holds: [hotline-resume] goes on to AGI()
    resume = await rig.events.wait(
        lambda m: (
            m.name == "Newexten"
            and m.get("Uniqueid") == talking.uniqueid
            and m.get("Context") == "hotline-resume"
            and m.get("Application") == "AGI"
        ),
        "the resume attempt",
        after=mark,
    )
    assert "/resume?" in (resume.get("AppData") or "")
    await rig.daemon.start()
    await rig.daemon.login("1002")
    await rig.events.wait(dial_end(talking, "ANSWER"), "1002's answer of the caller", after=mark)
    assert not rig.events.since(
        mark, lambda m: m.name == "Hangup" and m.get("Uniqueid") == talking.uniqueid
    )
    await rig.hang_up(talking)
    row = await rig.daemon.ended_call(talking.uniqueid)
    assert row["outcome"] == "answered"
