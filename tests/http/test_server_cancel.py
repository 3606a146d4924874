"""The HTTP server cancelled mid-serve (a crashed task of the daemon; the test harnesses' kill)
leaves nothing of its socket in the event loop. It used to: uvicorn never closed its asyncio
server, the socket was closed under it, and the selector kept watching the dead descriptor, so
the next socket given that number (a restarted daemon's FastAGI listener in the same process)
was never polled and its callers waited unanswered in ``AGI()``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest
from fastapi import FastAPI

from acd.http import HttpServer
from tests.http.api_harness import running_api


async def accepts(listener: socket.socket) -> bool:
    """Whether the event loop hears a connection to ``listener`` (within 5 s)."""
    loop = asyncio.get_running_loop()
    # waiting first, so the connection must come through the loop's selector (an accept of
    # one already queued succeeds at once, without it)
    accepting = asyncio.create_task(loop.sock_accept(listener))
    await asyncio.sleep(0)
    client = socket.create_connection(listener.getsockname())
    try:
        async with asyncio.timeout(5):
            conn, _ = await accepting
        conn.close()
        return True
    except TimeoutError:
        return False
    finally:
        client.close()


@pytest.mark.asyncio
async def test_listeners_after_a_cancelled_http_server_are_heard(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        server = HttpServer(FastAPI(), api.ctx, "127.0.0.1", 0)
        server.bind()
        serving = asyncio.create_task(server.serve())
        async with asyncio.timeout(10):
            while not server.listening:
                await asyncio.sleep(0.01)
        assert server._sock is not None
        number = server._sock.fileno()  # the descriptor a later socket is given again
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        # the kernel hands out the lowest free descriptor: the first of these takes the number
        # the HTTP server's socket had
        listeners = []
        try:
            for _ in range(3):
                listener = socket.socket()
                listener.bind(("127.0.0.1", 0))
                listener.listen(8)
                listener.setblocking(False)
                listeners.append(listener)
            assert number in [listener.fileno() for listener in listeners]
            assert [await accepts(listener) for listener in listeners] == [True, True, True]
        finally:
            for listener in listeners:
                listener.close()
