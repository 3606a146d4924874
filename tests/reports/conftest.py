"""A known call set stored on real databases (SQLite file, scratch PostgreSQL database).

Times are offsets in seconds from T0 = Monday 2026-03-02 09:00:00 UTC. The KPI values the tests
expect were worked out by hand from the definitions in docs/kpis.md; see each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import async_sessionmaker

from acd.storage.engine import create_engine
from acd.storage.migrate import upgrade
from acd.storage.models import AgentStateLog, Call, CallEvent
from acd.storage.timeline import TimelineStep, encode_timeline
from tests.storage.conftest import db_url, pg_db  # noqa: F401 - fixtures reused from storage

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
PERIOD = (T0, T0 + timedelta(hours=2))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call(
    n: int, number: str, arrived: float, *, queue: str | None = None, **times: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": f"c{n}",
        "uniqueid": f"u{n}",
        "caller_number": number,
        "arrived_at": at(arrived),
        "queue": queue,
    }
    for name in ("queued_at", "answered_at", "ended_at"):
        if name in times:
            row[name] = at(times.pop(name))
    row.update(times)
    return row


ORDERS_MENU = [{"node": "main", "key": "1", "seconds": 4.0}, {"node": "orders", "key": "2"}]
COMPLAINTS_MENU = [{"node": "main", "key": "3", "seconds": 3.0}, {"node": "complaints"}]

CALLS = [
    # c1: waits 7 s, rings 5 s, talk 100 + hold 20, wrap-up 15; resolved but 111 calls again (c6)
    call(1, "111", 0, queue="orders", queued_at=10, answered_at=17, ended_at=137,
         agent_id="a1", hung_up_by="caller", outcome="answered", resolved=True,
         survey_rating=5, ivr_reason="order_enquiry", ivr_path=ORDERS_MENU),
    # c2: a2 misses (9 s), a1 answers after 10 s of ringing; waits 30 s; talk 180, wrap-up 30;
    # resolved by disposition code; 222 calls again only 8 days later (c7)
    call(2, "222", 300, queue="orders", queued_at=310, answered_at=340, ended_at=520,
         agent_id="a1", hung_up_by="agent", outcome="answered", disposition_code="resolved",
         survey_rating=3, ivr_reason="order_enquiry", ivr_path=ORDERS_MENU),
    # c3: short abandon after 3 s
    call(3, "333", 1200, queue="orders", queued_at=1210, ended_at=1213,
         hung_up_by="caller", outcome="abandoned", ivr_reason="order_enquiry",
         ivr_path=ORDERS_MENU),
    # c4: abandons after 60 s
    call(4, "444", 2400, queue="complaints", queued_at=2410, ended_at=2470,
         hung_up_by="caller", outcome="abandoned", ivr_reason="logistics",
         ivr_path=COMPLAINTS_MENU),
    # c5: self-service, never offered, but rated 4
    call(5, "555", 3000, outcome="self_service", survey_rating=4),
    # c6: waits 4 s, rings 3 s, talk 120, wrap-up 10; not resolved
    call(6, "111", 4200, queue="complaints", queued_at=4210, answered_at=4214, ended_at=4334,
         agent_id="a2", hung_up_by="caller", outcome="answered", resolved=False,
         ivr_reason="product_quality", ivr_path=COMPLAINTS_MENU),
    # c7: outside the period (8 days later)
    call(7, "222", 8 * 86400 + 600, queue="orders", queued_at=8 * 86400 + 610,
         ended_at=8 * 86400 + 620, hung_up_by="caller", outcome="abandoned"),
]  # fmt: skip

EVENTS = [  # (call, seq, at, kind, agent)
    ("c1", 1, 12, "offered", "a1"),
    ("c1", 2, 17, "answered", "a1"),
    ("c1", 3, 60, "hold", "a1"),
    ("c1", 4, 80, "unhold", "a1"),
    ("c2", 1, 312, "offered", "a2"),
    ("c2", 2, 321, "ring_no_answer", "a2"),
    ("c2", 3, 330, "offered", "a1"),
    ("c2", 4, 340, "answered", "a1"),
    ("c6", 1, 4211, "offered", "a2"),
    ("c6", 2, 4214, "answered", "a2"),
]

STATES = [  # (agent, state, reason, start, end)
    ("a1", "ready", None, 0, 12),
    ("a1", "reserved", None, 12, 17),
    ("a1", "on_call", None, 17, 137),
    ("a1", "wrap_up", None, 137, 152),
    ("a1", "ready", None, 152, 330),
    ("a1", "reserved", None, 330, 340),
    ("a1", "on_call", None, 340, 520),
    ("a1", "wrap_up", None, 520, 550),
    ("a1", "paused", "lunch", 550, 3600),
    ("a1", "logged_out", None, 3600, None),
    ("a2", "ready", None, 0, 312),
    ("a2", "reserved", None, 312, 321),
    ("a2", "paused", "missed", 321, 3600),
    ("a2", "ready", None, 3600, 4211),
    ("a2", "reserved", None, 4211, 4214),
    ("a2", "on_call", None, 4214, 4334),
    ("a2", "wrap_up", None, 4334, 4344),
    ("a2", "ready", None, 4344, None),
]


async def seed(
    url: str,
    *,
    timeline_column: frozenset[str] = frozenset(),
    resumed: frozenset[str] = frozenset(),
) -> None:
    """``timeline_column``: calls whose steps go into ``calls.timeline`` (how the daemon writes
    them now) instead of ``call_events`` rows (how calls written before 0006_storage have them).
    ``resumed``: calls whose first step is in the column and the rest in rows (a daemon died and
    another resumed the call: its steps are rows)."""
    first = {c: min(seq for c2, seq, *_ in EVENTS if c2 == c) for c in resumed}
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with async_sessionmaker(engine)() as session, session.begin():
            session.add_all(
                Call(**row, timeline=timeline_of(row["id"], first.get(row["id"])))
                if row["id"] in timeline_column | resumed
                else Call(**row)
                for row in CALLS
            )
            await session.flush()
            session.add_all(
                CallEvent(call_id=c, seq=seq, at=at(t), kind=kind, agent_id=agent)
                for c, seq, t, kind, agent in EVENTS
                if c not in timeline_column and seq != first.get(c)
            )
            session.add_all(
                AgentStateLog(agent_id=agent, state=state, reason=reason, started_at=at(start),
                              ended_at=None if end is None else at(end))
                for agent, state, reason, start, end in STATES
            )  # fmt: skip
    finally:
        await engine.dispose()


def timeline_of(call_id: str, only_seq: int | None = None) -> list[dict[str, Any]]:
    """The call's EVENTS as its stored timeline, with a step reports do not read (arrived);
    ``only_seq``: just that step (a resumed call's first daemon)."""
    steps = [TimelineStep(seq=0, at=at(0), kind="arrived")]
    steps += [
        TimelineStep(seq=seq, at=at(t), kind=kind, agent_id=agent)
        for c, seq, t, kind, agent in EVENTS
        if c == call_id and only_seq in (None, seq)
    ]
    return encode_timeline(steps)


@pytest_asyncio.fixture
async def seeded_url(db_url: str) -> AsyncIterator[str]:  # noqa: F811 - the reused fixture
    await seed(db_url)
    yield db_url
