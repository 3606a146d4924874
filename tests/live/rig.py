"""The live rig: a real Asterisk (``HOTLINE_LIVE_AMI``), the daemon as a real ``hotline run``
process, customers as Local channels into the ``hotline`` context, and the AMI events seen.

The suite's AMI user (read/write all, ``tests/live/setup_files.py``) originates every customer
as ``Local/<number>@live-callers/n`` into ``hotline,s,1`` with known ids: the ``;1`` side
(``ChannelId``) is the caller the daemon serves, the ``;2`` side (``OtherChannelId``) is the
customer's phone, where ``PlayDTMF`` presses keys and ``Hangup`` hangs up. The daemon logs in
with its own least-privilege user (``HOTLINE_AMI_SECRET``), as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from acd.asterisk.aio.ami_client import AmiClient
from acd.asterisk.ami.message import Message
from tests.live.setup_files import HTTP_PORT, live_ami_user, write_config

ENV = "HOTLINE_LIVE_AMI"
HOTLINE = Path(sys.executable).with_name("hotline")
FASTAGI_PORT = 4573  # written into the installed dialplan's agi:// URLs
ROLES = {"viewer": "VIEWER", "supervisor": "SUPERVISOR", "qa": "QA", "admin": "ADMIN"}
EventCheck = Callable[[Message], bool]


def skip_reason() -> str | None:
    """Why the live suite cannot run here (None: it can)."""
    if not os.environ.get(ENV):
        return f"{ENV}=host:port,user,secret not set: no live Asterisk (docs/live-testing.md)"
    for name in ("HOTLINE_AMI_SECRET", "HOTLINE_AGI_KEY"):
        if not os.environ.get(name):
            return f"{name} not set: the secret the installed Asterisk files were filled with"
    return None


def is_event(name: str, **headers: str) -> EventCheck:
    return lambda m: m.name == name and all(m.get(k) == v for k, v in headers.items())


class Events:
    """Every AMI event the suite's user saw, in order, and waiting for one."""

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self._arrived = asyncio.Event()

    def __call__(self, event: Message) -> None:
        self.seen.append(event)
        self._arrived.set()

    def mark(self) -> int:
        return len(self.seen)

    def since(self, mark: int, check: EventCheck | None = None) -> list[Message]:
        return [m for m in self.seen[mark:] if check is None or check(m)]

    async def wait(
        self, check: EventCheck, what: str, *, after: int = 0, limit_s: float = 30.0
    ) -> Message:
        """The first event from index ``after`` on that passes ``check``."""
        try:
            async with asyncio.timeout(limit_s):
                while True:
                    for event in self.seen[after:]:
                        if check(event):
                            return event
                    after = len(self.seen)
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            raise AssertionError(f"no AMI event: {what} within {limit_s} s") from None


@dataclass
class Caller:
    """One customer: ``uniqueid`` is the call the daemon sees (its call id), ``phone`` the
    customer's side (keys, hang-up)."""

    number: str
    uniqueid: str
    phone_id: str
    channel: str = ""  # the ;1 channel name, once known
    phone: str = ""  # the ;2 channel name


