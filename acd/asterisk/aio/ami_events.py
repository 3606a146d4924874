"""Fan-out of AMI events to the client's owner: callbacks and bounded async streams.

Two ways to consume, both safe for the connection:

* ``subscribe(callback)``: a plain function called for every event in arrival order. An exception
  in it is logged and isolated -- it never reaches the read loop, so it cannot drop the connection
  (panoramisk defect (b)). Callbacks must be quick and must not block; for async work use a stream.
* ``EventStream``: an async iterator over a bounded buffer. A consumer that falls behind loses the
  *oldest* events, which are counted and logged; the owner is expected to resynchronise (it gets
  the same signal after a reconnect). Dropping keeps memory bounded under a 5,000 events/s burst.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from types import TracebackType

from acd.asterisk.ami.message import Message
from acd.logging import get_logger

log = get_logger(__name__)

EventCallback = Callable[[Message], None]


class EventStream:
    """Events in arrival order, at most ``maxsize`` buffered. Ends when the client closes."""

    def __init__(self, hub: EventHub, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._buffer: deque[Message] = deque()
        self._maxsize = maxsize
        self._wakeup = asyncio.Event()
        self._ended = False
        self.dropped = 0

    def _put(self, message: Message) -> None:
        if len(self._buffer) >= self._maxsize:
            self._buffer.popleft()
            self.dropped += 1
            self._hub.dropped += 1
            # First drop of a burst and then every 1000th: a warning per event would flood logs.
            if self.dropped % 1000 == 1:
                log.warning(
                    "ami_events_dropped",
                    count=self.dropped,
                    buffer=self._maxsize,
                    why="event consumer is falling behind",
                )
        self._buffer.append(message)
        self._wakeup.set()

    def _end(self) -> None:
        self._ended = True
        self._wakeup.set()

    def close(self) -> None:
        """Stop receiving events; buffered ones can still be read."""
        self._hub.remove_stream(self)
        self._end()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Message:
        while not self._buffer:
            if self._ended:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._buffer.popleft()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventHub:
    """Delivers every received event to all callbacks and open streams; keeps the counters."""

    def __init__(self) -> None:
        self._callbacks: list[EventCallback] = []
        self._streams: list[EventStream] = []
        self._closed = False
        self.received = 0
        self.dropped = 0

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Register ``callback``; returns a function that unregisters it."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def open_stream(self, maxsize: int) -> EventStream:
        stream = EventStream(self, maxsize)
        if self._closed:
            stream._end()
        else:
            self._streams.append(stream)
        return stream

    def remove_stream(self, stream: EventStream) -> None:
        if stream in self._streams:
            self._streams.remove(stream)

    def publish(self, message: Message) -> None:
        self.received += 1
        # Copies: a callback may (un)subscribe while we iterate.
        for callback in tuple(self._callbacks):
            try:
                callback(message)
            except Exception:
                log.exception(
                    "ami_event_callback_failed", callback=repr(callback), ami_event=message.name
                )
        for stream in tuple(self._streams):
            stream._put(message)

    def close(self) -> None:
        """The client closed for good: streams end after their buffered events."""
        self._closed = True
        for stream in self._streams:
            stream._end()
        self._streams.clear()
