"""One AMI TCP connection of the asyncio client: bytes to the core, outcomes to futures.

``AmiSession`` owns the socket, a ``ClientConnection`` (the sans-I/O core) and the futures of the
actions in flight. When it ends, every action in flight fails -- none is re-sent. ``AmiClient``
chains sessions, waiting between them as ``ReconnectBackoff`` says. Also home of the client's
exception types, because both the session and the client raise them.
"""

from __future__ import annotations

import asyncio
import random

from acd.asterisk.aio.ami_events import EventHub
from acd.asterisk.ami.client import (
    NEED_DATA,
    ActionCompleted,
    BannerReceived,
    ClientConnection,
    ConnectionClosed,
    EventReceived,
    UnmatchedResponse,
)
from acd.logging import get_logger

log = get_logger(__name__)

_READ_SIZE = 1 << 16


class AmiError(Exception):
    """Base class of the AMI client's errors."""


class AmiTimeout(AmiError, TimeoutError):
    """No answer (or no login to send the action on) within the action's timeout."""


class AmiConnectionLost(AmiError):
    """The connection dropped while the action was in flight; it was not re-sent."""


class AmiClientClosed(AmiError):
    """``close()`` was called: the client does not connect any more."""


class AmiLoginError(AmiError):
    """Asterisk rejected the login. Final: retrying the same secret cannot succeed."""


class AmiActionError(AmiError):
    """``Response: Error`` to an action sent with ``check=True``."""

    def __init__(self, result: ActionCompleted) -> None:
        super().__init__(f"AMI action failed: {result.message or result.response.name}")
        self.result = result


class ReconnectBackoff:
    """Delays ``initial, 2*initial, 4*initial, ...`` capped at ``cap``, each with "equal jitter".

    Equal jitter (half fixed, half random) never yields a near-zero delay, so a flapping Asterisk
    cannot drive the client into a tight reconnect loop.
    """

    def __init__(self, initial_s: float, cap_s: float, *, rng: random.Random | None = None) -> None:
        if initial_s <= 0 or cap_s < initial_s:
            raise ValueError(f"need 0 < initial <= cap, got initial={initial_s} cap={cap_s}")
        self.initial_s = initial_s
        self.cap_s = cap_s
        self._rng = rng if rng is not None else random.Random()
        self._failures = 0

    @property
    def failures(self) -> int:
        """Consecutive failed attempts since the last successful login."""
        return self._failures

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        # 2**n overflows float for large n: stop growing once the cap is reached.
        exponent = min(self._failures, 62)
        base = min(self.cap_s, self.initial_s * (2.0**exponent))
        self._failures += 1
        half = base / 2
        return half + self._rng.uniform(0.0, half)

    def reset(self) -> None:
        """A login succeeded: the next outage starts again from the initial delay."""
        self._failures = 0


class SessionEnded(Exception):
    """The connection is unusable: EOF, or Asterisk stopped answering Ping."""


async def open_session(
    host: str, port: int, hub: EventHub, *, connect_timeout_s: float
) -> AmiSession:
    """Connect and wait for the banner (a port that is not AMI never sends one)."""
    async with asyncio.timeout(connect_timeout_s):
        reader, writer = await asyncio.open_connection(host, port)
        session = AmiSession(reader, writer, hub)
        try:
            while session.banner is None:
                await session.read_once()
        except BaseException:
            session.abort(closing=False)
            raise
    log.debug("ami_banner", host=host, port=port, banner=session.banner)
    return session


