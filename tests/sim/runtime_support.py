"""Helpers for the simulator runtime tests: a bare AMI client and the recorded FastAGI session.

``AmiProbe`` is the AMI client-role core on plain asyncio streams, so the tests see exactly what
the simulator put on the socket. ``recorded_agi_session`` pulls the command lines and reply lines
of one FastAGI session out of fastagi_session.txt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from acd.asterisk.ami.client import (
    NEED_DATA,
    ActionCompleted,
    BannerReceived,
    ClientConnection,
    ConnectionClosed,
    EventReceived,
    UnmatchedResponse,
)
from acd.asterisk.ami.message import Message
from acd.asterisk.errors import RemoteProtocolError
from tests.transcripts import read_text

#: noisy types left out of the recorded scenario summaries (ami_events_full_call.txt header)
NOISE = {"CEL", "DeviceStateChange", "NewCallerid", "NewConnectedLine", "Newexten", "VarSet"}


class AmiProbe:
    """A minimal AMI client for tests; collects unsolicited events in ``events``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.conn = ClientConnection(action_id_prefix="probe")
        self.reader, self.writer = reader, writer
        self.events: list[Message] = []
        self.unmatched: list[Message] = []
        self.banner: str | None = None
        self.eof = False
        self.truncated = False
        self._done: dict[str, ActionCompleted] = {}

    @classmethod
    async def connect(cls, port: int) -> AmiProbe:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def _pump(self) -> None:
        """Read once and sort what arrived."""
        data = await self.reader.read(65536)
        self.conn.receive_data(data)
        while True:
            try:
                ev = self.conn.next_event()
            except RemoteProtocolError:  # cut inside a message: the server aborted
                self.eof = self.truncated = True
                break
            if ev is NEED_DATA:
                break
            if isinstance(ev, BannerReceived):
                self.banner = ev.text
            elif isinstance(ev, EventReceived):
                self.events.append(ev.message)
            elif isinstance(ev, ActionCompleted):
                self._done[ev.action_id] = ev
            elif isinstance(ev, UnmatchedResponse):
                self.unmatched.append(ev.message)
            elif isinstance(ev, ConnectionClosed):
                self.eof = True
                break

    def send(self, name: str, headers: Iterable[tuple[str, str]] = ()) -> str:
        action_id, data = self.conn.send_action(name, headers)
        self.writer.write(data)
        return action_id

    async def wait_done(self, action_id: str) -> ActionCompleted:
        while action_id not in self._done:
            if self.eof:
                raise ConnectionError(f"EOF while waiting for {action_id}")
            await self._pump()
        return self._done.pop(action_id)

    async def action(self, name: str, headers: Iterable[tuple[str, str]] = ()) -> ActionCompleted:
        return await self.wait_done(self.send(name, headers))

    async def login_md5(
        self, user: str = "acd", secret: str = "acdsecret", *, events: bool = True
    ) -> ActionCompleted:
        challenge = await self.action("Challenge", [("AuthType", "MD5")])
        action_id, data = self.conn.login_md5(
            user, secret, challenge.response["Challenge"], events=events
        )
        self.writer.write(data)
        return await self.wait_done(action_id)

    async def wait_event(self, match: Callable[[Message], bool]) -> Message:
        seen = 0
        while True:
            for message in self.events[seen:]:
                if match(message):
                    return message
            seen = len(self.events)
            if self.eof:
                raise ConnectionError("EOF while waiting for an event")
            await self._pump()

    async def read_to_eof(self) -> None:
        while not self.eof:
            await self._pump()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def is_event(name: str, **headers: str) -> Callable[[Message], bool]:
    def match(message: Message) -> bool:
        return message.name == name and all(message.get(k) == v for k, v in headers.items())

    return match


@dataclass(frozen=True)
class RecordedExchange:
    command: str
    reply: tuple[str, ...]  # reply lines without LF


def recorded_agi_session(number: int) -> list[RecordedExchange]:
    """Commands and replies of FastAGI session ``#number`` in fastagi_session.txt (HANGUP lines
    and the final EOF are left out)."""
    lines = read_text("fastagi_session.txt").splitlines()
    marker = f"# FastAGI session #{number} "
    start = next(i for i, line in enumerate(lines) if line.startswith(marker))
    exchanges: list[RecordedExchange] = []
    direction = ""
    command: str | None = None
    reply: list[str] = []
    env_done = False
    for line in lines[start + 1 :]:
        if line.startswith("# FastAGI session #") or line.startswith("===="):
            break
        if line.startswith("--- >>>"):
            if command is not None:
                exchanges.append(RecordedExchange(command, tuple(reply)))
            command, reply, direction = None, [], ">>>"
            continue
        if line.startswith("--- <<<"):
            direction = "<<<"
            continue
        if not line.endswith("\\n"):
            continue
        text = line[: -len("\\n")]
        if text.startswith("<<"):
            continue
        if direction == ">>>":
            command = text
        elif direction == "<<<" and env_done and command is not None and text != "HANGUP":
            reply.append(text)
        elif text == "":
            env_done = True
    if command is not None:
        exchanges.append(RecordedExchange(command, tuple(reply)))
    return exchanges


def summary_types(scenario: str) -> list[str]:
    """Event types of one scenario's ``-- summary --`` block, in order."""
    lines = read_text("ami_events_full_call.txt").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"== SCENARIO {scenario}:"))
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("-- summary"))
    types: list[str] = []
    for line in lines[first + 1 :]:
        if not line.startswith("  +"):
            break
        types.append(line.split()[2])
    return types


@dataclass
class AgiRun:
    """What one FastAGI connection carried, seen from the server side."""

    env: dict[str, str]
    replies: list[tuple[str, tuple[str, ...]]]  # (command, reply lines)
    hangup_lines: int = 0  # unsolicited HANGUP lines seen before the script ended
    trailer: tuple[str, ...] = ()  # lines after the server half-closed (HANGUP then EOF)


class ScriptedAgiServer:
    """A bare FastAGI server that sends fixed command lines and records the raw replies."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.runs: list[AgiRun] = []
        self.connections = 0
        self.finished = asyncio.Event()  # set after each finished session
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            await self._session(reader, writer)
        finally:
            self._tasks.discard(task)
            writer.close()
            self.finished.set()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        env: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode()
            if not line.endswith("\n"):
                return  # closed before the environment was complete
            if line == "\n":
                break
            key, _, value = line[:-1].partition(": ")
            env[key] = value
        run = AgiRun(env, [])
        self.runs.append(run)
        for command in self.script:
            writer.write(command.encode() + b"\n")
            lines: list[str] = []
            while True:
                raw = await reader.readline()
                if not raw:
                    return
                text = raw.decode().rstrip("\n")
                if text == "HANGUP":
                    run.hangup_lines += 1
                    continue
                lines.append(text)
                # a 520- usage reply runs until its "520 End of proper usage." line
                if not lines[0].startswith("520-") or text.startswith("520 "):
                    break
            run.replies.append((command, tuple(lines)))
        writer.write_eof()  # like the recording: half-close, then read what Asterisk still sends
        rest = await reader.read()
        run.trailer = tuple(rest.decode().splitlines())


def shape(line: str) -> str:
    """A reply line with its variable parts (numbers, channel names) blanked out."""
    import re

    code, _, rest = line.partition(" ")
    rest = re.sub(r"Local/\S+?-[0-9a-f]{8};\d", "<chan>", rest)
    return code + " " + re.sub(r"\d+(\.\d+)?", "#", rest)
