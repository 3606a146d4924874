"""The FastAGI client role (what Asterisk does) as a sans-I/O state machine, for the simulator.

Asterisk connects, writes the ``agi_*`` environment block (res_agi.c setup_env()), then reads one
command line at a time and answers each in order (res_agi.c run_agi() / agi_handle_command()).
It may write the unsolicited ``HANGUP`` line at any time after the environment; at the end of
every session it writes ``HANGUP`` and closes (fastagi_session.txt).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from acd.asterisk.agi.commands import MAX_COMMAND_BYTES, split_args
from acd.asterisk.agi.lines import LineBuffer
from acd.asterisk.agi.replies import (
    CODE_TRYING,
    DEAD_CHANNEL_LINE,
    INVALID_COMMAND_LINE,
    format_result,
    format_usage,
)
from acd.asterisk.errors import LocalProtocolError


@dataclass(frozen=True, slots=True)
class CommandReceived:
    #: the command line as sent, without its LF
    line: str
    #: the line split the way res_agi.c parse_args() does (``argv[0]`` is the first word)
    argv: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The FastAGI server closed (or half-closed) its side."""


class _NeedData(enum.Enum):
    NEED_DATA = "NEED_DATA"


NEED_DATA = _NeedData.NEED_DATA

ClientEvent = CommandReceived | ConnectionClosed | _NeedData


class ClientState(enum.Enum):
    NEW = "new"  # environment not sent yet
    RUNNING = "running"
    CLOSED = "closed"  # the server sent EOF


class ClientConnection:
    """One FastAGI session from Asterisk's point of view."""

    def __init__(self) -> None:
        # run_agi() reads commands into char buf[AGI_BUF_LEN]; longer lines are not commands.
        self._lines = LineBuffer(MAX_COMMAND_BYTES + 1)
        self._state = ClientState.NEW
        #: commands received and not yet answered (the server may pipeline)
        self._unanswered = 0

    @property
    def state(self) -> ClientState:
        return self._state

    @property
    def unanswered(self) -> int:
        return self._unanswered

    def start(self, env_pairs: Iterable[tuple[str, str]]) -> bytes:
        """The environment block: one ``key: value`` line per pair, then an empty line."""
        if self._state is not ClientState.NEW:
            raise LocalProtocolError("the environment was already sent")
        out: list[str] = []
        for key, value in env_pairs:
            if not key.startswith("agi_") or ": " in key or _has_newline(key + value):
                raise LocalProtocolError(f"bad environment pair: {key!r}: {value!r}")
            out.append(f"{key}: {value}\n")
        out.append("\n")
        self._state = ClientState.RUNNING
        return "".join(out).encode("utf-8")

    def receive_data(self, data: bytes) -> None:
        """Bytes from the FastAGI server; ``b""`` means EOF."""
        self._lines.feed(data)

    def next_event(self) -> ClientEvent:
        line = self._lines.next_line()
        if line is None:
            if not self._lines.eof:
                return NEED_DATA
            # run_agi() treats a read of nothing as "script completed"; a trailing partial line
            # without LF is still run as a command by fgets() -- report it the same way.
            if self._lines.pending:
                tail = self._lines.take_rest()
                self._unanswered += 1
                return CommandReceived(tail, split_args(tail))
            self._state = ClientState.CLOSED
            return ConnectionClosed()
        self._unanswered += 1
        return CommandReceived(line, split_args(line))

    def reply(
        self,
        code: int = 200,
        result: str = "0",
        data: str | None = None,
        endpos: int | None = None,
    ) -> bytes:
        """``200 result=<result>[ (data)][ endpos=<n>]``. Code 100 is intermediate (no answer)."""
        if _has_newline(result + (data or "")):
            raise LocalProtocolError("reply fields cannot contain CR or LF")
        return self._answer(
            format_result(code, result, data, endpos) + "\n", final=code != CODE_TRYING
        )

    def reply_raw(self, text: str) -> bytes:
        """A complete reply given as text (one or more lines); an LF is added if missing.

        ``100 ...`` (GOSUB's ``Trying...``) is intermediate and does not answer the command.
        """
        if not text.endswith("\n"):
            text += "\n"
        return self._answer(text, final=not text.startswith(f"{CODE_TRYING} "))

    def reply_invalid(self) -> bytes:
        """``510 Invalid or unknown command``."""
        return self.reply_raw(INVALID_COMMAND_LINE)

    def reply_dead_channel(self) -> bytes:
        """``511 Command Not Permitted on a dead channel or intercept routine``."""
        return self.reply_raw(DEAD_CHANNEL_LINE)

    def reply_usage(self, usage: str) -> bytes:
        """The multi-line ``520-`` reply with the command's usage text."""
        return self.reply_raw(format_usage(usage))

    def hangup(self) -> bytes:
        """The unsolicited ``HANGUP`` line (caller gone, or the end of the session)."""
        if self._state is ClientState.NEW:
            raise LocalProtocolError("HANGUP before the environment was sent")
        return b"HANGUP\n"

    def _answer(self, text: str, *, final: bool) -> bytes:
        if self._state is ClientState.NEW:
            raise LocalProtocolError("reply before the environment was sent")
        if self._unanswered <= 0:
            raise LocalProtocolError("no command is waiting for a reply")
        if final:
            self._unanswered -= 1
        return text.encode("utf-8")


def _has_newline(text: str) -> bool:
    return "\n" in text or "\r" in text
