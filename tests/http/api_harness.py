"""The HTTP API over httpx's ASGI transport, with a real floor owner task and a real SQLite file.

No daemon and no PBX: what the routes do with the floor, the registry, the storage writer (a list
here) and the supervisor desk is observable directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.asterisk.ami.client import ActionCompleted
from acd.asterisk.ami.message import Message
from acd.cli.features import hotline_features
from acd.daemon.call_steps import Answered, Arrival, Offered, Queued
from acd.daemon.calls import Call, CallRegistry
from acd.daemon.clocks import Clocks
from acd.daemon.floor_changes import FloorChanges, FloorFanout
from acd.daemon.outputs import Outputs
from acd.daemon.service import AcdService
from acd.daemon.specs import engine_specs
from acd.daemon.supervisor import SupervisorDesk
from acd.engine.floor import Floor
from acd.engine.floor_effects import Offer
from acd.engine.model import WaitingCall
from acd.http import ApiContext, HttpServer, create_app
from acd.identity.users import add_user
from acd.settings.loader import load_settings
from acd.settings.schema_routing import SupervisorSettings
from acd.settings.schema_system import ApiToken
from acd.settings.settings import Settings
from acd.storage.commands import WriteCommand
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import ensure_schema

PHONE = "Local/phone@supervisor/n"  # the simulator's supervisor phone answers at once
CONFIG = Path(__file__).resolve().parents[2] / "config"
TOKENS = {
    "HOTLINE_TOKEN_AGENT": "tok-agent",  # service token acting as agent 1001 (added below)
    "HOTLINE_TOKEN_VIEWER": "tok-viewer",
    "HOTLINE_TOKEN_SUPERVISOR": "tok-sup",
    "HOTLINE_TOKEN_QA": "tok-qa",
    "HOTLINE_TOKEN_ADMIN": "tok-admin",
}
AGENT = {"Authorization": "Bearer tok-agent"}  # agent 1001
VIEWER = {"Authorization": "Bearer tok-viewer"}
SUPERVISOR = {"Authorization": "Bearer tok-sup"}  # linked to the supervisor entry "zhao"
QA = {"Authorization": "Bearer tok-qa"}
ADMIN = {"Authorization": "Bearer tok-admin"}


def with_test_tokens(settings: Settings) -> Settings:
    """The config's service tokens plus an agent token for the first agent (1001 in config/),
    the supervisor token linked to the supervisor entry ``zhao`` (whose first phone is the
    simulator's supervisor phone), values from ``TOKENS``."""
    first = settings.agents[0].id
    agent = ApiToken(
        name=f"agent-{first}", role="agent", agent=first, token_env="HOTLINE_TOKEN_AGENT"
    )
    tokens = []
    for t in (*settings.system.http.tokens, agent):
        update: dict[str, Any] = {"token": SecretStr(TOKENS[t.token_env])}
        if t.role == "supervisor":
            update["supervisor"] = "zhao"
        tokens.append(t.model_copy(update=update))
    http = settings.system.http.model_copy(update={"tokens": tuple(tokens)})
    supervisors = (SupervisorSettings(id="zhao", name="Zhao Lei", phones=(PHONE, "PJSIP/1006")),)
    return settings.model_copy(
        update={
            "system": settings.system.model_copy(update={"http": http}),
            "supervisors": supervisors,
        }
    )


def load_test_settings() -> Settings:
    return with_test_tokens(load_settings(CONFIG, require_secrets=False))


class FakeAmi:
    """Records actions; answers like AmiClient does for an accepted Async Originate."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.sent: list[tuple[str, list[tuple[str, str]]]] = []
        self.connected = True
        self.refuse = refuse

    async def action(
        self,
        name: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - AmiClient's signature
    ) -> ActionCompleted:
        self.sent.append((name, list(headers)))
        # the recorded replies (ami_login_and_actions.txt, Originate sections)
        if self.refuse:
            reply = Message.build(Response="Error", Message="Originate failed")
        else:
            reply = Message.build(Response="Success", Message="Originate successfully queued")
        return ActionCompleted("fake", reply)


@dataclass
class Api:
    client: httpx.AsyncClient
    ctx: ApiContext
    floor: Floor
    registry: CallRegistry
    written: list[WriteCommand] = field(default_factory=list)

    def on_call(self, agent_id: str, channel: str, queue: str = "orders") -> Call:
        """A live call in conversation with the agent (the steps a call flow adds)."""
        now = time.time()
        call = Call(
            Arrival(f"c-{agent_id}", f"u-{agent_id}", "PJSIP/trunk-1", "5550100", None, now)
        )
        call.add_step(Queued(now, queue, 2))
        call.add_step(Offered(now, agent_id, f"PJSIP/{agent_id}"))
        call.add_step(Answered(now, agent_id, channel))
        self.registry.open(call)
        return call

    async def enqueue(
        self, call_id: str, queue: str, *, waited_s: float = 0.0, priority: int = 0
    ) -> asyncio.Queue[Offer]:
        """A caller waiting since ``waited_s`` ago (the floor runs on the steady clock, as in
        the daemon); the floor's offers for it arrive on the returned queue."""
        offers: asyncio.Queue[Offer] = asyncio.Queue()
        arrived = self.ctx.clocks.steady() - waited_s
        await self.ctx.acd.enqueue(WaitingCall(call_id, queue, arrived, priority), offers)
        return offers


async def issue_key(
    sessions: async_sessionmaker[AsyncSession], user_id: str, role: str, **links: Any
) -> dict[str, str]:
    """A new user's personal key (``hotline users add``), as a bearer header."""
    async with sessions() as session, session.begin():
        _, issued = await add_user(
            session, user_id=user_id, name=user_id, role=role, by="test", now=datetime.now(UTC),
            **links,
        )  # fmt: skip
    return {"Authorization": f"Bearer {issued.key}"}


async def person(api: Api, user_id: str, role: str, **links: Any) -> dict[str, str]:
    assert api.ctx.sessions is not None
    return await issue_key(api.ctx.sessions, user_id, role, **links)


@asynccontextmanager
async def running_api(
    tmp_path: Path,
    settings: Settings | None = None,
    ami: FakeAmi | None = None,
    *,
    serve: bool = False,
    verify: Any = True,  # for TLS: the CA file that signed the server's certificate
) -> AsyncIterator[Api]:
    """``serve``: behind real uvicorn on a free loopback port (TLS when the settings say so),
    the client talking to it over TCP; otherwise over httpx's ASGI transport."""
    settings = settings or load_test_settings()
    queues, agents = engine_specs(settings)
    floor = Floor(queues, agents)
    outputs = Outputs(publisher=None, writer=None)
    clocks = Clocks()
    changes = FloorChanges()
    acd = AcdService(floor, FloorFanout(outputs, changes), clock=clocks.steady)
    registry = CallRegistry()
    written: list[WriteCommand] = []
    url = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
    engine = create_engine(url)
    await ensure_schema(engine)
    desk = SupervisorDesk(ami, written.append, clock=time.time)
    ctx = ApiContext(
        settings,
        acd,
        registry,
        outputs,
        desk,
        sessions=session_factory(engine),
        db_url=url,
        write=written.append,
        ami=ami,  # type: ignore[arg-type]
        clocks=clocks,
        floor_changes=changes,
    )
    # mounted as the daemon does: with the feature packages' routers (recordings)
    app = create_app(ctx, hotline_features(settings).http_routers)
    owner = asyncio.create_task(acd.run())
    server: HttpServer | None = None
    serving: asyncio.Task[None] | None = None
    try:
        if serve:
            http = settings.http
            server = HttpServer(app, ctx, "127.0.0.1", 0, tls=http.tls)
            server.bind()
            serving = asyncio.create_task(server.serve())
            async with asyncio.timeout(10):
                while not server.listening:
                    await asyncio.sleep(0.01)
            client = httpx.AsyncClient(base_url=server.url, verify=verify)
        else:
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://api"
            )
        async with client:
            yield Api(client, ctx, floor, registry, written)
    finally:
        if server is not None and serving is not None:
            server.stop()
            await serving
        owner.cancel()
        await asyncio.gather(owner, return_exceptions=True)
        await engine.dispose()
