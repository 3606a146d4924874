"""``acd.daemon.offer_interrupt.hold``: the interrupt is sent only after the command line was
written, again while the command has not answered (a digit queued before Asterisk started it
can be lost: RECORDED q1 g_idle_then_wait), and not at all when nothing woke the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

import pytest

from acd.asterisk.agi.replies import AgiReply, parse_reply
from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.offer_interrupt import Interrupter, hold

INTERRUPTED = parse_reply(("200 result=68",))
TIMED_OUT = parse_reply(("200 result=0",))


@dataclass
class Env:
    channel: str = "Local/5550100@caller-sim-00000001;2"


class FakeSession:
    """The parts of ``AgiSession`` that ``hold`` uses; the test plays Asterisk."""

    def __init__(self) -> None:
        self.env = Env()
        self.written = 0
        self._written = asyncio.Event()
        self.reply: asyncio.Future[AgiReply] = asyncio.get_running_loop().create_future()
        self.lines: list[str] = []

    async def command(self, line: str) -> AgiReply:
        self.lines.append(line)
        return await self.reply

    def write(self) -> None:
        self.written += 1
        self._written.set()

    async def wait_written(self, count: int) -> None:
        while self.written < count:
            self._written.clear()
            await self._written.wait()


@dataclass
class Result:
    ok: bool


@dataclass
class FakeAmi:
    """PlayDTMF is accepted; ``on_play`` decides what the running command sees."""

    session: FakeSession
    lost: int = 0  # the first digits are lost (queued before the command started)
    connected: bool = True
    played: list[tuple[tuple[str, str], ...]] = field(default_factory=list)

    async def action(
        self,
        name: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - AmiClient's signature
    ) -> Result:
        del timeout
        assert name == "PlayDTMF"
        self.played.append(tuple(headers))
        if len(self.played) > self.lost and not self.session.reply.done():
            self.session.reply.set_result(INTERRUPTED)
        return Result(True)


def _session(fake: FakeSession) -> AgiSession:
    return cast(AgiSession, fake)


@pytest.mark.asyncio
async def test_the_digit_waits_for_the_command_line_then_ends_the_command() -> None:
    fake = FakeSession()
    ami = FakeAmi(fake)
    wake = asyncio.Event()
    task = asyncio.create_task(
        hold(_session(fake), "WAIT FOR DIGIT 10000", wake, Interrupter(lambda: ami))
    )
    await asyncio.sleep(0)
    wake.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert ami.played == []  # not written yet: a digit now could be lost
    fake.write()
    assert await task is INTERRUPTED
    assert ami.played == [(("Channel", fake.env.channel), ("Digit", "D"), ("Receive", "yes"))]


@pytest.mark.asyncio
async def test_a_lost_digit_is_sent_again() -> None:
    fake = FakeSession()
    ami = FakeAmi(fake, lost=1)
    wake = asyncio.Event()
    wake.set()
    task = asyncio.create_task(
        hold(_session(fake), "WAIT FOR DIGIT 10000", wake, Interrupter(lambda: ami))
    )
    await asyncio.sleep(0)
    fake.write()
    assert await task is INTERRUPTED
    assert len(ami.played) == 2


@pytest.mark.asyncio
async def test_without_ami_the_command_ends_by_itself() -> None:
    fake = FakeSession()
    ami = FakeAmi(fake, connected=False)
    interrupter = Interrupter(lambda: ami)
    wake = asyncio.Event()
    wake.set()
    task = asyncio.create_task(hold(_session(fake), "WAIT FOR DIGIT 500", wake, interrupter))
    await asyncio.sleep(0)
    fake.write()
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()  # no digit could be sent: the wait runs to its end
    fake.reply.set_result(TIMED_OUT)
    assert await task is TIMED_OUT
    assert (ami.played, interrupter.sent, interrupter.failed) == ([], 0, 1)


@pytest.mark.asyncio
async def test_nothing_is_sent_when_nothing_woke_the_caller() -> None:
    fake = FakeSession()
    ami = FakeAmi(fake)
    task = asyncio.create_task(
        hold(_session(fake), "WAIT FOR DIGIT 500", asyncio.Event(), Interrupter(lambda: ami))
    )
    await asyncio.sleep(0)
    fake.write()
    fake.reply.set_result(TIMED_OUT)
    assert await task is TIMED_OUT
    assert ami.played == []
