"""AMI framing: bytes in, ``Message`` / ``Banner`` out (sans-I/O, h11 style).

Wire rules (see ../shared/asterisk/README.md): a header is ``Key: Value`` ended by CR LF, a blank
line ends a message; Asterisk also accepts LF-only input, so both are accepted here. The Asterisk
side starts with one banner line (``Asterisk Call Manager/11.0.0``) that has no colon.

Decisions:

* Only complete messages are decoded, so a UTF-8 character split across reads is never damaged.
  Invalid UTF-8 is decoded with ``errors="replace"`` (U+FFFD), never an error: real Asterisk passes
  arbitrary bytes through (CallerID names), and one bad byte must not cost a whole event.
* The value is everything after the first colon, minus one following space; it may be empty and
  may contain colons (``RequestType: Action: Queues``). A CR not followed by LF stays in the value.
* Blank lines between messages are skipped.
* A header line without a colon (or with an empty name), a message above ``max_message_bytes`` and
  EOF inside a message raise ``RemoteProtocolError`` with the byte offset where the line/message
  starts. After an error the framer is broken and raises the same error again.

Hot path: complete messages are cut out in bulk with one regex scan over the buffer, and the scan
position is remembered, so feeding byte by byte stays linear.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from enum import Enum

from acd.asterisk.ami.message import Message
from acd.asterisk.errors import LocalProtocolError, RemoteProtocolError


class NeedData(Enum):
    """Sentinel type: no complete message buffered; call ``receive_data`` first."""

    NEED_DATA = "NEED_DATA"


class EndOfStream(Enum):
    """Sentinel type: the peer closed the stream cleanly (between messages)."""

    END_OF_STREAM = "END_OF_STREAM"


NEED_DATA = NeedData.NEED_DATA
END_OF_STREAM = EndOfStream.END_OF_STREAM


@dataclass(frozen=True, slots=True)
class Banner:
    """The greeting line the Asterisk side sends first, without its line ending."""

    text: str


# End of a message: the LF of its last header line, then an empty line (CR LF or LF).
_MESSAGE_END = re.compile(rb"\n\r?\n")
# One header: a non-empty name, a colon, one optional space, the value up to the line end.
_HEADER = re.compile(r"([^:\n]+): ?([^\n]*)")


class Framer:
    """Cuts a received AMI byte stream into messages."""

    def __init__(self, *, expect_banner: bool, max_message_bytes: int = 1 << 20) -> None:
        self._buffer = bytearray()
        self._base = 0  # stream offset of self._buffer[0]
        self._scan_from = 0  # buffer index from which no message end has been searched yet
        self._expect_banner = expect_banner
        self._max = max_message_bytes
        self._eof = False
        self._ready: deque[tuple[Message | Banner, int]] = deque()  # (item, stream end offset)
        self._offset = 0
        self._error: RemoteProtocolError | None = None
        self._pending_error: RemoteProtocolError | None = None

    @property
    def offset(self) -> int:
        """Bytes of the stream consumed by the items returned so far."""
        return self._offset

    @property
    def pending_bytes(self) -> bytes:
        """Received bytes not yet cut into messages (a partial message, stray blank lines)."""
        return bytes(self._buffer)

    def receive_data(self, data: bytes) -> None:
        """Add received bytes; ``b""`` means the peer closed the stream."""
        if self._eof:
            raise LocalProtocolError("data received after end of stream")
        if data:
            self._buffer += data
        else:
            self._eof = True

    def next_message(self) -> Message | Banner | NeedData | EndOfStream:
        """The next complete item, ``NEED_DATA``, or ``END_OF_STREAM``; may raise
        ``RemoteProtocolError``."""
        if self._error is not None:
            raise self._error
        if not self._ready and self._pending_error is None:
            self._parse_available()
        if self._ready:
            item, end = self._ready.popleft()
            self._offset = end
            return item
        if self._pending_error is not None:
            self._error, self._pending_error = self._pending_error, None
            raise self._error
        if self._eof:
            return self._at_eof()
        return NEED_DATA

    # -- internals -------------------------------------------------------------------------

    def _fail(self, message: str, offset: int) -> None:
        self._pending_error = RemoteProtocolError(message, offset=offset)

    def _at_eof(self) -> EndOfStream:
        leftover = bytes(self._buffer)
        if leftover.strip(b"\r\n"):
            start = self._base + (len(leftover) - len(leftover.lstrip(b"\r\n")))
            self._error = RemoteProtocolError("end of stream inside a message", offset=start)
            raise self._error
        return END_OF_STREAM

    def _parse_available(self) -> None:
        buf = self._buffer
        pos = 0
        if self._expect_banner:
            nl = buf.find(b"\n", self._scan_from)
            if nl < 0:
                self._scan_from = len(buf)
                if len(buf) > self._max:
                    self._fail("banner line too long", self._base)
                return
            line = bytes(buf[:nl]).rstrip(b"\r").decode("utf-8", "replace")
            self._expect_banner = False
            pos = nl + 1
            self._ready.append((Banner(line), self._base + pos))
            self._scan_from = pos
        scan = max(self._scan_from, pos)
        for match in _MESSAGE_END.finditer(buf, scan):
            end = match.end()
            if end - pos > self._max:
                self._fail("message too long", self._base + pos)
                break
            message = self._parse_message(buf, pos, match.start())
            if message is None and self._pending_error is not None:
                break
            if message is not None:
                self._ready.append((message, self._base + end))
            pos = end
        else:
            # The searched tail may end with the first byte(s) of a terminator: rescan them.
            self._scan_from = max(pos, len(buf) - 2)
            if len(buf) - pos > self._max and buf[pos:].strip(b"\r\n"):
                self._fail("message too long", self._base + pos)
        if pos:
            del buf[:pos]
            self._base += pos
            self._scan_from = max(0, self._scan_from - pos)

    def _parse_message(self, buf: bytearray, start: int, stop: int) -> Message | None:
        """Headers of ``buf[start:stop]`` (stop = index of the last header line's LF)."""
        text = buf[start:stop].decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if text[-1:] == "\r":
                text = text[:-1]
        if text[:1] == "\n":
            text = text.lstrip("\n")  # blank lines before a message
        if not text:
            return None
        headers = _HEADER.findall(text)
        # One match per good line; a line without a colon has none, so the counts differ.
        if len(headers) != text.count("\n") + 1:
            self._fail_line(buf, start, stop, text)
            return None
        return Message(tuple(headers))

    def _fail_line(self, buf: bytearray, start: int, stop: int, text: str) -> None:
        # Slow path, errors only: find the bad line, then its byte offset.
        bad = next(i for i, line in enumerate(text.split("\n")) if _HEADER.fullmatch(line) is None)
        offset = start
        seen = 0
        for raw in bytes(buf[start:stop]).split(b"\n"):
            if seen == 0 and raw in (b"", b"\r"):
                offset += len(raw) + 1  # leading blank line (stripped from text)
                continue
            if seen == bad:
                break
            seen += 1
            offset += len(raw) + 1
        self._fail("header line without a colon", self._base + offset)


def resync_point(data: bytes, offset: int) -> int:
    """Where parsing can start again after bad input at ``offset``: just past the next blank line
    (the end of the damaged message), or ``len(data)`` if there is none."""
    match = _MESSAGE_END.search(data, offset)
    return len(data) if match is None else match.end()


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """Event of both roles: the peer closed the connection cleanly, between messages."""