class AmiSession:
    """One connection, from banner to EOF; never reused: the client opens a new one."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hub: EventHub
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._hub = hub
        self._core = ClientConnection()
        self._pending: dict[str, asyncio.Future[ActionCompleted]] = {}
        self.banner: str | None = None
        self.alive = True

    # ---- receiving ----------------------------------------------------------------------------

    async def read_once(self) -> None:
        data = await self._reader.read(_READ_SIZE)
        try:
            self._feed(data)
        except BaseException:
            self.alive = False
            raise
        if not data:  # the core normally reported ConnectionClosed already
            self.alive = False
            raise SessionEnded("Asterisk closed the connection")

    async def read_loop(self) -> None:
        while True:
            await self.read_once()

    def _feed(self, data: bytes) -> None:
        self._core.receive_data(data)
        while True:
            event = self._core.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, EventReceived):
                self._hub.publish(event.message)
            elif isinstance(event, ActionCompleted):
                future = self._pending.pop(event.action_id, None)
                # None or done: the caller already gave up (timeout); the late answer is dropped.
                if future is not None and not future.done():
                    future.set_result(event)
            elif isinstance(event, BannerReceived):
                self.banner = event.text
            elif isinstance(event, UnmatchedResponse):
                log.debug("ami_response_unmatched", response=repr(event.message))
            elif isinstance(event, ConnectionClosed):
                raise SessionEnded("Asterisk closed the connection")

    # ---- sending ------------------------------------------------------------------------------

    def _send(self, action_id: str, data: bytes) -> asyncio.Future[ActionCompleted]:
        future: asyncio.Future[ActionCompleted] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        self._writer.write(data)
        return future

    async def request(self, name: str, headers: tuple[tuple[str, str], ...]) -> ActionCompleted:
        """Send an action and wait for its outcome (the read loop resolves it)."""
        if not self.alive:
            raise AmiConnectionLost(f"AMI connection lost before {name} could be sent")
        action_id, data = self._core.send_action(name, headers)
        future = self._send(action_id, data)
        try:
            await self._writer.drain()
            return await future
        except ConnectionError as exc:
            raise AmiConnectionLost(f"AMI connection lost while sending {name}: {exc}") from exc
        finally:
            self._pending.pop(action_id, None)

    async def _exchange(self, sent: tuple[str, bytes]) -> ActionCompleted:
        """Login phase: no read loop runs yet, so read here until the answer is in."""
        action_id, data = sent
        future = self._send(action_id, data)
        try:
            while not future.done():
                await self.read_once()
            return future.result()
        finally:
            self._pending.pop(action_id, None)

    async def log_in(self, username: str, secret: str, *, use_md5: bool) -> None:
        """MD5 challenge login (the secret never crosses the wire) or plain Login.

        The answer is processed before a following EOF (same ``_feed`` call), so a rejected login
        is always seen as a rejection, not as a lost connection.
        """
        if use_md5:
            answer = await self._exchange(self._core.challenge())
            challenge = answer.response.get("Challenge")
            if not answer.ok or not challenge:
                reason = answer.message or "no MD5 challenge"
                raise AmiLoginError(f"AMI login failed for user {username!r}: {reason}")
            answer = await self._exchange(self._core.login_md5(username, secret, challenge))
        else:
            answer = await self._exchange(self._core.login(username, secret))
        if not answer.ok:
            reason = answer.message or answer.response.name
            raise AmiLoginError(f"AMI login failed for user {username!r}: {reason}")

    async def ping_loop(self, interval_s: float) -> None:
        """A hung Asterisk keeps the socket open: only an unanswered Ping reveals it."""
        while True:
            await asyncio.sleep(interval_s)
            action_id, data = self._core.send_action("Ping")
            future = self._send(action_id, data)
            try:
                async with asyncio.timeout(interval_s):
                    await future
            except TimeoutError:
                self.alive = False
                raise SessionEnded(f"no answer to Ping within {interval_s} s") from None
            finally:
                self._pending.pop(action_id, None)

    def abort(self, *, closing: bool) -> None:
        """Close the socket and fail the actions in flight (never re-sent)."""
        self.alive = False
        for future in self._pending.values():
            if not future.done():
                if closing:
                    future.set_exception(AmiClientClosed("AMI client closed"))
                else:
                    future.set_exception(AmiConnectionLost("AMI connection lost; not re-sent"))
        self._pending.clear()
        self._writer.close()
