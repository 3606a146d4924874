"""LF line splitting shared by both FastAGI roles: byte offsets, size limit, UTF-8 check.

FastAGI is LF-only in both directions (shared README). Bytes arrive in arbitrary chunks, so a
partial line stays buffered until its LF comes; a line longer than the limit, or one that is not
UTF-8, is the peer's fault and raises ``RemoteProtocolError`` with the offset where it starts.
"""

from __future__ import annotations

from acd.asterisk.errors import LocalProtocolError, RemoteProtocolError


class LineBuffer:
    """Collects received bytes and hands out complete lines (without the LF) in order."""

    def __init__(self, max_line: int) -> None:
        self._max_line = max_line
        self._buffer = bytearray()
        self._scan_from = 0  # no LF before this index of the buffer
        self._consumed = 0  # stream offset of self._buffer[0]
        self._eof = False
        #: stream offset where the line most recently returned by next_line() started
        self.last_offset = 0

    @property
    def eof(self) -> bool:
        """True once ``feed(b"")`` was called (the peer closed)."""
        return self._eof

    @property
    def offset(self) -> int:
        """Stream offset of the next byte a line would start at."""
        return self._consumed

    @property
    def pending(self) -> int:
        """Bytes received but not yet returned as a line."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        if self._eof:
            if data:
                raise LocalProtocolError("received data after EOF")
            return
        if not data:
            self._eof = True
            return
        self._buffer += data

    def take_rest(self) -> str:
        """Everything buffered as one final line (after EOF, for a last line without LF)."""
        raw = bytes(self._buffer)
        start = self.last_offset = self._consumed
        self._buffer.clear()
        self._consumed += len(raw)
        self._scan_from = 0
        return _decode(raw, start)

    def next_line(self) -> str | None:
        """The next complete line, or None if more bytes are needed."""
        index = self._buffer.find(b"\n", self._scan_from)
        if index < 0:
            if len(self._buffer) > self._max_line:
                raise RemoteProtocolError(
                    f"line longer than {self._max_line} bytes", offset=self._consumed
                )
            self._scan_from = len(self._buffer)
            return None
        if index > self._max_line:
            raise RemoteProtocolError(
                f"line longer than {self._max_line} bytes", offset=self._consumed
            )
        raw = bytes(self._buffer[:index])
        start = self.last_offset = self._consumed
        del self._buffer[: index + 1]
        self._consumed += index + 1
        self._scan_from = 0
        return _decode(raw, start)


def _decode(raw: bytes, start: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError("line is not UTF-8", offset=start + exc.start) from None
