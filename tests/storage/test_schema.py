"""Models create on both back-ends; migrations reach head and match the models exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import (
    SchemaNotCurrent,
    current_revisions,
    downgrade,
    ensure_schema,
    head_revisions,
    schema_drift,
    upgrade,
)
from acd.storage.models import Base, Call, CallEvent

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.asyncio
async def test_models_create_and_round_trip_aware_utc(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        sessions = session_factory(engine)
        berlin = timezone(timedelta(hours=1))
        async with sessions.begin() as s:
            s.add(
                Call(
                    id="c1",
                    arrived_at=datetime(2026, 3, 1, 10, 0, tzinfo=berlin),
                    ivr_path=[{"node": "main", "key": "2", "seconds": 4.5}],
                    outcome="answered",
                    events=[
                        CallEvent(seq=1, at=T0, kind="arrived"),
                        CallEvent(seq=2, at=T0 + timedelta(seconds=5), kind="offered"),
                    ],
                )
            )
        async with sessions() as s:
            call = await s.get(Call, "c1")
            assert call is not None
            assert call.arrived_at == T0
            assert call.arrived_at.tzinfo is UTC
            assert call.ivr_path == [{"node": "main", "key": "2", "seconds": 4.5}]
            assert call.vip is False
            assert call.ring_count == 0
            kinds = (await s.scalars(select(CallEvent.kind).order_by(CallEvent.seq))).all()
            assert kinds == ["arrived", "offered"]
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_database_refuses_bad_rows(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        sessions = session_factory(engine)
        with pytest.raises(StatementError, match="naive"):
            async with sessions.begin() as s:
                s.add(Call(id="c1", arrived_at=datetime(2026, 3, 1, 9, 0)))
        with pytest.raises(IntegrityError):  # foreign keys are on, also on SQLite
            async with sessions.begin() as s:
                s.add(CallEvent(call_id="nope", seq=1, at=T0, kind="arrived"))
        async with sessions.begin() as s:
            s.add(Call(id="c2", arrived_at=T0))
        bad_outcome = text("UPDATE calls SET outcome = 'lost' WHERE id = 'c2'")
        async with engine.connect() as conn:
            with pytest.raises(IntegrityError):  # the enum's CHECK constraint
                await conn.execute(bad_outcome)
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_upgrade_head_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await current_revisions(engine) == ()
        await upgrade(engine)
        assert await current_revisions(engine) == head_revisions()
        assert await schema_drift(engine) == []
        await upgrade(engine)  # already at head: a no-op, not an error
        assert await current_revisions(engine) == head_revisions()
        # Alembic does not compare CHECK constraints; verify the migrated enum check exists.
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO calls (id, arrived_at) VALUES ('c1', :t)"), {"t": T0}
            )
        async with engine.connect() as conn:
            with pytest.raises(IntegrityError):
                await conn.execute(text("UPDATE calls SET hung_up_by = 'nobody'"))
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_drift_is_detected(db_url: str) -> None:
    """The drift check can fail: a database missing a column is reported."""
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX ix_calls_uniqueid"))
        drift = await schema_drift(engine)
        assert [d[0] for d in drift] == ["add_index"]
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_ensure_schema_upgrades_sqlite_but_only_checks_postgresql(db_url: str) -> None:
    # A fresh SQLite file in a directory that does not exist yet (the default var/hotline.db).
    engine = create_engine(db_url.replace("/hotline.db", "/var/hotline.db"))
    try:
        if engine.dialect.name == "sqlite":
            await ensure_schema(engine)
            assert await current_revisions(engine) == head_revisions()
        else:
            with pytest.raises(SchemaNotCurrent, match="hotline db upgrade"):
                await ensure_schema(engine)
            await upgrade(engine)
            await ensure_schema(engine)
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await downgrade(engine, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables == {"alembic_version"}
        await upgrade(engine)
        assert await schema_drift(engine) == []
    finally:
        await engine.dispose()
