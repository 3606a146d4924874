"""The HTTP API's FastAPI application and the server the daemon runs it in.

``create_app(ctx)`` is pure wiring (tests drive it through httpx's ASGI transport); ``HttpServer``
runs it with uvicorn inside the daemon's TaskGroup and stops it when the daemon stops.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence

import uvicorn
from fastapi import APIRouter, FastAPI

from acd.http import (
    live,
    routes_agents_bulk,
    routes_callbacks,
    routes_calls,
    routes_desk,
    routes_floor,
    routes_recording,
    routes_session,
    routes_supervisor,
    routes_transfer,
)
from acd.http.context import ApiContext
from acd.http.hardening import harden
from acd.identity.directory import Directory
from acd.identity.throttle import AuthThrottle
from acd.logging import get_logger
from acd.settings.schema_system import HttpTls

log = get_logger(__name__)
GRACEFUL_S = 2.0  # open wallboard streams end on ``closing``; never wait longer than this


def create_app(ctx: ApiContext, routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The API; ``routers`` are the feature packages' endpoints (recordings), mounted as is."""
    http = ctx.settings.http
    app = FastAPI(
        title="hotline",
        summary="Contact-center engine: agents, queues, supervisors, recordings, wallboard.",
        version="0.1",
        # The schema stays at /openapi.json; the interactive pages load scripts from a CDN
        # and inline, which the pages' Content-Security-Policy forbids.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.clock = ctx.clock
    app.state.tls = http.tls is not None
    app.state.directory = ctx.directory or Directory(ctx.settings, ctx.sessions, clock=ctx.clock)
    app.state.throttle = AuthThrottle(allowed=http.auth_failures_allowed)
    harden(app, max_body_bytes=http.max_body_bytes, tls=http.tls is not None)
    app.include_router(routes_session.router)
    app.include_router(routes_agents_bulk.router)  # before /agents/{id}/{action}
    app.include_router(routes_floor.router)
    app.include_router(routes_calls.router)
    app.include_router(routes_desk.router)
    app.include_router(routes_supervisor.router)
    app.include_router(routes_transfer.router)
    app.include_router(routes_callbacks.router)
    app.include_router(routes_recording.router)
    app.include_router(live.router)
    for router in routers:
        app.include_router(router)
    return app


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the daemon owns SIGTERM/SIGINT (``hotline run``) and stops us itself


class HttpServer:
    """uvicorn on ``host:port`` (0 = any free port; ``port`` tells the bound one once up)."""

    def __init__(
        self, app: FastAPI, ctx: ApiContext, host: str, port: int, tls: HttpTls | None = None
    ) -> None:
        self._ctx = ctx
        self.host = host
        self.port = port
        self.scheme = "https" if tls is not None else "http"
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(GRACEFUL_S),
            # TLS by uvicorn itself (ssl_certfile/ssl_keyfile), so keys and session cookies
            # never cross a network in clear; the default bind stays loopback.
            ssl_certfile=tls.cert_file if tls is not None else None,
            ssl_keyfile=tls.key_file if tls is not None else None,
            server_header=False,
        )
        self._server = _Server(config)
        self._sock: socket.socket | None = None

    @property
    def listening(self) -> bool:
        """uvicorn has started serving on the bound socket."""
        return bool(self._server.started)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def bind(self) -> None:
        """Bind the listening socket now, so a busy port fails the daemon's start-up at once
        and ``port`` tells the real port (when 0 was asked for) before serving."""
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._sock = sock

    async def serve(self) -> None:
        """Serve until ``stop()``."""
        if self._sock is None:
            self.bind()
        assert self._sock is not None
        log.info("http_api_listening", url=self.url, wallboard=f"{self.url}/wallboard")
        try:
            await self._server.serve(sockets=[self._sock])
        finally:
            # Cancelled mid-serve (a task of the daemon crashed, or a test's kill), uvicorn never
            # closes its asyncio servers. Closing only the socket under them would leave the
            # event loop's selector watching a dead descriptor: the next socket given that
            # number (a FastAGI listener of a new term in this process) is then never polled
            # and its callers wait unanswered. Server.close() unregisters, then closes.
            for server in getattr(self._server, "servers", ()):
                server.close()
            self._sock.close()

    def stop(self) -> None:
        self._ctx.closing.set()
        self._server.should_exit = True
