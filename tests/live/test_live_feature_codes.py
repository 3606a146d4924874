"""Agent feature codes dialled from the agent's own phone on a real Asterisk: the rendered
``hotline-agents`` context, the daemon knowing the agent by the calling device
(``Local/1002@live-phones-<hex>;1`` -> ``Local/1002@live-phones``), and the confirmation beep."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live.rig import LiveRig, is_event
from tests.live.test_live_queue import dial_end, to_agent

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


async def dial_code(rig: LiveRig, agent: str, code: str) -> str:
    """The agent dials ``code``; the sound the daemon answers with (beep: done, beeperr: not)."""
    uid = f"live-{rig.run_id}-code-{agent}-{code.strip('*')}-{rig.events.mark()}"
    mark = rig.events.mark()
    reply = await rig.ami.action(
        "Originate",
        [
            ("Channel", f"Local/{agent}@live-phones/n"),
            ("Context", "hotline-agents"),
            ("Exten", code),
            ("Priority", "1"),
            ("ChannelId", uid),
            ("OtherChannelId", f"{uid}-phone"),
            ("Async", "true"),
        ],
    )
    assert reply.ok, reply.get("Message")
    beep = await rig.events.wait(
        lambda m: (
            m.name == "AGIExecStart"
            and m.get("Uniqueid") == uid
            and (m.get("Command") or "").startswith("STREAM FILE")
        ),
        f"the answer to {code}",
        after=mark,
    )
    await rig.events.wait(is_event("Hangup", Uniqueid=uid), f"{code} done", after=mark)
    return (beep.get("Command") or "").split()[2]


async def agent(rig: LiveRig, agent_id: str) -> tuple[Any, Any]:
    row = (await rig.daemon.agents())[agent_id]
    return row["state"], row["pause_reason"]


async def test_login_pause_with_a_code_unpause_logout(rig: LiveRig) -> None:
    assert await dial_code(rig, "1002", "*11") == "beep"
    assert await agent(rig, "1002") == ("ready", None)
    assert await dial_code(rig, "1002", "*132") == "beep"  # pause_reasons code 2: lunch
    assert await agent(rig, "1002") == ("paused", "lunch")
    assert await dial_code(rig, "1002", "*139") == "beeperr"  # no such reason
    assert await agent(rig, "1002") == ("paused", "lunch")
    assert await dial_code(rig, "1002", "*14") == "beep"
    assert await agent(rig, "1002") == ("ready", None)
    assert await dial_code(rig, "1002", "*15") == "beeperr"  # not in wrap-up
    assert await dial_code(rig, "1002", "*12") == "beep"
    assert await agent(rig, "1002") == ("logged_out", None)
    await rig.daemon.stop()
    log = rig.daemon.rows("select state, reason from agent_state_log where agent_id = '1002'")
    assert ("paused", "lunch") in log


async def test_recording_pause_and_resume_from_the_phone_during_a_call(rig: LiveRig) -> None:
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    caller = await to_agent(rig, "13800000030")
    await rig.events.wait(dial_end(caller, "ANSWER"), "the agent's answer", after=mark)
    await rig.events.wait(lambda m: m.name == "MixMonitorStart", "the recording", after=mark)
    mark = rig.events.mark()
    assert await dial_code(rig, "1001", "*16") == "beep"
    muted = await rig.events.wait(
        lambda m: m.name == "MixMonitorMute", "the recording muted", after=mark
    )
    assert muted.get("State") == "1"
    # on the agent's leg, which carries the MixMonitor (started there at the answer)
    assert (muted.get("Channel") or "").startswith("Local/1001@live-phones-")
    assert await dial_code(rig, "1001", "*17") == "beep"
    await rig.events.wait(is_event("MixMonitorMute", State="0"), "unmuted", after=mark)
    await rig.hang_up(caller)
    await rig.daemon.ended_call(caller.uniqueid)
    await rig.daemon.stop()
    pauses = rig.daemon.rows(
        "select requested_by, resumed_at is not null, auto_resumed from recording_pauses"
        " where call_id = ?",
        (caller.uniqueid,),
    )
    assert pauses == [("1001", 1, 0)]
