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
from pathlib import Path

import httpx

from acd.asterisk.ami.client import ActionCompleted
from acd.asterisk.ami.message import Message
from acd.cli.features import hotline_features
from acd.daemon.call_steps import Answered, Arrival, Offered, Queued
from acd.daemon.calls import Call, CallRegistry
from acd.daemon.clocks import Clocks
from acd.daemon.outputs import Outputs
from acd.daemon.service import AcdService
from acd.daemon.specs import engine_specs
from acd.daemon.supervisor import SupervisorDesk
from acd.engine.floor import Floor
from acd.engine.floor_effects import Offer
from acd.engine.model import WaitingCall
from acd.http import ApiContext, create_app
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from acd.storage.commands import WriteCommand
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import ensure_schema

CONFIG = Path(__file__).resolve().parents[2] / "config"
TOKENS = {
    "HOTLINE_TOKEN_AGENT": "tok-agent",
    "HOTLINE_TOKEN_SUPERVISOR": "tok-sup",
    "HOTLINE_TOKEN_QA": "tok-qa",
    "HOTLINE_TOKEN_ADMIN": "tok-admin",
}
AGENT = {"Authorization": "Bearer tok-agent"}
SUPERVISOR = {"Authorization": "Bearer tok-sup"}
QA = {"Authorization": "Bearer tok-qa"}


def load_test_settings() -> Settings:
    return load_settings(CONFIG, TOKENS, require_secrets=False)


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


@asynccontextmanager
async def running_api(
    tmp_path: Path, settings: Settings | None = None, ami: FakeAmi | None = None
) -> AsyncIterator[Api]:
    settings = settings or load_test_settings()
    queues, agents = engine_specs(settings)
    floor = Floor(queues, agents)
    outputs = Outputs(publisher=None, writer=None)
    clocks = Clocks()
    acd = AcdService(floor, outputs, clock=clocks.steady)
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
    )
    # mounted as the daemon does: with the feature packages' routers (recordings)
    transport = httpx.ASGITransport(app=create_app(ctx, hotline_features(settings).http_routers))
    owner = asyncio.create_task(acd.run())
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield Api(client, ctx, floor, registry, written)
    finally:
        owner.cancel()
        await asyncio.gather(owner, return_exceptions=True)
        await engine.dispose()
