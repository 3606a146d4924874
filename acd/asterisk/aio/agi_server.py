"""Our FastAGI server: accepts Asterisk's connections and runs the routed script handler.

Thin asyncio shell around the sans-I/O ``ServerConnection``: per connection it checks the peer,
reads the environment, picks the handler by script path, and runs it next to a reader task
that feeds the core (so a ``HANGUP`` is seen while the script is idle). Every session task is
owned: ``close()`` cancels and awaits them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType

from acd.asterisk.agi import commands as cmd
from acd.asterisk.agi.env import AgiEnvironment
from acd.asterisk.agi.router import Router
from acd.asterisk.agi.server_conn import (
    NEED_DATA,
    ConnectionClosed,
    EnvironmentReceived,
    ServerConnection,
)
from acd.asterisk.aio.agi_session import AgiError, AgiSession
from acd.asterisk.errors import RemoteProtocolError
from acd.logging import get_logger

log = get_logger(__name__)

AgiHandler = Callable[[AgiSession], Awaitable[None]]
AgiRouter = Router[AgiHandler]

_READ_SIZE = 65536
_IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class FastAgiServer:
    """``async with FastAgiServer(router, port=0) as server: ...`` or ``await serve_forever()``."""

    def __init__(
        self,
        router: AgiRouter,
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        # The shared README: with a backlog of 5 and 50 simultaneous connects the kernel dropped
        # 4 connections and Asterisk reported AGISTATUS=SUCCESS for them with nothing done. A
        # call burst must queue in the kernel, not vanish, so the listen backlog is large.
        backlog: int = 1024,
        allowed_peers: Iterable[str] | None = ("127.0.0.1", "::1"),
        session_timeout_s: float = 3600.0,
        # Per command; long-blocking commands (EXEC Dial/Queue) pass their own timeout_s.
        command_timeout_s: float | None = 300.0,
        environment_timeout_s: float = 10.0,
        drain_timeout_s: float = 5.0,
    ) -> None:
        self._router = router
        self._host = host
        self._port = port
        self._backlog = backlog
        self._allowed: tuple[_IpNetwork, ...] | None = (
            None
            if allowed_peers is None
            else tuple(ipaddress.ip_network(p, strict=False) for p in allowed_peers)
        )
        self._session_timeout_s = session_timeout_s
        self._command_timeout_s = command_timeout_s
        self._environment_timeout_s = environment_timeout_s
        self._drain_timeout_s = drain_timeout_s
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("FastAGI server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._on_connect, self._host, self._port, backlog=self._backlog
        )
        log.info("fastagi_listening", host=self._host, port=self.port)

    async def close(self) -> None:
        """Stop listening, cancel every running session and wait for them to finish."""
        self._closing = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._sessions)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def serve_forever(self) -> None:
        """Run until cancelled (e.g. as a task in the daemon's TaskGroup), then close."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- one connection --------------------------------------------------------------------------

    def _peer_allowed(self, host: str) -> bool:
        if self._allowed is None:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._allowed)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio runs this callback in its own task; register it so close() owns it.
        task = asyncio.current_task()
        assert task is not None
        if self._closing:  # accepted while closing
            writer.transport.abort()
            return
        self._sessions.add(task)
        peername = writer.get_extra_info("peername")
        peer = str(peername[0]) if peername else "?"
        try:
            if not self._peer_allowed(peer):
                log.warning("fastagi_peer_disallowed", peer=peer)
                return
            async with asyncio.timeout(self._session_timeout_s):
                await self._serve(reader, writer, peer)
        except TimeoutError:
            log.warning("fastagi_session_timeout", peer=peer, timeout_s=self._session_timeout_s)
        except RemoteProtocolError as exc:
            log.warning("fastagi_peer_rejected", peer=peer, error=str(exc))
        except OSError as exc:
            log.info("fastagi_connection_lost", peer=peer, error=repr(exc))
        except asyncio.CancelledError:
            # close() cancelled this session. This task is asyncio's own connection callback:
            # Python 3.11's streams module logs a cancelled one as an error, so it ends here.
            if not self._closing:
                raise
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        conn = ServerConnection()
        try:
            async with asyncio.timeout(self._environment_timeout_s):
                env = await _read_environment(conn, reader)
        except TimeoutError:
            log.warning(
                "fastagi_environment_timeout", peer=peer, timeout_s=self._environment_timeout_s
            )
            return
        if env is None:
            log.info("fastagi_closed_before_environment", peer=peer)
            return
        session = AgiSession(
            conn, env, writer, peer=peer, command_timeout_s=self._command_timeout_s
        )
        handler = self._router.resolve(env.script_path)
        log.info(
            "fastagi_session_started",
            script=env.network_script,
            channel=env.channel,
            uniqueid=env.uniqueid,
            peer=peer,
        )
        async with asyncio.TaskGroup() as group:
            reading = group.create_task(_read_loop(conn, reader, session))
            try:
                await self._run_handler(handler, session)
                # Half-close like the recorded server; Asterisk then sends HANGUP and closes.
                if not session.closed and writer.can_write_eof():
                    writer.write_eof()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._drain_timeout_s):
                        await session.closed_event.wait()
            finally:
                reading.cancel()
        log.info("fastagi_session_ended", script=env.network_script, channel=env.channel)

    async def _run_handler(self, handler: AgiHandler | None, session: AgiSession) -> None:
        env = session.env
        if handler is None:
            # Unknown route: say why in Asterisk's log, then end the session; the dialplan's
            # fallback runs because the daemon's HOTLINE_HANDLED variable was never set.
            log.warning("fastagi_no_route", script=env.script_path, channel=env.channel)
            with contextlib.suppress(AgiError):
                await session.command(cmd.verbose(f"hotline: no FastAGI route {env.script_path!r}"))
            return
        try:
            await handler(session)
        except AgiError as exc:
            # Hang-ups and lost connections are the normal end of many calls.
            log.info(
                "fastagi_script_ended", script=env.script_path, channel=env.channel, reason=str(exc)
            )
        except Exception:
            log.exception("fastagi_script_failed", script=env.script_path, channel=env.channel)


async def _read_environment(
    conn: ServerConnection, reader: asyncio.StreamReader
) -> AgiEnvironment | None:
    while True:
        event = conn.next_event()
        if isinstance(event, EnvironmentReceived):
            return event.env
        if isinstance(event, ConnectionClosed):
            return None
        if event is NEED_DATA:
            conn.receive_data(await reader.read(_READ_SIZE))


async def _read_loop(
    conn: ServerConnection, reader: asyncio.StreamReader, session: AgiSession
) -> None:
    """Feed the core until EOF; never raises (except cancellation): failures end the session."""
    try:
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                conn.receive_data(await reader.read(_READ_SIZE))
                continue
            session.on_event(event)
            if isinstance(event, ConnectionClosed):
                return
    except RemoteProtocolError as exc:
        log.warning("fastagi_bad_data", peer=session.peer, error=str(exc))
        session.fail(f"protocol error: {exc}")
    except OSError as exc:
        session.fail(f"connection lost: {exc!r}")
