"""Asterisk restarts under a running daemon (``core restart now``): every channel goes, both of
the daemon's links to it (AMI, and Asterisk's end of FastAGI) drop. The daemon reconnects AMI,
resynchronises its agents' phones and serves the next caller without a restart of its own.

This test restarts the Asterisk it runs against: run it only on a rig of your own."""

from __future__ import annotations

import contextlib

import pytest

from acd.asterisk.aio.ami_session import AmiConnectionLost, AmiTimeout
from tests.live.rig import LiveRig, is_event
from tests.live.test_live_queue import answered_call, dial_end, to_agent

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


async def test_the_daemon_serves_callers_after_asterisk_restarts(rig: LiveRig) -> None:
    await rig.daemon.login("1001")
    mark = rig.events.mark()
    talking = await to_agent(rig, "13800000030")
    await rig.events.wait(dial_end(talking, "ANSWER"), "the agent's answer", after=mark)
    mark = rig.events.mark()
    # the reply may never come: the link drops (or the action times out) with the restart
    with contextlib.suppress(AmiConnectionLost, AmiTimeout):
        await rig.ami.action("Command", [("Command", "core restart now")], timeout=5)
    # the suite's own AMI client reconnects too; Asterisk announces it is up again
    await rig.events.wait(is_event("FullyBooted"), "Asterisk back", after=mark, limit_s=90)

    async def ami_back() -> bool:
        metrics = (await rig.daemon.api("GET", "/metrics")).text.splitlines()
        return "hotline_ami_up 1" in metrics and "hotline_ami_reconnects_total 0" not in metrics

    await rig.daemon.until(ami_back, "the daemon's AMI logged in again", limit_s=30)
    # the conversation the restart cut is closed, answered by 1001, and 1001 is free again
    row = await rig.daemon.ended_call(talking.uniqueid)
    assert (row["outcome"], row["agent_id"]) == ("answered", "1001")

    async def free() -> bool:
        return (await rig.daemon.agents())["1001"]["state"] == "ready"

    await rig.daemon.until(free, "1001 ready after the cut conversation", limit_s=60)
    row = await answered_call(
        rig, "13800000031", "Local/1001@live-phones-", "the agent's answer after the restart"
    )
    assert (row["outcome"], row["agent_id"]) == ("answered", "1001")
