"""AMI ``PlayDTMF`` in the simulator (apps/app_senddtmf.c ``manager_play_dtmf``).

Replies as RECORDED in q1_playdtmf.txt: ``DTMF successfully queued``, ``Channel not found``
(checked first), ``No digit specified``; ``Could not convert Duration parameter`` is the
source's wording for a Duration that is not a number. Without ``Receive`` the manager thread
plays the digit out for at least 100 ms before it answers (RECORDED: 101 ms round trip).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from acd.asterisk.ami.message import Message
from acd.sim.ami_queue_actions import ack, error, true
from acd.sim.dtmf import MIN_PLAYED_MS

if TYPE_CHECKING:
    from acd.sim.ami_actions import SimHost
    from acd.sim.ami_server import AmiSession


async def play_dtmf(host: SimHost, s: AmiSession, action: Message) -> None:
    channel = action.get("Channel") or ""
    digit = action.get("Digit") or ""
    duration_text = (action.get("Duration") or "").strip()
    if not any(c.name == channel for c in host.pbx.channels()):
        error(s, action, "Channel not found")
        return
    if not digit:
        error(s, action, "No digit specified")
        return
    if duration_text and not duration_text.isdigit():
        error(s, action, "Could not convert Duration parameter")
        return
    duration_ms = int(duration_text or 0)
    receive = true(action.get("Receive"))
    if not receive:
        await asyncio.sleep(max(duration_ms, MIN_PLAYED_MS) / 1000 / host.time_scale)
        host.catch_up()
    if not host.pbx.play_dtmf(host.now(), channel, digit[0], duration_ms, receive):
        error(s, action, "Channel not found")  # hung up while the digit was being played
        return
    ack(host, s, action, "DTMF successfully queued")
