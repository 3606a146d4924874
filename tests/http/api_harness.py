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
from acd.daemon.calls import CallRecord, CallRegistry
from acd.daemon.outputs import Outputs
from acd.daemon.service import AcdService
from acd.daemon.specs import engine_specs
from acd.daemon.supervisor import SupervisorDesk
from acd.engine.floor import Floor
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

    def on_call(self, agent_id: str, channel: str, queue: str = "orders") -> CallRecord:
        """A live, answered call with the agent (as the call flow and AMI watcher leave it)."""
        now = time.time()
        call = CallRecord(f"c-{agent_id}", f"u-{agent_id}", "PJSIP/trunk-1", "5550100", None, now)
        call.queue, call.queued_at, call.agent_id = queue, now, agent_id
        call.answered_at, call.agent_channel = now, channel
        self.registry.open(call)
        return call


@asynccontextmanager
async def running_api(
    tmp_path: Path, settings: Settings | None = None, ami: FakeAmi | None = None
) -> AsyncIterator[Api]:
    settings = settings or load_test_settings()
    queues, agents = engine_specs(settings)
    floor = Floor(queues, agents)
    outputs = Outputs(publisher=None, writer=None)
    acd = AcdService(floor, outputs, clock=time.time)
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
