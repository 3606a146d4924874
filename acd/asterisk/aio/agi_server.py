"""Our FastAGI server: accepts Asterisk's connections and runs the routed script handler.

Thin asyncio shell around the sans-I/O ``ServerConnection``: per connection it checks the peer,
reads the environment, checks the dialplan's key (``agi_guard``), picks the handler by script
path, and runs it next to a reader task that feeds the core (so a ``HANGUP`` is seen while the
script is idle). Every task is owned: ``close()`` cancels and awaits the accept loop and every
session.

Our own accept loop, not ``asyncio.start_server``: beyond the session cap a connection is closed
at once (Asterisk's dialplan then falls back to ``Queue()``), and when the process runs out of
file descriptors (EMFILE/ENFILE) accepting pauses with a growing delay and one log line per
episode instead of a traceback per attempt, so the rest of the daemon (HTTP) keeps working.
A peer silent after connecting is dropped after ``idle_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import resource
import socket
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
from acd.asterisk.aio.agi_guard import LogLimiter, key_matches, session_cap
from acd.asterisk.aio.agi_session import AgiError, AgiSession
from acd.asterisk.errors import RemoteProtocolError
from acd.logging import get_logger

log = get_logger(__name__)

AgiHandler = Callable[[AgiSession], Awaitable[None]]
AgiRouter = Router[AgiHandler]

_READ_SIZE = 65536
_IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# accept() failing for want of resources: wait, do not spin (asyncio's own server would log a
# traceback for each attempt)
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_ACCEPT_BACKOFF_S = (0.05, 1.0)
REFUSAL_LOG_INTERVAL_S = 60.0


def open_files_limit() -> int | None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


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
        # Asterisk sends the environment at once: a silent peer is dropped after this.
        environment_timeout_s: float = 10.0,
        drain_timeout_s: float = 5.0,
        key: str | None = None,  # the dialplan's ?key=; None: not required (tests, demo)
        max_sessions: int = 2000,
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
        self._key = key
        self.max_sessions = session_cap(max_sessions, open_files_limit())
        self._sock: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._closing = False
        self._refusals = LogLimiter(REFUSAL_LOG_INTERVAL_S)
        self.refused = 0  # connections refused (cap, peer, key): metrics and tests
        self.accept_pauses = 0  # episodes of accept() failing for want of descriptors

    @property
    def port(self) -> int:
        """The bound port (useful with ``port=0``)."""
        if self._sock is None:
            raise RuntimeError("FastAGI server is not started")
        return int(self._sock.getsockname()[1])

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    async def start(self) -> None:
        if self._sock is not None:
            return
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(self._backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._closing = False
        self._accepting = asyncio.create_task(self._accept_loop(sock), name="fastagi-accept")
        log.info(
            "fastagi_listening", host=self._host, port=self.port, max_sessions=self.max_sessions
        )

    async def stop_listening(self) -> None:
        """No new connections (Asterisk's are refused: AGISTATUS=FAILURE); sessions go on."""
        self._closing = True
        accepting, self._accepting = self._accepting, None
        if accepting is not None:
            accepting.cancel()
            await asyncio.gather(accepting, return_exceptions=True)
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    async def close(self) -> None:
        """Stop listening, cancel every running session and wait for them to finish."""
        await self.stop_listening()
        tasks = list(self._sessions)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

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

    # --- accepting --------------------------------------------------------------------------------

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        delay = _ACCEPT_BACKOFF_S[0]
        paused = 0  # failed accepts in the current out-of-descriptors episode
        while True:
            try:
                conn, address = await loop.sock_accept(sock)
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    log.warning("fastagi_accept_failed", error=exc.strerror or str(exc))
                    await asyncio.sleep(_ACCEPT_BACKOFF_S[0])
                    continue
                if paused == 0:
                    self.accept_pauses += 1
                    log.error(
                        "fastagi_accept_paused",
                        error=exc.strerror or str(exc),
                        sessions=len(self._sessions),
                        why="out of file descriptors: raise LimitNOFILE or lower max_sessions",
                    )
                paused += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, _ACCEPT_BACKOFF_S[1])
                continue
            if paused:
                log.warning("fastagi_accept_resumed", failed_accepts=paused)
                paused, delay = 0, _ACCEPT_BACKOFF_S[0]
            self._admit(conn, str(address[0]) if address else "?")

    def _admit(self, conn: socket.socket, peer: str) -> None:
        if self._closing:
            conn.close()
            return
        if not self._peer_allowed(peer):
            self._refuse(conn, peer, "peer not in allowed_peers")
            return
        if len(self._sessions) >= self.max_sessions:
            self._refuse(conn, peer, "too many sessions")
            return
        task = asyncio.create_task(self._on_socket(conn, peer), name=f"fastagi-{peer}")
        self._sessions.add(task)
        task.add_done_callback(self._sessions.discard)

    def _refuse(self, conn: socket.socket, peer: str, why: str) -> None:
        conn.close()
        self._refused(peer, why)

    def _refused(self, peer: str, why: str) -> None:
        self.refused += 1
        suppressed = self._refusals.check(f"{peer}:{why}", asyncio.get_running_loop().time())
        if suppressed is not None:
            log.warning(
                "fastagi_session_refused",
                peer=peer,
                why=why,
                refused_since_last_line=suppressed,
                sessions=len(self._sessions),
                max_sessions=self.max_sessions,
            )

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

    async def _on_socket(self, conn: socket.socket, peer: str) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=conn, limit=_READ_SIZE)
        except OSError as exc:
            conn.close()
            log.info("fastagi_connection_lost", peer=peer, error=repr(exc))
            return
        try:
            async with asyncio.timeout(self._session_timeout_s):
                await self._serve(reader, writer, peer)
        except TimeoutError:
            log.warning("fastagi_session_timeout", peer=peer, timeout_s=self._session_timeout_s)
        except RemoteProtocolError as exc:
            log.warning("fastagi_peer_rejected", peer=peer, error=str(exc))
        except OSError as exc:
            log.info("fastagi_connection_lost", peer=peer, error=repr(exc))
        except asyncio.CancelledError:
            # close() cancelled this session: it ends here, quietly
            if not self._closing:
                raise
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            _unlink(writer.transport)

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
        if not key_matches(self._key, dict(env.params)):
            self._refused(peer, "missing or wrong key")  # nothing of the session is run
            return
        session = AgiSession(
            conn, env, writer, peer=peer, command_timeout_s=self._command_timeout_s
        )
        handler = self._router.resolve(env.script_path)
        log.info(
            "fastagi_session_started",
            script=env.script_path,  # never the query: it carries the key
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
        log.info("fastagi_session_ended", script=env.script_path, channel=env.channel)

    async def _run_handler(self, handler: AgiHandler | None, session: AgiSession) -> None:
        env = session.env
        if handler is None:
            # Unknown route: say why in Asterisk's log, then end the session; HOTLINE_DONE was
            # never set, so the dialplan resumes the caller elsewhere or queues them.
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


def _unlink(transport: asyncio.BaseTransport) -> None:
    """CPython 3.11's selector transport keeps a bound method of itself (``_read_ready_cb``):
    a reference cycle, so every closed FastAGI connection (transport, socket and all) waited
    for a full collection; at 200 calls/s ~9,000 of them did, and each full collection
    walked them (bench/daemon_load.py --growth). Once the connection is closed nothing reads
    through it: dropping the method lets reference counting free it at once."""
    if getattr(transport, "_read_ready_cb", None) is not None:
        transport._read_ready_cb = None  # type: ignore[attr-defined]


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
