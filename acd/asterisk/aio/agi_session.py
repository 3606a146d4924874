"""One FastAGI session as seen by a script handler (IVR, agent feature codes, call-backs).

The handler awaits ``session.command(...)`` or the typed helpers; a reader task owned by the
server feeds every received byte to the sans-I/O ``ServerConnection`` so that an unsolicited
``HANGUP`` is noticed even while the script is busy elsewhere (``session.hung_up`` and
``session.hangup_event``). After a hang-up, media commands raise ``ChannelHungUp`` without being
sent (Asterisk would answer 511), while GET/SET VARIABLE, VERBOSE, DATABASE, EXEC and NOOP still
run (res/res_agi.c commands[] ``dead`` column; shared README).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Mapping

from acd.asterisk.agi import commands as cmd
from acd.asterisk.agi.env import AgiEnvironment
from acd.asterisk.agi.replies import CODE_DEAD_CHANNEL, CODE_SUCCESS, AgiReply
from acd.asterisk.agi.server_conn import (
    ConnectionClosed,
    HangupReceived,
    ReplyReceived,
    ServerConnection,
)


class AgiError(Exception):
    """Base class of the errors a FastAGI handler can see."""


class ChannelHungUp(AgiError):
    """The caller hung up: media commands can no longer run on this channel."""


class AgiConnectionLost(AgiError):
    """Asterisk closed or reset the connection (or it broke): the session is over."""


class AgiCommandTimeout(AgiConnectionLost):
    """No reply within the command timeout; the connection is dropped (replies would misalign)."""


class AgiCommandError(AgiError):
    """Asterisk rejected a command (510 unknown, 520 usage): a bug in the script."""

    def __init__(self, command: str, reply: AgiReply) -> None:
        super().__init__(f"{command!r} -> {reply.lines[0] if reply.lines else reply.code}")
        self.command = command
        self.reply = reply


class AgiSession:
    """Handle for one FastAGI connection. Created by ``FastAgiServer``; not thread-safe."""

    def __init__(
        self,
        conn: ServerConnection,
        env: AgiEnvironment,
        writer: asyncio.StreamWriter,
        *,
        peer: str,
        command_timeout_s: float | None,
    ) -> None:
        self._conn = conn
        self._writer = writer
        self._command_timeout_s = command_timeout_s
        self._lock = asyncio.Lock()
        self._waiter: asyncio.Future[AgiReply] | None = None
        self._idle = asyncio.Event()  # no command outstanding at Asterisk
        self._idle.set()
        self._failure: str | None = None
        #: command lines written to Asterisk so far (``wait_written``)
        self.written = 0
        self._written_event = asyncio.Event()
        self.env = env
        self.peer = peer
        #: set when Asterisk reports the hang-up (HANGUP line or a 511 reply)
        self.hangup_event = asyncio.Event()
        #: set when the connection is over (EOF, reset, protocol error, timeout)
        self.closed_event = asyncio.Event()

    @property
    def params(self) -> Mapping[str, str]:
        return self.env.params

    @property
    def args(self) -> tuple[str, ...]:
        return self.env.args

    @property
    def hung_up(self) -> bool:
        return self.hangup_event.is_set()

    @property
    def closed(self) -> bool:
        return self.closed_event.is_set()

    async def command(self, line: str, *, timeout_s: float | None = None) -> AgiReply:
        """Send one command line and return its reply.

        ``timeout_s`` overrides the server's command timeout (``math.inf``: no limit, for an
        ``EXEC Dial`` that lasts the whole conversation). Raises ``ChannelHungUp`` for a media
        command after the hang-up or on a 511 reply, ``AgiConnectionLost`` when the connection
        ends first, ``AgiCommandTimeout`` when no reply comes in time.
        """
        limit = self._command_timeout_s if timeout_s is None else timeout_s
        async with self._lock:
            try:
                async with asyncio.timeout(None if limit is None or math.isinf(limit) else limit):
                    # A command cancelled by the script may still have its reply due; Asterisk
                    # answers in order, so wait for it (and drop it) before sending the next one.
                    await self._idle.wait()
                    reply = await self._exchange(line)
            except TimeoutError:
                self.fail(f"no reply to {line!r} within {limit} s")
                self._writer.transport.abort()
                raise AgiCommandTimeout(f"no reply to {line!r} within {limit} s") from None
        if reply.code == CODE_DEAD_CHANNEL:
            self.hangup_event.set()
            raise ChannelHungUp(f"{line!r}: {reply.lines[0]}")
        return reply

    async def _exchange(self, line: str) -> AgiReply:
        if self._failure is not None:
            raise AgiConnectionLost(f"{line!r} not sent: {self._failure}")
        if self.hung_up and not cmd.allowed_on_dead_channel(line):
            raise ChannelHungUp(f"{line!r} not sent: the channel hung up")
        data = self._conn.send_command(line)
        self._idle.clear()
        waiter: asyncio.Future[AgiReply] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as exc:
            self.fail(f"write failed: {exc!r}")
        self.written += 1
        self._written_event.set()
        try:
            return await waiter
        finally:
            self._waiter = None

    async def wait_written(self, count: int) -> None:
        """Until ``count`` command lines have been written (or the connection is over): an
        interrupt of a running command must not overtake the command itself."""
        while self.written < count and not self.closed:
            self._written_event.clear()
            await self._written_event.wait()

    async def finish(self, timeout_s: float) -> None:
        """End the session from our side now, as the server does when the script returns: half-
        close the connection; Asterisk answers with ``HANGUP``, closes, and the channel goes on
        in the dialplan. Waits at most ``timeout_s`` for the close. (A script that must do more
        once Asterisk has finished with the channel, e.g. read the recording the channel's end
        closes, calls this first.)"""
        if not self.closed and self._writer.can_write_eof():
            self._writer.write_eof()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self.closed_event.wait()

    # --- called by the server's reader task ------------------------------------------------------

    def on_event(self, event: object) -> None:
        """Dispatch one event of the sans-I/O core (only from the reader task)."""
        if isinstance(event, ReplyReceived):
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(event.reply)
            self._idle.set()
        elif isinstance(event, HangupReceived):
            self.hangup_event.set()
        elif isinstance(event, ConnectionClosed):
            self.fail("Asterisk closed the connection")

    def fail(self, reason: str) -> None:
        """The connection is unusable: wake the waiting command and refuse further ones."""
        if self._failure is None:
            self._failure = reason
        self.closed_event.set()
        self._written_event.set()
        self._idle.set()  # nothing more will arrive; queued commands fail fast
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(AgiConnectionLost(reason))

    # --- typed helpers (see acd.asterisk.agi.commands for the exact lines) ------------------------

    async def _checked(self, line: str, *, timeout_s: float | None = None) -> AgiReply:
        reply = await self.command(line, timeout_s=timeout_s)
        if reply.code != CODE_SUCCESS:
            raise AgiCommandError(line, reply)
        return reply

    async def answer(self) -> AgiReply:
        return await self._checked(cmd.answer())

    async def hangup(self, channel: str | None = None) -> AgiReply:
        return await self._checked(cmd.hangup(channel))

    async def noop(self) -> None:
        await self._checked(cmd.noop())

    async def stream_file(
        self, file: str, escape_digits: str = "", offset: int | None = None
    ) -> AgiReply:
        """``reply.digit`` is the key pressed; result -1 with ``endpos=0``: missing file."""
        return await self._checked(cmd.stream_file(file, escape_digits, offset))

    async def get_data(
        self, file: str, timeout_ms: int | None = None, max_digits: int | None = None
    ) -> AgiReply:
        """``reply.digits`` are the keys collected; ``reply.timed_out`` if the caller stopped."""
        return await self._checked(cmd.get_data(file, timeout_ms, max_digits))

    async def get_option(
        self, file: str, escape_digits: str, timeout_ms: int | None = None
    ) -> AgiReply:
        return await self._checked(cmd.get_option(file, escape_digits, timeout_ms))

    async def wait_for_digit(self, timeout_ms: int) -> AgiReply:
        """``reply.digit`` is the key, None when the time ran out (result 0)."""
        return await self._checked(cmd.wait_for_digit(timeout_ms))

    async def say_number(self, number: int, escape_digits: str = "") -> AgiReply:
        return await self._checked(cmd.say_number(number, escape_digits))

    async def say_digits(self, digits: str, escape_digits: str = "") -> AgiReply:
        return await self._checked(cmd.say_digits(digits, escape_digits))

    async def set_variable(self, name: str, value: str) -> None:
        await self._checked(cmd.set_variable(name, value))

    async def set_variables(self, *pairs: tuple[str, str]) -> None:
        """Set several channel variables, in one round trip where the values allow (MSet): each
        command before a Dial is time the caller waits for the agent's phone to ring."""
        line = cmd.set_variables(pairs)
        if line is not None:
            reply = await self._checked(line)
            if reply.result != "-2":  # -2: no MSet application (res_agi.c handle_exec)
                return
        for name, value in pairs:
            await self.set_variable(name, value)

    async def get_variable(self, name: str) -> str | None:
        """The value, or None when the variable is not set (``200 result=0``)."""
        reply = await self._checked(cmd.get_variable(name))
        return reply.data if reply.result == "1" else None

    async def get_full_variable(self, expression: str, channel: str | None = None) -> str | None:
        reply = await self._checked(cmd.get_full_variable(expression, channel))
        return reply.data if reply.result == "1" else None

    async def exec_(self, app: str, *args: str, timeout_s: float | None = None) -> AgiReply:
        """Run a dialplan application; result -2 means Asterisk does not know it."""
        return await self._checked(cmd.exec_(app, *args), timeout_s=timeout_s)

    async def channel_status(self, channel: str | None = None) -> int:
        """Asterisk channel state: 6 = up (res_agi.c handle_channelstatus)."""
        reply = await self._checked(cmd.channel_status(channel))
        return reply.result_int if reply.result_int is not None else -1

    async def verbose(self, message: str, level: int = 1) -> None:
        await self._checked(cmd.verbose(message, level))

    async def database_get(self, family: str, key: str) -> str | None:
        reply = await self._checked(cmd.database_get(family, key))
        return reply.data if reply.result == "1" else None

    async def database_put(self, family: str, key: str, value: str) -> bool:
        return (await self._checked(cmd.database_put(family, key, value))).result == "1"

    async def database_del(self, family: str, key: str) -> bool:
        return (await self._checked(cmd.database_del(family, key))).result == "1"

    async def set_music(self, on: bool, music_class: str | None = None) -> None:
        await self._checked(cmd.set_music(on, music_class))
