"""Whole IVR calls over real TCP: our FastAGI server runs the runner, a scripted Asterisk answers.

The script is a list of ``(command Asterisk must receive, reply bytes)``; replies are written in
the recorded forms (shared/asterisk/transcripts/fastagi_session.txt). ``HANGUP_MID_PROMPT`` is
scenario D: the interrupted STREAM FILE's reply followed by the unsolicited HANGUP line.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from acd.asterisk.agi.router import Router
from acd.asterisk.aio.agi_server import AgiHandler, FastAgiServer
from acd.asterisk.aio.agi_session import AgiSession
from tests.asterisk.agi.agi_fake_asterisk import FakeAsterisk

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
OPEN_TIME = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday morning
CLOSED_TIME = dt.datetime(2026, 11, 22, 23, 30, tzinfo=SHANGHAI)  # Sunday night: all closed
EVENING = dt.datetime(2026, 11, 23, 20, 0, tzinfo=SHANGHAI)  # only "extended" (complaints) open

HANGUP_MID_PROMPT = b"200 result=-1 endpos=24160\nHANGUP\n"


def ok(result: str = "0", data: str | None = None, endpos: int | None = None) -> bytes:
    line = f"200 result={result}"
    if data is not None:
        line += f" ({data})"
    if endpos is not None:
        line += f" endpos={endpos}"
    return (line + "\n").encode()


def keys(digits: str) -> bytes:
    """GET DATA's answer when the caller keyed ``digits`` (ended by # or max digits)."""
    return ok(digits)


TIMEOUT = ok("", "timeout")  # GET DATA: the caller keyed nothing
MISSING_FILE = ok("-1", endpos=0)  # STREAM FILE of a sound file that does not exist


def pressed(key: str, endpos: int = 5000) -> bytes:
    """STREAM FILE interrupted by ``key``: its ASCII code."""
    return ok(str(ord(key)), endpos=endpos)


def played(endpos: int = 8000) -> bytes:
    return ok("0", endpos=endpos)


@dataclass
class CallRun:
    result: object = None
    commands: list[str] = field(default_factory=list)


def ticking_clock(start: float = 1000.0, step: float = 1.0) -> Callable[[], float]:
    """A clock that advances ``step`` per reading: deterministic seconds on the path."""
    counter = itertools.count()
    return lambda: start + step * next(counter)


async def run_call(
    handler: Callable[[AgiSession], Awaitable[object]],
    script: list[tuple[str, bytes]],
    *,
    agi_script: str = "ivr",
) -> CallRun:
    """Serve one FastAGI call with ``handler`` while the scripted Asterisk answers ``script``."""
    run = CallRun()
    done = asyncio.Event()

    async def serve(session: AgiSession) -> None:
        try:
            run.result = await handler(session)
        finally:
            done.set()

    route: AgiHandler = serve
    async with FastAgiServer(Router({"ivr": route}), port=0) as server:
        asterisk = await FakeAsterisk.connect(server.port, agi_script)
        for expected, reply in script:
            line = await asterisk.next_command()
            assert line is not None, f"session ended; Asterisk still expected {expected!r}"
            run.commands.append(line)
            assert line == expected
            await asterisk.send(reply)
        async with asyncio.timeout(10):
            await done.wait()
            extra = await asterisk.next_command()
            assert extra is None, f"unexpected command after the script: {extra!r}"
            await asterisk.send(asterisk.conn.hangup())
            asterisk.writer.close()
            await asterisk.writer.wait_closed()
    return run
