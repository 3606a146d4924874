"""Protocol errors, split by who is at fault.

``LocalProtocolError``: our own code misused the protocol (sent an action before login, encoded a
header with a newline in it, ...). It is a bug on our side and never caused by network input.

``RemoteProtocolError``: the peer sent bytes we cannot accept (a header line without a colon, a
FastAGI reply that is not ``NNN ...``, an oversized frame). Fuzzing invariant: feeding *any* bytes
to a core either yields events or raises ``RemoteProtocolError`` -- nothing else.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every AMI / FastAGI protocol error."""

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: byte offset in the received stream where the problem starts, when known
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte {self.offset})"


class LocalProtocolError(ProtocolError):
    """We tried to do something the protocol (or the connection's current state) forbids."""


class RemoteProtocolError(ProtocolError):
    """The peer sent data that violates the protocol."""
