"""One FastAGI connection from the simulated Asterisk to the daemon's FastAGI server.

Moves bytes between a TCP connection and the FastAGI client-role core
(``acd.asterisk.agi.client_conn``): command lines go to ``Pbx.agi_command``; the core's
``AgiReply`` / ``AgiHangupNotice`` / ``AgiClose`` outputs come back through ``reply``, ``hangup``
and ``close``. Fault modes bend the connection the way real failures do (see acd/sim/faults.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

from acd.asterisk.agi.client_conn import (
    NEED_DATA,
    ClientConnection,
    CommandReceived,
    ConnectionClosed,
)
from acd.asterisk.errors import ProtocolError
from acd.logging import get_logger
from acd.sim.faults import Faults
from acd.sim.outputs import AgiOpen
from acd.sim.pbx import Pbx

log = get_logger(__name__)


class LinkHost(Protocol):
    pbx: Pbx
    faults: Faults

    def now(self) -> float: ...
    def catch_up(self) -> None: ...
    def flush(self) -> None: ...
    def refused_port(self) -> int: ...
    def forget_link(self, session_id: int) -> None: ...


class AgiLink:
    """The Asterisk end of one FastAGI session (``session_id`` as the core numbers it)."""

    def __init__(self, host: LinkHost, request: AgiOpen) -> None:
        self._host = host
        self._request = request
        self.session_id = request.session_id
        self.channel = dict(request.env).get("agi_channel", "")
        self._conn = ClientConnection()
        self._writer: asyncio.StreamWriter | None = None
        self._closed = False  # no more reading or writing
        self._connected = False  # TCP connect succeeded
        self._ended = False  # the core knows the session is over (its AgiClose, or we told it)
        self._waiting_reply = False
        self._fault_hangup_done = False
        self._held: deque[str] = deque()  # complete command lines Asterisk has not woken for

    # -- outputs of the core --------------------------------------------------------------------
    def reply(self, text: str) -> None:
        self._waiting_reply = False
        self._send(lambda: self._conn.reply_raw(text))

    def hangup(self) -> None:
        self._send(self._conn.hangup)

    def close(self) -> None:
        """The core ended the session (after its closing ``HANGUP`` line)."""
        self._closed = self._ended = True
        if self._writer is not None:
            self._writer.close()

    def cut(self) -> None:
        """The server's process died (fault ``cut_agi``): nothing more is read from it or
        written to it; the session loop sees the end and tells the core (EOF)."""
        self._closed = True
        if self._writer is not None:
            self._writer.transport.abort()

    def _send(self, make: Callable[[], bytes]) -> None:
        if self._writer is None or self._closed or self._writer.is_closing():
            return
        try:
            data = make()
        except ProtocolError as exc:  # a core bug: log it, keep the simulator running
            log.error("sim_agi_cannot_send", session_id=self.session_id, error=str(exc))
            return
        self._writer.write(data)

    # -- the connection ------------------------------------------------------------------------
    async def run(self) -> None:
        host, req = self._host, self._request
        port = host.refused_port() if host.faults.agi_refused else req.port
        try:
            reader, writer = await asyncio.open_connection(req.host, port)
            try:
                await self._session(reader, writer)
                # Still able to write: the core answers the end with its closing HANGUP line.
                self._report_end()
            finally:
                writer.close()
        except (ConnectionError, OSError) as exc:
            log.debug("sim_agi_connection_error", session_id=self.session_id, error=repr(exc))
        finally:
            # However the session ended, the core learns it exactly once (refused connect:
            # AGISTATUS=FAILURE; otherwise the AGI() application returns).
            self._report_end()
            host.forget_link(self.session_id)

    def _report_end(self) -> None:
        if self._ended:
            return
        self._ended = True
        host = self._host
        host.catch_up()
        if self._connected:
            host.pbx.agi_closed(host.now(), self.session_id)
        else:
            host.pbx.agi_connect_failed(host.now(), self.session_id)
        host.flush()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = self._host
        if self._ended:  # the caller hung up while we were connecting
            return
        self._connected = True
        if host.faults.agi_dropped:
            # Accepted by the kernel, then lost before the script ran: Asterisk goes on with
            # AGISTATUS=SUCCESS and none of the script's variables (shared/asterisk README).
            writer.transport.abort()
            host.catch_up()
            host.pbx.agi_connected(host.now(), self.session_id)
            host.flush()
            return
        self._writer = writer
        writer.write(self._conn.start(self._request.env))
        host.catch_up()
        host.pbx.agi_connected(host.now(), self.session_id)
        host.flush()
        while not self._closed:
            data = await reader.read(65536)
            self._conn.receive_data(data)
            try:
                if not self._feed():
                    return
            except ProtocolError as exc:
                log.info("sim_agi_bad_input", session_id=self.session_id, error=str(exc))
                return

    def _feed(self) -> bool:
        """Hand the commands Asterisk would run now to the core; False once the session is over.

        res_agi.c ``run_agi`` polls the socket, then reads a line with ``fgets`` from a stdio
        FILE: lines that came in one read wait in the FILE's buffer, and only the socket's next
        bytes (or its end) wake the loop for them. So each arrival runs the lines held from
        before and the first new one; the rest wait (RECORDED on 22.10.1, agi_pipelining: three
        commands in one write get one reply, then nothing until the server writes again or
        shuts its side down). A server that writes a command only after the previous reply, as
        ours does, never meets this."""
        backlog = len(self._held)
        ended = False
        while True:
            event = self._conn.next_event()
            if event is NEED_DATA:
                break
            if isinstance(event, ConnectionClosed):
                ended = True
                break
            assert isinstance(event, CommandReceived)
            self._held.append(event.line)
        for _ in range(len(self._held) if ended else min(len(self._held), backlog + 1)):
            if self._closed:
                return False
            self._run(self._held.popleft())
        return not (ended or self._closed)

    def _run(self, line: str) -> None:
        host = self._host
        self._waiting_reply = True
        host.catch_up()
        host.pbx.agi_command(host.now(), self.session_id, line)
        host.flush()
        if self._waiting_reply and host.faults.agi_hangup and not self._fault_hangup_done:
            # The command is still running (STREAM FILE, GET DATA, Dial...): the caller
            # hangs up now, as in scenario D of the recordings.
            self._fault_hangup_done = True
            host.pbx.hangup(host.now(), self.channel)
            host.flush()
