"""What protects the FastAGI port: the dialplan's key, the session cap, the idle timeout, and
running out of file descriptors (in a subprocess with a lowered RLIMIT_NOFILE).

Real loopback TCP; ``asyncio.timeout(SAFETY)`` only turns a hang into a failure.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from agi_fake_asterisk import FakeAsterisk, closed_by_server
from structlog.testing import capture_logs

from acd.asterisk.aio.agi_guard import LogLimiter, key_matches, session_cap
from acd.asterisk.aio.agi_server import AgiRouter, FastAgiServer
from acd.asterisk.aio.agi_session import AgiSession

SAFETY = 10.0
KEY = "b9EuQ1rV6tNw4yXa0sJg3kPz"
REPO = Path(__file__).resolve().parents[3]


def _router(ran: list[str], hold: asyncio.Event | None = None) -> AgiRouter:
    router = AgiRouter()

    @router.route("agent")
    async def agent(session: AgiSession) -> None:
        ran.append(session.params.get("action", ""))
        if hold is not None:
            await hold.wait()

    return router


def test_key_cap_and_log_limiter_rules() -> None:
    assert key_matches(None, {})
    assert key_matches(KEY, {"key": KEY, "action": "login"})
    assert not key_matches(KEY, {"action": "login"})
    assert not key_matches(KEY, {"key": KEY[:-1]})
    assert not key_matches(KEY, {"key": ""})  # an unsubstituted ${HOTLINE_AGI_KEY}
    assert session_cap(2000, 1024) == 768
    assert session_cap(100, 1024) == 100
    assert session_cap(2000, 64) == 32
    assert session_cap(5, None) == 5
    limiter = LogLimiter(interval_s=60.0, max_keys=2)
    assert limiter.check("a", 0.0) == 0
    assert limiter.check("a", 1.0) is None
    assert limiter.check("a", 2.0) is None
    assert limiter.check("a", 61.0) == 2  # two suppressed since the last line
    assert limiter.check("b", 61.0) == 0
    assert limiter.check("c", 62.0) == 0  # "a" forgotten: the bound holds
    assert limiter.check("a", 63.0) == 0


@pytest.mark.asyncio
async def test_sessions_without_the_key_are_refused_and_logged_once() -> None:
    ran: list[str] = []
    with capture_logs() as logs:
        async with asyncio.timeout(SAFETY), FastAgiServer(_router(ran), port=0, key=KEY) as server:
            for script in ("agent?action=pause", "agent?action=pause&key=wrong", "agent?key="):
                fake = await FakeAsterisk.connect(server.port, script=script)
                assert await closed_by_server(fake.reader)
            fake = await FakeAsterisk.connect(server.port, script=f"agent?action=login&key={KEY}")
            await fake.finish()
    assert ran == ["login"]  # a forged session never reached the feature code
    assert server.refused == 3
    refused = [e for e in logs if e["event"] == "fastagi_session_refused"]
    assert len(refused) == 1  # once per peer and interval, not once per attempt
    assert refused[0]["why"] == "missing or wrong key"
    assert all(KEY not in json.dumps(e, default=str) for e in logs)  # the key is never logged
    started = [e for e in logs if e["event"] == "fastagi_session_started"]
    assert [e["script"] for e in started] == ["agent"]


@pytest.mark.asyncio
async def test_connections_beyond_the_cap_are_closed_at_once() -> None:
    ran: list[str] = []
    hold = asyncio.Event()
    with capture_logs() as logs:
        async with (
            asyncio.timeout(SAFETY),
            FastAgiServer(_router(ran, hold), port=0, max_sessions=2) as server,
        ):
            first = await FakeAsterisk.connect(server.port, script="agent?action=a")
            second = await FakeAsterisk.connect(server.port, script="agent?action=b")
            while len(ran) < 2:
                await asyncio.sleep(0.01)
            extra = [
                await FakeAsterisk.connect(server.port, script="agent?action=c") for _ in range(5)
            ]
            for fake in extra:
                assert await closed_by_server(fake.reader)
            assert server.active_sessions == 2
            hold.set()
            await first.finish()
            await second.finish()
            while server.active_sessions:
                await asyncio.sleep(0.01)
            late = await FakeAsterisk.connect(server.port, script="agent?action=d")
            await late.finish()  # room again once the others ended
    assert ran == ["a", "b", "d"]
    assert server.refused == 5
    (line,) = [e for e in logs if e["event"] == "fastagi_session_refused"]
    assert line["why"] == "too many sessions"


@pytest.mark.asyncio
async def test_a_silent_peer_is_dropped_after_the_idle_timeout() -> None:
    ran: list[str] = []
    async with (
        asyncio.timeout(SAFETY),
        FastAgiServer(_router(ran), port=0, environment_timeout_s=0.3, max_sessions=1) as server,
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        assert await closed_by_server(reader)
        assert time.monotonic() - started >= 0.25
        writer.close()
        while server.active_sessions:
            await asyncio.sleep(0.01)
        fake = await FakeAsterisk.connect(server.port, script="agent?action=login")
        await fake.finish()  # the slot was freed
    assert ran == ["login"]


CHILD = r"""
import asyncio, json, os, resource, socket, sys
import uvicorn
from acd import logging as hlog
from acd.asterisk.aio.agi_server import AgiRouter, FastAgiServer

resource.setrlimit(resource.RLIMIT_NOFILE, (128, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
hlog.configure("json", "info", stream=sys.stderr)

async def health(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

async def main():
    server = FastAgiServer(AgiRouter(), port=0, environment_timeout_s=0.5)
    await server.start()
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(64)
    web = uvicorn.Server(uvicorn.Config(health, log_config=None, lifespan="off"))
    serving = asyncio.create_task(web.serve(sockets=[sock]))
    loop = asyncio.get_running_loop()
    print(json.dumps({"agi": server.port, "http": sock.getsockname()[1],
                      "max_sessions": server.max_sessions}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "fill"
    fillers = []
    while True:
        try:
            fillers.append(os.open("/dev/null", os.O_RDONLY))
        except OSError:
            break
    print("full", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "release"
    for fd in fillers:
        os.close(fd)
    print("released", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # "quit"
    web.should_exit = True
    await serving
    await server.close()

asyncio.run(main())
"""


@pytest.mark.slow
def test_out_of_descriptors_pauses_accepting_without_a_log_flood(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    conns: list[socket.socket] = []
    try:
        ports = json.loads(child.stdout.readline())
        assert ports["max_sessions"] == 96  # 128 descriptors, a quarter kept for the rest
        child.stdin.write("fill\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "full"
        for _ in range(40):  # Asterisk keeps connecting; the kernel queues them
            conns.append(socket.create_connection(("127.0.0.1", ports["agi"]), timeout=5))
        time.sleep(2.0)  # accept() fails with EMFILE all this time
        child.stdin.write("release\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "released"
        reply = httpx.get(f"http://127.0.0.1:{ports['http']}/", timeout=5)
        assert reply.status_code == 200  # the HTTP side works again at once
        for conn in conns:  # the queued connections are accepted, then dropped as idle
            conn.settimeout(5)
            assert conn.recv(1) == b""
        child.stdin.write("quit\n")
        child.stdin.flush()
        _, err = child.communicate(timeout=20)
    finally:
        for conn in conns:
            conn.close()
        if child.poll() is None:
            child.kill()
            child.wait()
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events.count("fastagi_accept_paused") == 1
    assert events.count("fastagi_accept_resumed") == 1
    assert "Traceback" not in err
    assert len(err.splitlines()) < 60  # not one line per failed accept
