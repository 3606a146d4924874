"""Who may look at the demo: personal keys made for it in its own database, and the addresses to
open with them, printed before anything else.

Three users: a wall screen (``viewer``: the wallboard), the first agent of the floor (``agent``:
their desktop) and a supervisor (``hotline calls``, ``hotline transfer``, every desktop with
``/desk?agent=ID``). Their keys are issued like ``hotline users add`` does (hashed in the
``users`` table, audited as made by ``hotline-demo``); the demo's database is throw-away unless
``--db`` was given, in which case a second run rotates the same users' keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from acd.identity.users import UserError, add_user, rotate_key
from acd.settings.schema_routing import AgentSettings
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import ensure_schema
from ivr.demo_data import CUSTOMERS, seed_demo

# Callers the demo sends again and again: the seeded demo customers.
RETURNING_NUMBERS = tuple(c.number for c in CUSTOMERS)

BY = "hotline-demo"


@dataclass(frozen=True, slots=True)
class DemoKeys:
    viewer: str
    agent_id: str
    agent_name: str
    agent: str
    supervisor: str


@dataclass(frozen=True, slots=True)
class DemoAccess:
    base_url: str
    keys: DemoKeys
    arrivals_s: float  # real seconds of arrivals
    drain_s: float  # real seconds calls in progress may take afterwards

    @property
    def wallboard_url(self) -> str:
        return f"{self.base_url}/wallboard"

    @property
    def desk_url(self) -> str:
        return f"{self.base_url}/desk"

    def lines(self) -> list[str]:
        """What the demo prints first: one address or key per line, never cut to a width."""
        k = self.keys
        return [
            f"wallboard:     {self.wallboard_url}",
            f"  viewer key:  {k.viewer}",
            f"agent desktop: {self.desk_url}",
            f"  agent {k.agent_id} ({k.agent_name}) key: {k.agent}",
            f"supervisor key (hotline calls --api {self.base_url} --token KEY): {k.supervisor}",
            "sign in once per browser with a key; it is never put in an address",
            f"calls arrive for {self.arrivals_s:g} s, then calls in progress get at most "
            f"{self.drain_s:g} s to end (drain)",
        ]


async def _issue(
    session: AsyncSession,
    user_id: str,
    *,
    name: str,
    role: str,
    kind: str = "person",
    agent_id: str | None = None,
) -> str:
    now = datetime.now(UTC)
    try:
        _, issued = await add_user(
            session,
            user_id=user_id,
            name=name,
            role=role,
            kind=kind,
            agent_id=agent_id,
            by=BY,
            now=now,
        )
    except UserError:  # an earlier demo on the same --db: a fresh key for the same user
        _, issued = await rotate_key(session, user_id, by=BY, now=now)
    return issued.key


async def prepare_database(db_url: str, agent: AgentSettings) -> DemoKeys:
    """The demo's database migrated, with the demo customers and orders (``hotline db
    seed-demo``: known callers for the screen pop, orders for the IVR) and keys for the demo's
    three users."""
    engine = create_engine(db_url)
    try:
        await ensure_schema(engine)
        async with session_factory(engine)() as session, session.begin():
            await seed_demo(session, now=datetime.now(UTC))
            viewer = await _issue(
                session, "demo-wallboard", name="Demo wallboard", role="viewer", kind="service"
            )
            mine = await _issue(
                session,
                f"demo-agent-{agent.id}",
                name=agent.name,
                role="agent",
                agent_id=agent.id,
            )
            supervisor = await _issue(
                session, "demo-supervisor", name="Demo supervisor", role="supervisor"
            )
    finally:
        await engine.dispose()
    return DemoKeys(viewer, agent.id, agent.name, mine, supervisor)
