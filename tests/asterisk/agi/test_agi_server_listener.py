"""FastAgiServer's listener: unknown routes, peer allowlist, garbage peers, close(), backlog.

Real loopback TCP; ``asyncio.timeout(SAFETY)`` only turns a hang into a failure.
"""

from __future__ import annotations

import asyncio

import pytest
from agi_fake_asterisk import FakeAsterisk, closed_by_server
from structlog.testing import capture_logs

from acd.asterisk.aio.agi_server import AgiRouter, FastAgiServer
from acd.asterisk.aio.agi_session import AgiSession

SAFETY = 10.0


@pytest.mark.asyncio
async def test_unknown_route_logs_and_closes(
    harness: tuple[AgiRouter, FastAgiServer],
) -> None:
    _, server = harness
    with capture_logs() as logs:
        async with asyncio.timeout(SAFETY):
            fake = await FakeAsterisk.connect(server.port, script="nope?x=1")
            assert await fake.next_command() == "VERBOSE \"hotline: no FastAGI route 'nope'\" 1"
            await fake.send(fake.conn.reply(200, "1"))
            await fake.finish()
    (no_route,) = [e for e in logs if e["event"] == "fastagi_no_route"]
    assert no_route["log_level"] == "warning"
    assert no_route["script"] == "nope"


@pytest.mark.asyncio
async def test_disallowed_peer_is_closed() -> None:
    router = AgiRouter()
    called = asyncio.Event()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        called.set()

    with capture_logs() as logs:
        async with (
            asyncio.timeout(SAFETY),
            FastAgiServer(router, port=0, allowed_peers=("10.0.0.0/8", "::1")) as server,
        ):
            fake = await FakeAsterisk.connect(server.port)
            assert await closed_by_server(fake.reader)
            assert not called.is_set()
    (refused,) = [e for e in logs if e["event"] == "fastagi_session_refused"]
    assert refused["peer"] == "127.0.0.1"
    assert refused["why"] == "peer not in allowed_peers"
    assert refused["log_level"] == "warning"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "garbage",
    [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes(range(256)), b"agi_network: yes\n\xff\xfe\n"],
)
async def test_garbage_peer_is_rejected_and_server_keeps_serving(
    harness: tuple[AgiRouter, FastAgiServer], garbage: bytes
) -> None:
    router, server = harness
    served = asyncio.Event()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        await session.noop()
        served.set()

    with capture_logs() as logs:
        async with asyncio.timeout(SAFETY):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(garbage)
            assert await closed_by_server(reader)
            writer.close()
            await writer.wait_closed()
            fake = await FakeAsterisk.connect(server.port)
            assert await fake.next_command() == "NOOP"
            await fake.send(fake.conn.reply())
            await fake.finish()
            await served.wait()
    (rejected,) = [e for e in logs if e["event"] == "fastagi_peer_rejected"]
    assert rejected["log_level"] == "warning"
    assert rejected["peer"] == "127.0.0.1"
    assert rejected["error"]


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["close", "cancel_serve_forever"])
async def test_close_cancels_running_sessions(how: str) -> None:
    router = AgiRouter()
    started, cancelled = asyncio.Event(), asyncio.Event()

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = FastAgiServer(router, port=0)
    await server.start()
    async with asyncio.timeout(SAFETY), asyncio.TaskGroup() as group:
        serving = group.create_task(server.serve_forever())
        fake = await FakeAsterisk.connect(server.port)
        await started.wait()
        assert server.active_sessions == 1
        if how == "close":
            await server.close()
        else:
            serving.cancel()  # e.g. the daemon's TaskGroup shutting down
            await asyncio.wait([serving])
        assert cancelled.is_set()
        assert server.active_sessions == 0
        assert await fake.next_command() is None
        serving.cancel()


@pytest.mark.asyncio
async def test_sixty_simultaneous_connects_are_all_served(
    harness: tuple[AgiRouter, FastAgiServer],
) -> None:
    router, server = harness
    handled: list[str] = []

    @router.route("ivr")
    async def ivr(session: AgiSession) -> None:
        await session.set_variable("HOTLINE_HANDLED", "1")
        handled.append(session.params["n"])

    async def call(n: int) -> str | None:
        fake = await FakeAsterisk.connect(server.port, script=f"ivr?n={n}")
        command = await fake.next_command()
        await fake.send(fake.conn.reply(200, "1"))
        await fake.finish()
        return command

    async with asyncio.timeout(SAFETY * 3):
        commands = await asyncio.gather(*(call(n) for n in range(60)))
    assert commands == ['SET VARIABLE HOTLINE_HANDLED "1"'] * 60
    assert sorted(handled, key=int) == [str(n) for n in range(60)]
