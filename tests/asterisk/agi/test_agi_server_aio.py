"""FastAgiServer over real loopback TCP, with our client-role core playing Asterisk.

``asyncio.timeout(SAFETY)`` only turns a hang into a failure; no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest
from agi_fake_asterisk import FakeAsterisk, closed_by_server

from acd.asterisk.aio.agi_server import AgiRouter, FastAgiServer
from acd.asterisk.aio.agi_session import (
    AgiCommandTimeout,
    AgiConnectionLost,
    AgiSession,
    ChannelHungUp,
)

SAFETY = 10.0


@pytest.mark.asyncio
async def test_script_runs_and_gets_typed_results(harness: tuple[AgiRouter, FastAgiServer]) -> None:
    router, server = harness
    results: asyncio.Future[tuple[object, ...]] = asyncio.get_running_loop().create_future()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        await session.answer()
        number = await session.get_variable("CALLERID(num)")
        missing = await session.get_variable("NO_SUCH_VARIABLE")
        key = await session.stream_file("tt-monkeys", "123")
        await session.set_variable("HOTLINE_HANDLED", "1")
        results.set_result((session.env.channel, session.args, number, missing, key.digit))

    async with asyncio.timeout(SAFETY):
        fake = await FakeAsterisk.connect(server.port)
        for expected in [
            "ANSWER",
            "GET VARIABLE CALLERID(num)",
            "GET VARIABLE NO_SUCH_VARIABLE",
            'STREAM FILE tt-monkeys "123"',
            'SET VARIABLE HOTLINE_HANDLED "1"',
        ]:
            assert await fake.next_command() == expected
            await fake.send(_reply_for(fake, expected))
        await fake.finish()
        assert await results == (
            "Local/5550200@caller-sim-000001aa;1",
            ("hotline",),
            "5550200",
            None,
            "1",
        )


@pytest.mark.asyncio
async def test_an_ended_session_is_freed_without_the_cycle_collector(
    harness: tuple[AgiRouter, FastAgiServer],
) -> None:
    """A FastAGI connection that ended is freed by reference counting: none waits for a full
    collection (CPython 3.11's selector transport refers to itself; at 200 calls/s thousands
    of them made each full collection ~150 ms: ``agi_server._unlink``). With the collector
    off, the session's transport must still go."""
    router, server = harness
    transports: list[weakref.ref[asyncio.BaseTransport]] = []

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        transports.append(weakref.ref(session._writer.transport))
        await session.answer()

    gc.collect()
    gc.disable()
    try:
        async with asyncio.timeout(SAFETY):
            fake = await FakeAsterisk.connect(server.port)
            assert await fake.next_command() == "ANSWER"
            await fake.send(_reply_for(fake, "ANSWER"))
            await fake.finish()
            while transports[0]() is not None:  # the server's side closing: a few loop turns
                await asyncio.sleep(0.01)
    finally:
        gc.enable()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("pairs", "mset_result", "expected"),
    [
        (
            (("A", "1"), ("B", "2")),
            "0",
            ['EXEC MSet "A=1,B=2"'],
        ),
        (  # an Asterisk without MSet (-2): one SET VARIABLE each, nothing lost
            (("A", "1"), ("B", "2")),
            "-2",
            ['EXEC MSet "A=1,B=2"', 'SET VARIABLE A "1"', 'SET VARIABLE B "2"'],
        ),
        (  # a value MSet would split: SET VARIABLE each, never MSet
            (("A", "x,y"), ("B", "2")),
            None,
            ['SET VARIABLE A "x,y"', 'SET VARIABLE B "2"'],
        ),
    ],
)
async def test_set_variables_in_one_round_trip_or_one_each(
    harness: tuple[AgiRouter, FastAgiServer],
    pairs: tuple[tuple[str, str], ...],
    mset_result: str | None,
    expected: list[str],
) -> None:
    router, server = harness
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @router.route("ivr")
    async def script(session: AgiSession) -> None:
        await session.set_variables(*pairs)
        done.set_result(None)

    async with asyncio.timeout(SAFETY):
        fake = await FakeAsterisk.connect(server.port)
        seen = []
        for _ in expected:
            line = await fake.next_command()
            seen.append(line)
            result = mset_result if line.startswith("EXEC MSet") else "1"
            await fake.send(fake.conn.reply(200, result or "0", None, None))
        await done
        await fake.finish()
    assert seen == expected


