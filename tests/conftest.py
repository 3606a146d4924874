"""Shared fixtures: real services on this machine (Mosquitto, PostgreSQL) and free ports."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
from collections.abc import AsyncIterator

from hypothesis import HealthCheck, settings

# Property tests judge what is parsed, never how fast: these machines are shared and noisy, so
# no deadline. In CI the examples are derandomized (the same run every time).
settings.register_profile(
    "hotline",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("hotline")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def mosquitto(port: int) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A private broker on ``port``, listening once this yields; killed on the way out."""
    proc = subprocess.Popen(  # noqa: ASYNC220 (a fast fork; the test's own loop waits)
        ["mosquitto", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        async with asyncio.timeout(10):
            while True:  # no readiness signal from mosquitto but its port
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    await writer.wait_closed()
                    break
                assert proc.poll() is None, "mosquitto exited at start"
                await asyncio.sleep(0.05)
        yield proc
    finally:
        proc.kill()
        await asyncio.to_thread(proc.wait)
