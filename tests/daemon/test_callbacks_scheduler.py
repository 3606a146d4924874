"""The scheduler's bookkeeping on a real SQLite file: rows read, Originate headers, an
OriginateResponse that arrives before the action returned (event order is not causal, shared
README), a customer who leaves before an agent answers, a row left ``dialing`` by an earlier run,
and ``UpdateCallback`` applied twice (idempotent).

The AMI side is a stand-in here: the race it stages cannot be produced on demand by the
simulator; the end-to-end path over real sockets is in test_callbacks_live.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.asterisk.ami.message import Message
from acd.daemon.callbacks import CallbackScheduler
from acd.daemon.clocks import Clocks
from acd.engine.floor import Floor
from acd.settings.schema_callbacks import CallbackSettings
from acd.storage.apply import apply_command
from acd.storage.commands import InsertCallback, WriteCommand
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import ensure_schema
from acd.storage.models import Callback

T0 = 1_800_000_000.0  # a Wednesday, 04:00 in Asia/Shanghai: calling hours below are 0-24
SETTINGS = CallbackSettings(
    channel="PJSIP/{number}@trunk",
    caller_id='"Hotline" <4008001234>',
    calling_hours=(0, 24),
    retry_after_s=60,
    max_attempts=2,
)


@dataclass
class Result:
    action_id: str
    ok: bool = True
    message: str = "Originate successfully queued"


class FakeAmi:
    """Answers every Originate; ``respond`` may emit the OriginateResponse before returning."""

    def __init__(self) -> None:
        self.connected = True
        self.sent: list[list[tuple[str, str]]] = []
        self.respond: Callable[[str], None] | None = None

    async def action(
        self,
        name: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Any:
        assert name == "Originate"
        self.sent.append(list(headers))
        action_id = f"hl-{len(self.sent)}"
        if self.respond is not None:
            self.respond(action_id)
        return Result(action_id)


class Ready:
    def __init__(self, agents: int) -> None:
        self.agents = agents

    async def read(self, query: Callable[[Floor, float], dict[str, int]]) -> dict[str, int]:
        return {"orders": self.agents}


def response(action_id: str, reason: str) -> Message:
    return Message.build(
        [("Event", "OriginateResponse"), ("ActionID", action_id), ("Reason", reason)]
    )


class World:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.now = T0
        self.ami = FakeAmi()
        self.ready = Ready(1)
        self.written: list[WriteCommand] = []
        self.scheduler = CallbackScheduler(
            session_factory(engine),
            lambda: self.ami,
            self.ready,
            self.written.append,
            SETTINGS,
            timezone="Asia/Shanghai",
            # one test clock for both: these tests move time by hand, and never jump it
            clocks=Clocks(wall=lambda: self.now, steady=lambda: self.now),
        )

    async def apply(self, commands: Iterable[WriteCommand] | None = None) -> None:
        """What the storage writer does, synchronously (twice for UpdateCallback: idempotent)."""
        todo = list(self.written if commands is None else commands)
        self.written.clear()
        async with session_factory(self.engine)() as session, session.begin():
            for command in todo + todo:
                await apply_command(session, command, datetime.now(UTC))

    async def book(self, callback_id: str, *, due: float) -> None:
        await self.apply(
            [
                InsertCallback(
                    idempotency_key=f"book:{callback_id}",
                    callback_id=callback_id,
                    call_id=None,
                    number="13800138000",
                    queue="orders",
                    requested_at=datetime.fromtimestamp(T0 - 300, UTC),
                    due_at=datetime.fromtimestamp(due, UTC),
                )
            ]
        )

    async def row(self, callback_id: str) -> tuple[str, int, float | None]:
        async with session_factory(self.engine)() as session:
            cb = (
                await session.execute(select(Callback).where(Callback.id == callback_id))
            ).scalar_one()
        return cb.state, cb.attempts, cb.due_at.timestamp() if cb.due_at else None


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cb.db'}")
    await ensure_schema(engine)
    try:
        yield World(engine)
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_originate_headers_answer_and_done(world: World) -> None:
    await world.book("b1", due=T0 + 10)
    await world.scheduler.check()
    assert world.ami.sent == []  # not due yet
    world.now = T0 + 10
    await world.scheduler.check()
    world.scheduler.on_event(response("hl-1", "4"))
    assert world.ami.sent == [
        [
            ("Channel", "PJSIP/13800138000@trunk"),
            ("Context", "hotline-callback"),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Timeout", "30000"),
            ("Async", "true"),
            ("Variable", "HOTLINE_CALLBACK_ID=b1"),
            ("Variable", "HOTLINE_QUEUE=orders"),
            ("CallerID", '"Hotline" <4008001234>'),
        ]
    ]
    await world.apply()
    assert await world.row("b1") == ("dialing", 1, T0 + 70)
    await world.scheduler.check()  # the table says dialing, memory says answered: no redial
    assert len(world.ami.sent) == 1
    booking = world.scheduler.claim("b1")
    assert booking is not None
    assert booking.queue == "orders"
    assert world.scheduler.claim("nobody") is None
    world.scheduler.finished("b1", served=True)
    await world.apply()
    assert await world.row("b1") == ("done", 1, T0 + 70)
    assert world.scheduler.in_progress == 0


@pytest.mark.asyncio
async def test_customer_leaving_before_an_agent_counts_as_a_failed_attempt(world: World) -> None:
    world.ready.agents = 2
    await world.book("b1", due=T0)
    await world.scheduler.check()
    world.scheduler.on_event(response("hl-1", "4"))
    assert world.scheduler.claim("b1") is not None
    world.now = T0 + 5
    world.scheduler.finished("b1", served=False)
    await world.apply()
    assert await world.row("b1") == ("pending", 1, T0 + 65)
    world.now = T0 + 65
    await world.scheduler.check()
    world.scheduler.on_event(response("hl-2", "0"))  # no such extension: the last attempt
    await world.apply()
    assert await world.row("b1") == ("failed", 2, T0 + 125)
    await world.scheduler.check()
    assert len(world.ami.sent) == 2


@pytest.mark.asyncio
async def test_a_row_left_dialing_by_an_earlier_run_is_retried_later(world: World) -> None:
    await world.book("b1", due=T0)
    await world.scheduler.check()
    await world.apply()
    assert await world.row("b1") == ("dialing", 1, T0 + 60)
    # a new daemon on the same table: the outcome of that dial was never learnt
    fresh = World(world.engine)
    fresh.now = T0 + 30
    await fresh.scheduler.check()
    assert fresh.ami.sent == []
    fresh.now = T0 + 60
    await fresh.scheduler.check()
    assert len(fresh.ami.sent) == 1
    await fresh.apply()
    assert await fresh.row("b1") == ("dialing", 2, T0 + 120)


@pytest.mark.asyncio
async def test_no_outcome_at_all_fails_the_attempt_at_its_deadline(world: World) -> None:
    await world.book("b1", due=T0)
    await world.scheduler.check()
    assert world.scheduler.in_progress == 1
    world.now = T0 + SETTINGS.ring_timeout_s + 31  # ring timeout + grace, no OriginateResponse
    await world.scheduler.check()
    assert world.scheduler.in_progress == 0
    await world.apply()
    assert (await world.row("b1"))[:2] == ("pending", 1)


@pytest.mark.asyncio
async def test_an_originate_response_ahead_of_the_action_reply_is_matched(world: World) -> None:
    await world.book("b1", due=T0)
    world.ami.respond = lambda aid: world.scheduler.on_event(response(aid, "3"))  # no answer
    await world.scheduler.check()
    assert world.scheduler.in_progress == 0
    await world.apply()
    assert await world.row("b1") == ("pending", 1, T0 + 60)