def _reply_for(fake: FakeAsterisk, command: str) -> bytes:
    replies = {
        "ANSWER": ("0", None, None),
        "GET VARIABLE CALLERID(num)": ("1", "5550200", None),
        "GET VARIABLE NO_SUCH_VARIABLE": ("0", None, None),
        'STREAM FILE tt-monkeys "123"': ("49", None, 10240),
    }
    result, data, endpos = replies.get(command, ("1", None, None))
    return fake.conn.reply(200, result, data, endpos)


@pytest.mark.asyncio
async def test_hangup_while_idle_is_noticed(harness: tuple[AgiRouter, FastAgiServer]) -> None:
    router, server = harness
    outcome: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        await session.answer()
        await session.hangup_event.wait()  # the script is busy elsewhere, not in a command
        try:
            await session.stream_file("beep")
        except ChannelHungUp:
            outcome.set_result(await session.get_variable("CHANNEL"))

    async with asyncio.timeout(SAFETY):
        fake = await FakeAsterisk.connect(server.port)
        assert await fake.next_command() == "ANSWER"
        await fake.send(fake.conn.reply())
        await fake.send(fake.conn.hangup())
        # STREAM FILE is never sent after the hang-up; GET VARIABLE still is.
        assert await fake.next_command() == "GET VARIABLE CHANNEL"
        await fake.send(fake.conn.reply(200, "1", "Local/x;1"))
        await fake.finish()
        assert await outcome == "Local/x;1"


@pytest.mark.asyncio
async def test_511_reply_raises_channel_hung_up(harness: tuple[AgiRouter, FastAgiServer]) -> None:
    router, server = harness
    outcome: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        try:
            await session.wait_for_digit(100)
        except ChannelHungUp:
            outcome.set_result(session.hung_up)

    async with asyncio.timeout(SAFETY):
        fake = await FakeAsterisk.connect(server.port)
        assert await fake.next_command() == "WAIT FOR DIGIT 100"
        await fake.send(fake.conn.reply_dead_channel())
        await fake.finish()
        assert await outcome is True


@pytest.mark.asyncio
async def test_command_cancelled_by_the_script_keeps_replies_aligned(
    harness: tuple[AgiRouter, FastAgiServer],
) -> None:
    router, server = harness
    command_seen = asyncio.Event()
    outcome: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        waiting = asyncio.create_task(session.wait_for_digit(5000))
        await command_seen.wait()
        waiting.cancel()  # e.g. the script's own timeout around a prompt
        await asyncio.wait([waiting])
        outcome.set_result(await session.get_variable("X"))

    async with asyncio.timeout(SAFETY):
        fake = await FakeAsterisk.connect(server.port)
        assert await fake.next_command() == "WAIT FOR DIGIT 5000"
        command_seen.set()
        await fake.send(fake.conn.reply(200, "50"))  # the late reply must not answer GET VARIABLE
        assert await fake.next_command() == "GET VARIABLE X"
        await fake.send(fake.conn.reply(200, "1", "x-value"))
        await fake.finish()
        assert await outcome == "x-value"


@pytest.mark.asyncio
async def test_eof_mid_command_raises(harness: tuple[AgiRouter, FastAgiServer]) -> None:
    router, server = harness
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        try:
            await session.stream_file("tt-monkeys")
        except AgiConnectionLost as exc:
            outcome.set_result(exc)
            assert session.closed
            with pytest.raises(AgiConnectionLost):
                await session.noop()

    async with asyncio.timeout(SAFETY):
        fake = await FakeAsterisk.connect(server.port)
        assert await fake.next_command() == 'STREAM FILE tt-monkeys ""'
        fake.writer.close()
        await fake.writer.wait_closed()
        assert "closed" in str(await outcome)


@pytest.mark.asyncio
async def test_command_timeout_drops_the_connection() -> None:
    router = AgiRouter()
    outcome: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        try:
            await session.answer()
        except AgiCommandTimeout as exc:
            outcome.set_result(exc)

    async with (
        asyncio.timeout(SAFETY),
        FastAgiServer(router, port=0, command_timeout_s=0.2) as server,
    ):
        fake = await FakeAsterisk.connect(server.port)
        assert await fake.next_command() == "ANSWER"
        assert isinstance(await outcome, AgiCommandTimeout)
        assert await closed_by_server(fake.reader)
