"""The FastAGI server role (our daemon's side) as a sans-I/O state machine, h11 style.

Feed what the socket gives to ``receive_data`` (``b""`` at EOF), then call ``next_event`` until
it returns ``NEED_DATA``. ``send_command`` returns the bytes to write; one command may be
outstanding at a time, as Asterisk answers strictly in order (res_agi.c run_agi()).

The unsolicited ``HANGUP`` line is out-of-band: res_agi.c run_agi() writes it when it notices the
hang-up between commands, so it arrives while idle, right after a reply (scenario D), or before
the reply to the next command (scenario F). It is reported as ``HangupReceived`` and never taken
as a reply. Lines inside a multi-line ``520-`` reply are body text, whatever they say.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from acd.asterisk.agi.env import AgiEnvironment, parse_environment
from acd.asterisk.agi.lines import LineBuffer
from acd.asterisk.agi.replies import CODE_TRYING, AgiReply, parse_reply, status_of
from acd.asterisk.errors import LocalProtocolError, RemoteProtocolError

#: longest reply line accepted: GET VARIABLE returns whole variable values
MAX_REPLY_LINE = 64 * 1024
#: res_agi.c passes up to MAX_ARGS (128) dialplan arguments; leave room for the ~25 fixed keys
MAX_ENV_LINES = 256
MAX_USAGE_LINES = 512
HANGUP_LINE = "HANGUP"
_ENV_KEY = re.compile(r"agi_[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class EnvironmentReceived:
    env: AgiEnvironment


@dataclass(frozen=True, slots=True)
class ReplyReceived:
    reply: AgiReply
    #: the command line this reply answers
    command: str


@dataclass(frozen=True, slots=True)
class ProgressReceived:
    """An intermediate ``100 result=0 Trying...``; the real reply follows (app_stack.c GOSUB)."""

    reply: AgiReply


@dataclass(frozen=True, slots=True)
class HangupReceived:
    """The caller hung up (or the session is ending); non-media commands still work."""


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """Asterisk closed its side of the connection."""


class _NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"


NEED_DATA = _NeedData.NEED_DATA

ServerEvent = (
    EnvironmentReceived
    | ReplyReceived
    | ProgressReceived
    | HangupReceived
    | ConnectionClosed
    | _NeedData
)


class ServerState(enum.Enum):
    ENVIRONMENT = "environment"  # reading the agi_* block
    IDLE = "idle"  # no command outstanding
    AWAITING_REPLY = "awaiting_reply"
    USAGE_BODY = "usage_body"  # inside a multi-line 520 reply
    CLOSED = "closed"  # Asterisk sent EOF


class ServerConnection:
    """One FastAGI session from the server's point of view."""

    def __init__(self) -> None:
        self._lines = LineBuffer(MAX_REPLY_LINE)
        self._state = ServerState.ENVIRONMENT
        self._env_pairs: list[tuple[str, str]] = []
        self._env_start = 0
        self._pending: str | None = None
        self._usage: list[str] = []
        self._usage_code = 0
        self.hung_up = False
        self.env: AgiEnvironment | None = None

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def pending_command(self) -> str | None:
        return self._pending

    def receive_data(self, data: bytes) -> None:
        """Bytes from Asterisk; ``b""`` means EOF."""
        self._lines.feed(data)

    def send_command(self, command: str) -> bytes:
        """Bytes to write for one command line (without LF). Only one may be outstanding."""
        if self._state is ServerState.ENVIRONMENT:
            raise LocalProtocolError("cannot send a command before the environment is received")
        if self._state is ServerState.CLOSED:
            raise LocalProtocolError("cannot send a command: Asterisk closed the connection")
        if self._pending is not None:
            raise LocalProtocolError(f"command still awaiting its reply: {self._pending!r}")
        if "\n" in command or "\r" in command or "\0" in command:
            raise LocalProtocolError(f"command contains CR, LF or NUL: {command!r}")
        self._pending = command
        self._state = ServerState.AWAITING_REPLY
        return command.encode("utf-8") + b"\n"

    def next_event(self) -> ServerEvent:
        while True:
            line = self._lines.next_line()
            if line is None:
                return self._at_end_of_data()
            event = self._on_line(line)
            if event is not None:
                return event

    def _at_end_of_data(self) -> ConnectionClosed | _NeedData:
        if not self._lines.eof:
            return NEED_DATA
        if self._lines.pending:
            raise RemoteProtocolError(
                "connection closed in the middle of a line", offset=self._lines.offset
            )
        if self._state is ServerState.ENVIRONMENT and self._env_pairs:
            raise RemoteProtocolError(
                "connection closed inside the environment", offset=self._env_start
            )
        if self._state is ServerState.USAGE_BODY:
            raise RemoteProtocolError(
                "connection closed inside a 520 reply", offset=self._lines.offset
            )
        self._state = ServerState.CLOSED
        return ConnectionClosed()

    def _on_line(self, line: str) -> ServerEvent | None:
        state = self._state
        if state is ServerState.ENVIRONMENT:
            return self._on_env_line(line)
        if state is ServerState.USAGE_BODY:
            return self._on_usage_line(line)
        if line == HANGUP_LINE:
            self.hung_up = True
            return HangupReceived()
        if state is ServerState.AWAITING_REPLY:
            return self._on_reply_line(line)
        raise RemoteProtocolError(
            f"unexpected line with no command outstanding: {line[:80]!r}",
            offset=self._lines.last_offset,
        )

    def _on_env_line(self, line: str) -> EnvironmentReceived | None:
        if not self._env_pairs:
            self._env_start = self._lines.last_offset
        if line == "":
            self.env = parse_environment(self._env_pairs)
            self._state = ServerState.IDLE
            return EnvironmentReceived(self.env)
        key, sep, value = line.partition(": ")
        if not sep or not _ENV_KEY.fullmatch(key):
            raise RemoteProtocolError(
                f"not an agi_* environment line: {line[:80]!r}", offset=self._lines.last_offset
            )
        if len(self._env_pairs) >= MAX_ENV_LINES:
            raise RemoteProtocolError("environment block too long", offset=self._env_start)
        self._env_pairs.append((key, value))
        return None

    def _on_reply_line(self, line: str) -> ReplyReceived | ProgressReceived | None:
        try:
            code, continues = status_of(line)
        except RemoteProtocolError as exc:
            raise RemoteProtocolError(exc.message, offset=self._lines.last_offset) from None
        if continues:
            self._usage = [line]
            self._usage_code = code
            self._state = ServerState.USAGE_BODY
            return None
        reply = parse_reply((line,))
        if code == CODE_TRYING:
            return ProgressReceived(reply)
        return self._complete(reply)

    def _on_usage_line(self, line: str) -> ReplyReceived | None:
        self._usage.append(line)
        if line.startswith(f"{self._usage_code} "):
            return self._complete(parse_reply(tuple(self._usage)))
        if len(self._usage) > MAX_USAGE_LINES:
            raise RemoteProtocolError("520 reply too long", offset=self._lines.last_offset)
        return None

    def _complete(self, reply: AgiReply) -> ReplyReceived:
        command = self._pending or ""
        self._pending = None
        self._usage = []
        self._state = ServerState.IDLE
        return ReplyReceived(reply, command)
