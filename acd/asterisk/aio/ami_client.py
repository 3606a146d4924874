"""Asyncio AMI client: a thin shell around the sans-I/O ``ClientConnection``.

Written instead of wrapping panoramisk 1.4 (its defects and where they live: docs/panoramisk.md);
framing, ActionID correlation, list collection and login are the core's (acd/asterisk/ami/).

* One supervised task: connect -> banner -> log in -> read loop + ping loop. EOF, a reset, a
  protocol error or an unanswered Ping ends the session (``on_disconnect()``); the client
  reconnects after a capped, jittered backoff and calls ``on_connect(True)`` to resynchronise.
* A rejected login (wrong secret) is final: ``start()`` and every later ``action()`` raise
  ``AmiLoginError``, with no retry loop.
* ``action()`` always has a timeout. While disconnected it waits for the next *login* (not for
  ``FullyBooted``). Actions in flight when the link drops fail with ``AmiConnectionLost`` and are
  never re-sent (an Originate must not be doubled). ``Response: Error`` is a result with
  ``ok == False``; ``check=True`` turns it into ``AmiActionError``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType

from acd.asterisk.aio.ami_events import EventCallback, EventHub, EventStream
from acd.asterisk.aio.ami_session import (
    AmiActionError,
    AmiClientClosed,
    AmiConnectionLost,
    AmiError,
    AmiLoginError,
    AmiSession,
    AmiTimeout,
    ReconnectBackoff,
    SessionEnded,
    open_session,
)
from acd.asterisk.ami.client import ActionCompleted
from acd.asterisk.errors import RemoteProtocolError
from acd.logging import get_logger

__all__ = [
    "AmiActionError",
    "AmiClient",
    "AmiClientClosed",
    "AmiConnectionLost",
    "AmiCounters",
    "AmiError",
    "AmiLoginError",
    "AmiResult",
    "AmiTimeout",
    "EventStream",
    "ReconnectBackoff",
]

log = get_logger(__name__)

#: An action's outcome: ``response``, list ``events``, ``ok``, ``message`` (the core's type).
AmiResult = ActionCompleted
OnConnect = Callable[[bool], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AmiCounters:
    """Metrics: reconnects done, events received, events dropped by slow stream consumers."""

    reconnects: int
    events_received: int
    events_dropped: int


class AmiClient:
    """``async with AmiClient(...) as ami:`` or ``await ami.start()`` ... ``await ami.close()``."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        use_md5: bool = True,
        ping_interval_s: float = 5.0,
        action_timeout_s: float = 5.0,
        connect_timeout_s: float = 5.0,
        reconnect_backoff: tuple[float, float] = (0.5, 10.0),
        on_connect: OnConnect | None = None,
        on_disconnect: Callable[[], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self._use_md5 = use_md5
        self._ping_interval_s = ping_interval_s
        self._action_timeout_s = action_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._backoff = ReconnectBackoff(*reconnect_backoff, rng=rng)
        self._on_connect = on_connect
        self._on_disconnect = on_disconnect
        self._hub = EventHub()
        self._session: AmiSession | None = None  # set while logged in
        self._login_waiters: set[asyncio.Future[AmiSession]] = set()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._failure: AmiError | None = None  # why the client stopped for good
        self._reconnects = 0

    def __repr__(self) -> str:  # never shows the secret
        return f"AmiClient({self.host}:{self.port}, user={self.username!r})"

    async def start(self) -> None:
        """Start the supervised task and wait for the first successful login.

        Unreachable Asterisk is retried (wrap in ``asyncio.timeout`` to bound the wait); a rejected
        login raises ``AmiLoginError``.
        """
        if self._task is not None:
            raise RuntimeError("AmiClient.start() called twice")
        self._task = asyncio.create_task(self._supervise(), name=f"ami-client {self.host}")
        await self._wait_for_login()

    async def close(self) -> None:
        """Stop for good: no more reconnects; waiting and in-flight actions get AmiClientClosed."""
        self._closing = True
        task = self._task
        if task is None or task.done():
            return
        task.cancel()
        if task is not asyncio.current_task():
            await asyncio.wait({task})

    async def wait_closed(self) -> None:
        """Return when the client stopped; raises the login error that stopped it, if any."""
        if self._task is not None:
            await asyncio.wait({self._task})
        if self._failure is not None and not isinstance(self._failure, AmiClientClosed):
            raise self._failure

    async def __aenter__(self) -> AmiClient:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """True while logged in (and the connection not known to be dead)."""
        return self._session is not None and self._session.alive

    @property
    def counters(self) -> AmiCounters:
        return AmiCounters(self._reconnects, self._hub.received, self._hub.dropped)

    async def action(
        self,
        name: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-action override of the default
        check: bool = False,
    ) -> AmiResult:
        """Send one action and return its outcome (for a list: the response and its items)."""
        limit = self._action_timeout_s if timeout is None else timeout
        pairs = tuple(headers)
        sent = False
        try:
            async with asyncio.timeout(limit):
                session = self._session
                if session is None or not session.alive:  # dead but not yet noticed by all
                    session = await self._wait_for_login()
                sent = True
                result = await session.request(name, pairs)
        except TimeoutError:
            why = "got no answer" if sent else "could not be sent (not logged in to Asterisk)"
            raise AmiTimeout(f"AMI action {name} {why} within {limit} s") from None
        if check and not result.ok:
            raise AmiActionError(result)
        return result

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; exceptions are logged, never fatal.
        Returns the function that unsubscribes."""
        return self._hub.subscribe(callback)

    def events(self, *, maxsize: int = 10_000) -> EventStream:
        """An async iterator over events from now on (``async with ami.events() as stream``)."""
        return self._hub.open_stream(maxsize)

    async def _wait_for_login(self) -> AmiSession:
        if self._failure is not None:
            raise self._failure
        if self._task is None:
            raise RuntimeError("AmiClient.start() has not been called")
        waiter: asyncio.Future[AmiSession] = asyncio.get_running_loop().create_future()
        self._login_waiters.add(waiter)
        try:
            return await waiter
        finally:
            self._login_waiters.discard(waiter)

    async def _supervise(self) -> None:
        try:
            await self._reconnect_forever()
        except asyncio.CancelledError:
            self._failure = self._failure or AmiClientClosed("AMI client closed")
        except AmiLoginError as exc:
            log.error(
                "ami_login_refused",
                error=str(exc),
                retrying=False,
                hint="check the AMI user and secret",
            )
            self._failure = exc
        except Exception as exc:  # a bug: stop loudly instead of looping on it
            log.exception("ami_client_crashed")
            self._failure = AmiError(f"AMI client stopped: {exc!r}")
        finally:
            self._session = None
            failure = self._failure or AmiClientClosed("AMI client closed")
            for waiter in self._login_waiters:
                if not waiter.done():
                    waiter.set_exception(failure)
            self._hub.close()

    async def _reconnect_forever(self) -> None:
        logged_in_before = False
        while not self._closing:
            try:
                session = await open_session(
                    self.host, self.port, self._hub, connect_timeout_s=self._connect_timeout_s
                )
            except (OSError, TimeoutError, RemoteProtocolError, SessionEnded) as exc:
                log.warning("ami_connect_failed", host=self.host, port=self.port, error=str(exc))
            else:
                try:
                    logged_in = await self._serve(session, reconnected=logged_in_before)
                finally:
                    self._session = None
                    session.abort(closing=self._closing)
                if logged_in:
                    logged_in_before = True
                    if not self._closing:
                        self._notify_disconnected()
            delay = self._backoff.next_delay()
            log.info("ami_reconnecting", host=self.host, port=self.port, delay_s=round(delay, 2))
            await asyncio.sleep(delay)

    async def _serve(self, session: AmiSession, *, reconnected: bool) -> bool:
        """Log in and run the session until it ends; True if the login succeeded."""
        try:
            async with asyncio.timeout(self._action_timeout_s):
                await session.log_in(self.username, self._secret, use_md5=self._use_md5)
        except (OSError, TimeoutError, RemoteProtocolError, SessionEnded) as exc:
            log.warning("ami_login_incomplete", host=self.host, port=self.port, error=str(exc))
            return False
        log.info("ami_logged_in", host=self.host, port=self.port, username=self.username)
        self._backoff.reset()
        if reconnected:
            self._reconnects += 1
        self._session = session
        for waiter in self._login_waiters:
            if not waiter.done():
                waiter.set_result(session)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(session.read_loop())
                group.create_task(session.ping_loop(self._ping_interval_s))
                group.create_task(self._notify_connected(reconnected))
        except* (OSError, RemoteProtocolError, SessionEnded) as lost:
            log.warning(
                "ami_connection_lost", host=self.host, port=self.port, error=str(lost.exceptions[0])
            )
        return True

    def _notify_disconnected(self) -> None:
        try:
            if self._on_disconnect is not None:
                self._on_disconnect()
        except Exception:  # the owner's bug must not stop the reconnecting
            log.exception("ami_on_disconnect_failed")

    async def _notify_connected(self, reconnected: bool) -> None:
        if self._on_connect is None:
            return
        try:
            await self._on_connect(reconnected)
        except Exception:
            # The owner's resync failing must not cost the connection.
            log.exception("ami_on_connect_failed", reconnected=reconnected)
