"""The simulator's AMI listener: one ``AmiSession`` per TCP client, on the AMI server-role core.

The session moves bytes between the socket and ``acd.asterisk.ami.server.ServerConnection``; what
each action does is decided in ``acd.sim.ami_actions``. Events reach a session only once it is
logged in and only for the classes its event mask allows (``Events: off`` at login or the
``Events`` action). A session whose client stops reading is disconnected once its write buffer
passes a bound, as Asterisk drops a session that hits ``writetimeout`` (manager.conf; main/manager.c
``send_string`` gives up on the session when the write times out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from acd.asterisk.ami.event_filters import EventFilter, should_send
from acd.asterisk.ami.message import Message, encode
from acd.asterisk.ami.server import NEED_DATA, ActionReceived, ConnectionClosed, ServerConnection
from acd.asterisk.errors import ProtocolError
from acd.logging import get_logger
from acd.sim.faults import Faults

if TYPE_CHECKING:
    from acd.sim.ami_actions import ActionHandler

log = get_logger(__name__)

#: the event mask "every class" (the default after a Login without ``Events:``)
ALL_EVENTS: frozenset[str] = frozenset({"all"})
NO_EVENTS: frozenset[str] = frozenset()

Spawn = Callable[[Coroutine[Any, Any, None]], object]


def parse_event_mask(value: str | None) -> frozenset[str]:
    """``Events:`` header value -> set of event classes (main/manager.c ``strings_to_mask``:
    on/yes/true/all mean every class, off/no/false none, else a comma-separated class list)."""
    text = (value or "").strip().lower()
    if text in ("", "on", "yes", "true", "all", "1"):
        return ALL_EVENTS
    if text in ("off", "no", "false", "0", "none"):
        return NO_EVENTS
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def event_classes(message: Message) -> frozenset[str]:
    """Classes from the event's ``Privilege`` header (``call,all`` -> {"call", "all"})."""
    value = message.get("Privilege") or ""
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


def wanted(mask: frozenset[str], classes: frozenset[str]) -> bool:
    if not mask or not classes:
        return False
    if mask is ALL_EVENTS or "all" in mask:
        return True
    return bool(mask & (classes - {"all"}))


class AmiSession:
    """One connected AMI client (the Asterisk side of it)."""

    def __init__(
        self,
        server: AmiServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        number: int,
    ) -> None:
        self.server = server
        self.conn = ServerConnection()
        self.number = number
        self.session_id = f"0x{0x7F8C28000000 + number * 0x1A0:x}"  # shaped like the recording
        self.authenticated = False
        self.username = ""
        self.logged_in_wall = 0.0  # for SessionTV in security events
        self.event_mask: frozenset[str] = ALL_EVENTS
        self._reader = reader
        self._writer = writer
        self._closed = False
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.local_address = f"IPV4/TCP/{sock[0]}/{sock[1]}"
        self.remote_address = f"IPV4/TCP/{peer[0]}/{peer[1]}"

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, data: bytes) -> None:
        """Queue bytes for the client; drop the session if it cannot keep up."""
        if self._closed or not data:
            return
        transport = self._writer.transport
        transport.write(data)
        if transport.get_write_buffer_size() > self.server.max_write_buffer:
            log.warning(
                "sim_ami_client_not_reading", session_id=self.session_id, action="disconnecting"
            )
            self.abort()

    def deliver_event(
        self, message: Message, data: bytes, classes: frozenset[str], *, queued: bool = True
    ) -> None:
        """``queued``: an event from Asterisk's event queue, which the user's manager.conf
        eventfilter lines apply to (main/manager.c process_events); False for what an action
        writes to its own session (FullyBooted after a Login: action_login's astman_append)."""
        if not (self.authenticated and wanted(self.event_mask, classes)):
            return
        filters = self.server.event_filters.get(self.username) if queued else None
        if filters and not should_send(filters, message, data.decode("utf-8", "replace")):
            self.server.events_filtered += 1
            return
        self.server.events_sent += 1
        self.write(data)

    def close(self) -> None:
        """Close after the queued bytes are written (Logoff, failed login)."""
        if not self._closed:
            self._closed = True
            self._writer.close()

    def abort(self) -> None:
        """Drop the connection at once (fault ``drop_ami``, slow reader)."""
        if not self._closed:
            self._closed = True
            self._writer.transport.abort()

    async def run(self) -> None:
        if self.server.faults.ami_refused:  # down: closed before the banner
            self.abort()
            self.server.forget(self)
            return
        try:
            self.write(self.conn.banner())
            while not self._closed:
                data = await self._reader.read(65536)
                self.conn.receive_data(data)
                if not await self._process() or not data:
                    break
        except ProtocolError as exc:
            log.info(
                "sim_ami_bad_input", session_id=self.session_id, error=str(exc), action="closing"
            )
        except (ConnectionError, OSError):
            pass
        finally:
            self.abort()
            self.server.forget(self)

    def _dropped_by(self, action: Message) -> bool:
        """Whether a fault hook run as ``action`` arrives dropped this connection."""
        self.server.faults.action_arrives(action.get("Action") or "")
        return self._closed

    async def _process(self) -> bool:
        """Handle every complete action; False once the connection is over."""
        while True:
            event = self.conn.next_event()
            if event is NEED_DATA:
                return True
            if isinstance(event, ConnectionClosed):
                return False
            assert isinstance(event, ActionReceived)
            if self._dropped_by(event.message):  # never carried out
                return False
            if self.server.faults.ami_stalled:
                self.server.faults.ami_actions_ignored += 1
                continue  # read and never answered, Ping included
            await self.server.actions.handle(self, event.message)
            if self._closed:
                return False


class AmiServer:
    """Listens for AMI clients and fans events out to the logged-in sessions."""

    def __init__(
        self,
        actions: ActionHandler,
        faults: Faults,
        spawn: Spawn,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_write_buffer: int = 4 << 20,
        event_filters: Mapping[str, tuple[EventFilter, ...]] | None = None,
    ) -> None:
        self.actions = actions
        #: username -> its eventfilter lines (``acd.asterisk.ami.event_filters``);
        #: a user without any gets every event
        self.event_filters = dict(event_filters or {})
        self.events_sent = 0  # events written to sessions (after masks and filters)
        self.events_filtered = 0  # events a session's filters held back
        self.faults = faults
        self.max_write_buffer = max_write_buffer
        self._spawn = spawn
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._sessions: set[AmiSession] = set()
        self._count = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accepted, self._host, self._port, backlog=128
        )

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("AMI server not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def sessions(self) -> frozenset[AmiSession]:
        return frozenset(self._sessions)

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback (not a coroutine), so asyncio starts no task of its own: the session
        # task is created in the simulator's TaskGroup.
        self._count += 1
        session = AmiSession(self, reader, writer, self._count)
        self._sessions.add(session)
        self._spawn(session.run())

    def forget(self, session: AmiSession) -> None:
        self._sessions.discard(session)

    def broadcast(self, message: Message) -> None:
        """Send one event to every logged-in session whose mask wants it."""
        if not self._sessions:
            return
        data = encode(message)
        classes = event_classes(message)
        for session in list(self._sessions):
            session.deliver_event(message, data, classes)

    def drop_all(self) -> None:
        for session in list(self._sessions):
            session.abort()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_all()
        if self._server is not None:
            await self._server.wait_closed()
