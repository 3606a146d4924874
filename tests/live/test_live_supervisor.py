"""Listen, whisper and barge, and a transfer, on a real Asterisk: the supervisor's phone
(``Local/1006@live-phones``) is rung with ChanSpy on the agent's channel. AMI shows only
ChanSpyStart/ChanSpyStop whatever the mode (shared README)."""

from __future__ import annotations

import asyncio

import pytest

from tests.live.rig import LiveRig, is_event
from tests.live.test_live_queue import dial_end, to_agent

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_a_supervisor_listens_whispers_and_barges(rig: LiveRig, mode: str) -> None:
    await rig.daemon.add_user("zhao", "--role", "supervisor", "--supervisor", "zhao")
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    caller = await to_agent(rig, "13800000040")
    answered = await rig.events.wait(dial_end(caller, "ANSWER"), "the answer", after=mark)
    reply = await rig.daemon.api("POST", "/spy", role="zhao", json={"agent": "1001", "mode": mode})
    assert reply.status_code == 200, reply.text
    start = await rig.events.wait(
        lambda m: m.name == "ChanSpyStart", "ChanSpyStart", after=mark, limit_s=20
    )
    spied = start.get("SpyeeChannel") or ""
    assert spied in (answered.get("DestChannel"), answered.get("Channel"))
    assert (start.get("SpyerChannel") or "").startswith("Local/1006@live-phones-")
    await rig.hang_up(caller)
    await rig.events.wait(lambda m: m.name == "ChanSpyStop", "ChanSpyStop", after=mark)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert row["outcome"] == "answered"


async def test_a_transfer_to_another_queue_is_answered_there(rig: LiveRig) -> None:
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    caller = await to_agent(rig, "13800000041")
    await rig.events.wait(dial_end(caller, "ANSWER"), "the first answer", after=mark)
    await asyncio.sleep(1)  # the first conversation's length, not a synchronisation
    await rig.daemon.login("1002")
    mark = rig.events.mark()
    reply = await rig.daemon.api(
        "POST",
        f"/calls/{caller.uniqueid}/transfer",
        json={"queue": "after_sales", "reason": "a return"},
    )
    assert reply.status_code == 200, reply.text
    second = await rig.events.wait(dial_end(caller, "ANSWER"), "the second answer", after=mark)
    assert (second.get("DestChannel") or "").startswith("Local/1002@live-phones-")
    await rig.events.wait(
        lambda m: m.name == "MixMonitorStart" and m.get("Channel") == second.get("DestChannel"),
        "the second agent's recording",
        after=mark,
    )
    await asyncio.sleep(1)  # the second conversation's length, not a synchronisation
    await rig.hang_up(caller)
    await rig.events.wait(is_event("Hangup", Uniqueid=caller.uniqueid), "the end", after=mark)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["outcome"], row["agent_id"]) == ("answered", "1002")
    # each agent's conversation in a file of its own, catalogued with that agent, with audio
    await rig.daemon.stop()
    recordings = rig.daemon.rows(
        "select id, agent_id, path, size_bytes from recordings where call_id = ?"
        " order by started_at",
        (caller.uniqueid,),
    )
    assert [(rid, agent) for rid, agent, _, _ in recordings] == [
        (caller.uniqueid, "1001"),
        (f"{caller.uniqueid}-2", "1002"),
    ]
    assert recordings[1][2].endswith("-2.wav")
    assert all(size > 44 for *_, size in recordings), recordings  # audio in both
    assert row["recording_id"] == caller.uniqueid
