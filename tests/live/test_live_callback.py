"""A call-back placed on a real Asterisk: a follow-up booked with the disposition is dialled
by the scheduler (AMI Originate of ``Local/<number>@live-callback/n`` into the rendered
``hotline-callback`` context), the answered customer is queued and an agent takes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.live.rig import LiveRig
from tests.live.test_live_queue import dial_end, to_agent

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


async def test_a_follow_up_call_back_is_dialled_and_answered(rig: LiveRig) -> None:
    number = "13800000050"
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    caller = await to_agent(rig, number)
    await rig.events.wait(dial_end(caller, "ANSWER"), "the first answer", after=mark)
    await rig.hang_up(caller)
    await rig.daemon.ended_call(caller.uniqueid)
    mark = rig.events.mark()
    reply = await rig.daemon.api(
        "POST",
        f"/calls/{caller.uniqueid}/disposition",
        json={"code": "follow_up", "follow_up_due": datetime.now(UTC).isoformat()},
    )
    assert reply.status_code == 200, reply.text
    customer = await rig.events.wait(
        lambda m: (
            m.name == "Newchannel"
            and (m.get("Channel") or "").startswith(f"Local/{number}@live-callback-")
        ),
        "the call-back dialled",
        after=mark,
        limit_s=30,
    )
    session = await rig.events.wait(
        lambda m: m.name == "AGIExecStart" and m.get("Context") == "hotline-callback",
        "the daemon's call-back session",
        after=mark,
    )
    assert session.get("Uniqueid") == customer.get("Uniqueid")
    answered = await rig.events.wait(
        lambda m: (
            m.name == "DialEnd"
            and m.get("Uniqueid") == customer.get("Uniqueid")
            and m.get("DialStatus") == "ANSWER"
        ),
        "an agent taking the call-back",
        after=mark,
        limit_s=60,
    )
    assert (answered.get("DestChannel") or "").startswith("Local/1001@live-phones-")
    await rig.ami.action("Hangup", [("Channel", customer.get("Channel") or "")])

    async def done() -> bool:
        rows = rig.daemon.rows("select state, attempts from callbacks where number = ?", (number,))
        return rows == [("done", 1)]

    await rig.daemon.until(done, "the call-back marked done")
