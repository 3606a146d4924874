"""One PJSIP agent on a real SIP phone: Debian's baresip registered as 1004 on 127.0.0.1,
answering the daemon's Dial; and its qualify results (ContactStatus, read class ``system``)
pausing the agent while the phone does not answer them (issue 16 item 5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.live.baresip import BARESIP, Baresip
from tests.live.rig import LiveRig, is_event
from tests.live.test_live_queue import dial_end, to_agent

pytestmark = [
    pytest.mark.live,
    pytest.mark.asyncio,
    pytest.mark.skipif(BARESIP is None, reason="needs Debian's baresip (apt-get install baresip)"),
]


@pytest_asyncio.fixture
async def phone(rig: LiveRig, tmp_path: Path) -> AsyncIterator[Baresip]:
    mark = rig.events.mark()
    phone = Baresip(tmp_path / "baresip")
    await phone.start()
    try:
        await rig.events.wait(
            lambda m: (
                m.name == "ContactStatus"
                and m.get("EndpointName") == "1004"
                and m.get("ContactStatus") == "Reachable"
            ),
            "baresip registered and qualified",
            after=mark,
        )
        yield phone
    finally:
        await phone.stop()


async def test_a_sip_phone_answers_the_daemons_dial(rig: LiveRig, phone: Baresip) -> None:
    await rig.daemon.login("1004")
    mark = rig.events.mark()
    caller = await to_agent(rig, "13800000060")
    answered = await rig.events.wait(dial_end(caller, "ANSWER"), "baresip answering", after=mark)
    assert (answered.get("DestChannel") or "").startswith("PJSIP/1004-")
    await asyncio.sleep(2)  # the conversation: the phone's tone is recorded
    await rig.hang_up(caller)
    row = await rig.daemon.ended_call(caller.uniqueid)
    assert (row["outcome"], row["agent_id"]) == ("answered", "1004")
    await rig.daemon.stop()
    ((size,),) = rig.daemon.rows(
        "select size_bytes from recordings where id = ?", (row["recording_id"],)
    )
    assert size > 8000  # about a second of 8 kHz audio at least, not just a WAV header


async def test_a_phone_that_stops_answering_qualify_pauses_its_agent(
    rig: LiveRig, phone: Baresip
) -> None:
    await rig.daemon.login("1004")

    async def agent() -> tuple[str, str | None]:
        row = (await rig.daemon.agents())["1004"]
        return row["state"], row["pause_reason"]

    assert await agent() == ("ready", None)
    mark = rig.events.mark()
    phone.pause()  # deaf to OPTIONS, still registered
    await rig.events.wait(
        is_event("ContactStatus", EndpointName="1004", ContactStatus="Unreachable"),
        "qualify failing",
        after=mark,
    )

    async def paused() -> bool:
        return await agent() == ("paused", "phone-unreachable")

    await rig.daemon.until(paused, "the agent paused for the phone")
    mark = rig.events.mark()
    phone.pause(False)
    await rig.events.wait(
        is_event("ContactStatus", EndpointName="1004", ContactStatus="Reachable"),
        "qualify answered again",
        after=mark,
    )

    async def ready() -> bool:
        return await agent() == ("ready", None)

    await rig.daemon.until(ready, "the agent ready again")
    await rig.daemon.stop()
    log = rig.daemon.rows("select state, reason from agent_state_log where agent_id = '1004'")
    assert ("paused", "phone-unreachable") in log
