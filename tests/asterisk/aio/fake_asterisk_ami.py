"""A scripted fake Asterisk AMI server on 127.0.0.1 that answers with *recorded* bytes.

Not the PBX simulator: it only replays what real Asterisk 22.10.1 sent in
ami_login_and_actions.txt (banner, Challenge, login answers, Ping, list replies, ...). Every
recorded message carrying the recorded ActionID of an action of the same name is replayed, with the
ActionID rewritten to the client's. Knobs let a test make it misbehave the way real failures look.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import random
from collections.abc import Callable, Iterator

from acd.asterisk.aio.ami_client import AmiClient, EventStream, OnConnect
from acd.asterisk.ami.framing import Framer
from acd.asterisk.ami.message import Kind, Message, encode
from tests.transcripts import wire_bytes

TRANSCRIPT = "ami_login_and_actions.txt"
BANNER_PREFIX = b"Asterisk Call Manager/"
RECORDED_CHALLENGE_ID = "md5-5"  # section 2: "Challenge: 942938964"
RECORDED_LOGIN_OK_ID = "act-8"  # section 3: "Authentication accepted"
RECORDED_LOGIN_BAD_ID = "bad-4"  # section 1: "Authentication failed", then EOF
RECORDED_UNKNOWN_ID = "act-45"  # section 36: "Invalid/unknown command"


def _messages(stream: bytes) -> list[Message]:
    """Split one direction of the transcript into messages (banner lines removed)."""
    lines = stream.splitlines(keepends=True)
    body = b"".join(line for line in lines if not line.startswith(BANNER_PREFIX))
    framer = Framer(expect_banner=False)
    framer.receive_data(body)
    return list(_complete_messages(framer))


def _complete_messages(framer: Framer) -> Iterator[Message]:
    while isinstance(item := framer.next_message(), Message):
        yield item


class Recording:
    """The recorded exchange, indexed by recorded ActionID."""

    def __init__(self) -> None:
        asterisk = wire_bytes(TRANSCRIPT, "<<<")
        self.banner = asterisk.split(b"\r\n", 1)[0] + b"\r\n"
        self.action_names: dict[str, str] = {}  # recorded ActionID -> action name
        for action in _messages(wire_bytes(TRANSCRIPT, ">>>")):
            if action.action_id is not None:
                self.action_names.setdefault(action.action_id, action.name.lower())
        self.replies: dict[str, list[Message]] = {}
        self.events: list[Message] = []
        for message in _messages(asterisk):
            if message.action_id is not None:
                self.replies.setdefault(message.action_id, []).append(message)
            elif message.kind is Kind.EVENT:
                self.events.append(message)

    def ids_for(self, action: str) -> list[str]:
        return [i for i, name in self.action_names.items() if name == action.lower()]

    def event(self, name: str) -> Message:
        return next(e for e in self.events if e.name == name)

    def reply(self, recorded_id: str, action_id: str | None) -> bytes:
        """The recorded answer to ``recorded_id``, re-addressed to ``action_id``."""
        out = []
        for message in self.replies[recorded_id]:
            # Asterisk echoes an ActionID only when the action had one.
            pairs: list[tuple[str, str]] = []
            for key, value in message.headers:
                if key.lower() != "actionid":
                    pairs.append((key, value))
                elif action_id is not None:  # in place: QueueParams has it last
                    pairs.append((key, action_id))
            out.append(encode(Message(tuple(pairs))))
        return b"".join(out)


@functools.cache
def recording() -> Recording:
    """Parsed once per test session: the transcript is read-only."""
    return Recording()


class FakeAsterisk:
    def __init__(self, *, secret: str = "acdsecret", fully_booted: bool = True) -> None:
        self.recording = recording()
        self.secret = secret
        self.fully_booted = fully_booted
        self.challenge = self.recording.replies[RECORDED_CHALLENGE_ID][0]["Challenge"]
        self.connections = 0
        self.closed_connections = 0
        self.login_attempts = 0
        self.actions: list[tuple[int, Message]] = []  # (connection number, action)
        self.raw_received = bytearray()
        self.hang_after_login: set[int] = set()  # connection numbers that go silent
        self.unanswered: set[str] = set()  # lower-case action names never answered
        self.answer_with: dict[str, str] = {}  # action name -> recorded ActionID to replay
        self.login_gate: asyncio.Event | None = None  # login answer held until set
        self._changed = asyncio.Condition()
        self._writers: dict[int, asyncio.StreamWriter] = {}
        self._handlers: set[asyncio.Task[None]] = set()  # owned: awaited on exit
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> FakeAsterisk:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers.values()):
            writer.close()
        if self._handlers:
            await asyncio.wait(self._handlers)
        await self._server.wait_closed()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def action_names(self, connection: int | None = None) -> list[str]:
        return [a.name for n, a in self.actions if connection in (None, n)]

    async def send(self, data: bytes, *, split_at: int | None = None) -> None:
        """Write to the newest connection; ``split_at`` makes two writes with a pause between."""
        writer = self._writers[max(self._writers)]
        parts = [data] if split_at is None else [data[:split_at], data[split_at:]]
        for i, part in enumerate(parts):
            if i:
                await asyncio.sleep(0.05)  # let the first part reach the client as its own read
            writer.write(part)
            await writer.drain()

    def drop(self) -> None:
        """Close the newest connection from the Asterisk side (like a restart)."""
        self._writers[max(self._writers)].close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        number = self.connections
        self._writers[number] = writer
        await self._notify()
        framer = Framer(expect_banner=False)
        state = {"logged_in": False}
        try:
            writer.write(self.recording.banner)
            while data := await reader.read(1 << 16):
                self.raw_received += data
                framer.receive_data(data)
                for item in _complete_messages(framer):
                    self.actions.append((number, item))
                    if not await self._answer(number, item, writer, state):
                        return
                    await self._notify()
        except ConnectionError:
            pass
        finally:
            writer.close()
            del self._writers[number]
            self.closed_connections += 1
            await self._notify()

    async def _answer(
        self, number: int, action: Message, writer: asyncio.StreamWriter, state: dict[str, bool]
    ) -> bool:
        """Answer one action; False when the connection must close."""
        name = action.name.lower()
        if (state["logged_in"] and number in self.hang_after_login) or name in self.unanswered:
            return True
        rec = self.recording
        if name == "challenge":
            writer.write(rec.reply(RECORDED_CHALLENGE_ID, action.action_id))
        elif name == "login":
            return await self._login(action, writer, state)
        else:
            ids = rec.ids_for(name)
            recorded = self.answer_with.get(name) or (ids[0] if ids else RECORDED_UNKNOWN_ID)
            writer.write(rec.reply(recorded, action.action_id))
        await writer.drain()
        return True

    async def _login(
        self, action: Message, writer: asyncio.StreamWriter, state: dict[str, bool]
    ) -> bool:
        self.login_attempts += 1
        await self._notify()
        if (action.get("AuthType") or "").lower() == "md5":
            expected = hashlib.md5((self.challenge + self.secret).encode()).hexdigest()
            accepted = action.get("Key") == expected
        else:
            accepted = action.get("Secret") == self.secret
        if self.login_gate is not None:
            await self.login_gate.wait()
        if not accepted:
            writer.write(self.recording.reply(RECORDED_LOGIN_BAD_ID, action.action_id))
            await writer.drain()
            return False  # Asterisk closes the socket after a failed login
        state["logged_in"] = True
        writer.write(self.recording.reply(RECORDED_LOGIN_OK_ID, action.action_id))
        if self.fully_booted:
            writer.write(encode(self.recording.event("FullyBooted")))
        await writer.drain()
        return True


SAFETY = 10.0  # only turns a hang into a failure; never a timing assertion


def client_for(
    fake: FakeAsterisk,
    *,
    secret: str = "acdsecret",
    ping_interval_s: float = 5.0,
    backoff: tuple[float, float] = (0.01, 0.05),
    on_connect: OnConnect | None = None,
    on_disconnect: Callable[[], None] | None = None,
) -> AmiClient:
    return AmiClient(
        "127.0.0.1",
        fake.port,
        "acd",
        secret,
        ping_interval_s=ping_interval_s,
        action_timeout_s=3.0,
        connect_timeout_s=3.0,
        reconnect_backoff=backoff,
        on_disconnect=on_disconnect,
        on_connect=on_connect,
        rng=random.Random(7),
    )


def renamed(event: Message, caller_name: str) -> Message:
    return Message(tuple((k, caller_name if k == "CallerIDName" else v) for k, v in event.headers))


async def next_named(stream: EventStream, name: str) -> Message:
    """Skip the events of the login (FullyBooted may arrive after start() returned)."""
    async with asyncio.timeout(SAFETY):
        async for event in stream:
            if event.name == name:
                return event
    raise AssertionError(f"stream ended before {name}")
