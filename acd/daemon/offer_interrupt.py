"""Ending a waiting caller's blocking AGI command at once: AMI ``PlayDTMF`` with ``Receive: yes``.

A waiting caller sits in one long blocking command (``WAIT FOR DIGIT`` under music on hold, an
announcement's ``STREAM FILE`` / ``SAY NUMBER`` with the interrupt digit among its escape
digits, the call-back prompt's ``GET DATA``). When an offer (or a request, or the daemon's
hand-back) arrives for the caller, the daemon queues the interrupt digit on the caller's channel
as if the caller pressed it: the running command answers with that digit and the call flow goes
on to ``EXEC Dial`` (docs/offer-delivery.md).

RECORDED tests/fixtures/asterisk-dev/q1_playdtmf_results.json (Asterisk 22.10.1): every digit
wait answers within 0.4-1.9 ms with the digit (``WAIT FOR DIGIT``/``STREAM FILE``/``SAY``
``result=68`` for "D", ``GET DATA`` ``result=D``); a command whose escape digits lack it keeps
playing (b2, c2). A digit queued while no digit wait runs reaches a wait that starts within
100 ms (g_idle_then_wait: 0/50/90 ms delivered, 150 ms or later lost), so the digit is sent only
once the command line was written, and sent again if the command has not answered after
``RESEND_AFTER_S`` (Asterisk slow to start it): a second digit is harmless, the waiter treats
any interrupt digit as "look at the call's signals", never as a meaning of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from acd.asterisk.agi.replies import AgiReply
from acd.asterisk.aio.agi_session import AgiSession
from acd.asterisk.aio.ami_session import AmiError
from acd.daemon.ami_port import LinkedAmi
from acd.logging import get_logger

log = get_logger(__name__)

#: Not on a normal phone's keypad and in no prompt of the IVR: a caller cannot send it by
#: mistake, and a "D" the caller's own phone sends is harmless (the waiter only looks again).
INTERRUPT_DIGIT = "D"
#: Longer than Asterisk's 100 ms emulated DTMF END (main/channel.c
#: AST_DEFAULT_EMULATE_DTMF_DURATION), within which a digit queued before the command started
#: still reaches it (RECORDED g_idle_then_wait).
RESEND_AFTER_S = 0.25
PLAY_DTMF_TIMEOUT_S = 1.0


class Interrupter:
    """Sends the interrupt digit over the daemon's AMI link (None: no AMI, e.g. in tests)."""

    def __init__(self, ami: Callable[[], LinkedAmi | None]) -> None:
        self._ami = ami
        self.sent = 0  # PlayDTMF actions Asterisk accepted
        self.failed = 0  # refused or not sent (AMI down, channel gone)

    @property
    def available(self) -> bool:
        """True while AMI is logged in: waits may then be long (no polling)."""
        ami = self._ami()
        return ami is not None and ami.connected

    async def interrupt(self, channel: str) -> bool:
        """Queue the interrupt digit on ``channel``; False when AMI is down or Asterisk refused
        it (``Channel not found``: the caller hung up meanwhile)."""
        ami = self._ami()
        if ami is None or not ami.connected:
            self.failed += 1
            return False
        headers = (("Channel", channel), ("Digit", INTERRUPT_DIGIT), ("Receive", "yes"))
        try:
            result = await ami.action("PlayDTMF", headers, timeout=PLAY_DTMF_TIMEOUT_S)
        except (AmiError, TimeoutError) as exc:
            log.info("offer_interrupt_not_sent", channel=channel, error=str(exc))
            self.failed += 1
            return False
        if result.ok:
            self.sent += 1
        else:
            self.failed += 1
        return result.ok


async def hold(
    session: AgiSession, line: str, wake: asyncio.Event, interrupter: Interrupter
) -> AgiReply:
    """Run ``line`` (a command that waits for a digit) to its end, or, once ``wake`` is set,
    interrupt it and return its reply. When the interrupt cannot be sent (AMI down, the channel
    gone) the command ends by itself: its own timeout, the end of the prompt, the hang-up."""
    before = session.written
    command = asyncio.ensure_future(session.command(line))
    woke = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait((command, woke), return_when=asyncio.FIRST_COMPLETED)
        if not command.done():
            await session.wait_written(before + 1)  # the digit must not overtake the command
            while not command.done():
                if not await interrupter.interrupt(session.env.channel):
                    break
                await asyncio.wait((command,), timeout=RESEND_AFTER_S)
        return await command
    finally:
        for task in (woke, command):
            task.cancel()
        await asyncio.gather(woke, command, return_exceptions=True)