@dataclass
class LiveDaemon:
    """``hotline run`` as a child process on the live configuration."""

    config: Path
    db: Path
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    mqtt: bool = False  # publish to the broker of the config's hotline.yaml (else --no-mqtt)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORT}"

    def headers(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                str(HOTLINE),
                "run",
                "--config",
                str(self.config),
                "--db",
                f"sqlite+aiosqlite:///{self.db}",
                *(() if self.mqtt else ("--no-mqtt",)),
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        await self._until_serving()

    async def _until_serving(self, limit_s: float = 30.0) -> None:
        """Up = the HTTP API answers and the daemon is logged in to AMI (``/agents`` lists)."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            async with asyncio.timeout(limit_s):
                while True:
                    assert self.process is not None
                    if self.process.returncode is not None:
                        raise AssertionError(f"hotline run exited {self.process.returncode}")
                    with contextlib.suppress(httpx.HTTPError):
                        reply = await client.get("/agents", headers=self.headers())
                        if reply.status_code == 200 and _port_open(FASTAGI_PORT):
                            return
                    await asyncio.sleep(0.2)

    async def stop(self) -> int:
        """SIGTERM: the daemon hands its callers back to the dialplan and exits 0."""
        return await self._signal(signal.SIGTERM)

    async def kill(self) -> int:
        """SIGKILL: no hand-back at all."""
        return await self._signal(signal.SIGKILL)

    async def _signal(self, sig: signal.Signals) -> int:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return process.returncode if process and process.returncode is not None else 0
        process.send_signal(sig)
        async with asyncio.timeout(30):
            return await process.wait()

    async def api(self, method: str, path: str, role: str = "admin", **kw: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as client:
            return await client.request(method, path, headers=self.headers(role), **kw)

    async def login(self, *agents: str) -> None:
        for agent in agents:
            reply = await self.api("POST", f"/agents/{agent}/login")
            assert reply.status_code == 200, reply.text

    async def agents(self) -> dict[str, dict[str, Any]]:
        rows = (await self.api("GET", "/agents")).json()
        return {row["agent"]: row for row in rows}

    async def command(self, *args: str) -> dict[str, Any]:
        """A ``hotline`` command on the daemon's database and configuration (``--json``)."""
        process = await asyncio.create_subprocess_exec(
            str(HOTLINE),
            *args,
            "--db",
            f"sqlite+aiosqlite:///{self.db}",
            "--config",
            str(self.config),
            "--json",
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        assert process.returncode == 0, out
        result: dict[str, Any] = json.loads(out)
        return result

    async def add_user(self, name: str, *args: str) -> str:
        """``hotline users add``; the new personal key (kept for ``api(role=name)``)."""
        key: str = (await self.command("users", "add", name, *args))["key"]
        self.tokens[name] = key
        return key

    async def waiting(self) -> dict[str, dict[str, Any]]:
        """Callers the daemon holds in its queues, by call id."""
        rows = (await self.api("GET", "/calls/waiting")).json()
        return {row["call_id"]: row for row in rows}

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as db:
            return list(db.execute(sql, params))

    async def ended_call(self, uniqueid: str, limit_s: float = 30.0) -> dict[str, Any]:
        """The caller's ``calls`` row once the daemon has stored its end."""
        async with asyncio.timeout(limit_s):
            while True:
                if self.db.exists():
                    with sqlite3.connect(self.db) as db:
                        db.row_factory = sqlite3.Row
                        row = db.execute(
                            "select * from calls where uniqueid = ? and outcome is not null",
                            (uniqueid,),
                        ).fetchone()
                    if row is not None:
                        return dict(row)
                await asyncio.sleep(0.25)  # the writer batches its rows: nothing to await

    async def until(self, check: Callable[[], Any], what: str, limit_s: float = 30.0) -> Any:
        """Poll an HTTP/database view until ``check`` (async) returns something true."""
        try:
            async with asyncio.timeout(limit_s):
                while True:
                    value = await check()
                    if value:
                        return value
                    await asyncio.sleep(0.2)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class LiveRig:
    def __init__(self, workdir: Path) -> None:
        host, port, user, secret = live_ami_user(os.environ[ENV])
        self.workdir = workdir
        self.ami = AmiClient(host, port, user, secret, ping_interval_s=10)
        self.events = Events()
        self._count = 0
        self.run_id = secrets.token_hex(3)
        config = write_config(
            workdir / "config",
            workdir=workdir,
            asterisk_logs=Path(os.environ.get("HOTLINE_LIVE_LOGS", "/var/log/asterisk")),
        )
        tokens = {role: secrets.token_urlsafe(24) for role in ROLES}
        env = dict(os.environ)
        env.update({f"HOTLINE_TOKEN_{ROLES[r]}": t for r, t in tokens.items()})
        self.daemon = LiveDaemon(
            config, workdir / "hotline.db", env, workdir / "daemon.log", tokens=tokens
        )

    async def __aenter__(self) -> LiveRig:
        self.ami.subscribe(self.events)
        await self.ami.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.daemon.stop()
        finally:
            await self.hang_up_everything()
            await self.ami.close()
            self.dump_events(self.workdir / "ami-events.txt")

    def dump_events(self, path: Path) -> None:
        """Every event seen, for reading after a failure (kept in the test's tmp dir)."""
        with path.open("w") as out:
            for event in self.events.seen:
                out.write("".join(f"{k}: {v}\n" for k, v in event.headers) + "\n")

    async def hang_up_everything(self) -> None:
        """Leave Asterisk as we found it: no test channel left behind."""
        reply = await self.ami.action("CoreShowChannels", timeout=10)
        for item in reply.events:
            name = item.get("Channel") or ""
            if "@live-" in name:
                await self.ami.action("Hangup", [("Channel", name)])

    # -- customers --------------------------------------------------------------------------

    async def call(self, number: str = "13800000001", *, wait_ivr: bool = True) -> Caller:
        """A customer calls the hotline; returns once the daemon's IVR session has started."""
        self._count += 1
        # Asterisk refuses an assigned id that an existing channel's uniqueid starts with (its
        # channel storage matches ids by prefix: "live-x-2" is "in use" while "live-x-22"
        # lives): ids of one width, the phone's with its own letter, are no one's prefix.
        uid = f"live-{self.run_id}-{self._count:05d}"
        caller = Caller(number, uid, f"live-{self.run_id}-p{self._count:05d}")
        mark = self.events.mark()
        reply = await self.ami.action(
            "Originate",
            [
                ("Channel", f"Local/{number}@live-callers/n"),
                ("Context", "hotline"),
                ("Exten", "s"),
                ("Priority", "1"),
                ("CallerID", f'"Live {self._count}" <{number}>'),
                ("ChannelId", caller.uniqueid),
                ("OtherChannelId", caller.phone_id),
                ("Timeout", "10000"),
                ("Async", "true"),
            ],
        )
        assert reply.ok, reply.message
        channel = await self.events.wait(
            is_event("Newchannel", Uniqueid=caller.uniqueid), "the caller's channel", after=mark
        )
        caller.channel = channel.get("Channel") or ""
        caller.phone = caller.channel[:-1] + "2"
        if wait_ivr:
            await self.agi_command(caller, "", after=mark)
        return caller

    async def agi_command(
        self, caller: Caller, starts: str, *, after: int = 0, limit_s: float = 30.0
    ) -> Message:
        """The daemon's next FastAGI command on the caller starting with ``starts``."""
        return await self.events.wait(
            lambda m: (
                m.name == "AGIExecStart"
                and m.get("Uniqueid") == caller.uniqueid
                and (m.get("Command") or "").upper().startswith(starts.upper())
            ),
            f"AGI {starts or 'any command'} on {caller.uniqueid}",
            after=after,
            limit_s=limit_s,
        )

    async def press(self, caller: Caller, digits: str) -> None:
        """The customer presses keys (AMI PlayDTMF on their phone's side)."""
        for digit in digits:
            reply = await self.ami.action(
                "PlayDTMF", [("Channel", caller.phone), ("Digit", digit), ("Duration", "120")]
            )
            assert reply.ok, reply.message

    async def hang_up(self, caller: Caller) -> None:
        await self.ami.action("Hangup", [("Channel", caller.phone)])

    async def gone(self, caller: Caller, *, after: int = 0, limit_s: float = 30.0) -> Message:
        return await self.events.wait(
            is_event("Hangup", Uniqueid=caller.uniqueid),
            f"{caller.uniqueid} hung up",
            after=after,
            limit_s=limit_s,
        )
