"""The week's QA sample is fixed once drawn, also when two first drawings race on PostgreSQL;
migration 0005_qa_lock numbers the drawings stored before it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from acd.storage.engine import create_engine
from acd.storage.migrate import downgrade, upgrade
from recordings.qa_store import Redraw, SampleLocked, latest_sample, save_sample
from recordings.sampling import QaSampleResult
from tests.recordings.test_cli_qa import pg_url  # noqa: F401 - the fixture, reused

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def result(seed: int) -> QaSampleResult:
    return QaSampleResult(
        population=3, sampled=["c1"], reasons={"c1": ["random"]}, by_agent={"a1": 1}, seed=seed
    )


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_two_first_drawings_at_once_one_wins(pg_url: str) -> None:  # noqa: F811
    engine = create_engine(pg_url)
    watcher = create_engine(pg_url)
    try:
        async with (
            AsyncSession(engine, expire_on_commit=False) as first,
            AsyncSession(engine, expire_on_commit=False) as second,
        ):
            await first.begin()
            await save_sample(first, "2026-W47", 0.1, result(1), NOW)  # inserted, not committed

            async def racing() -> SampleLocked:
                async with second.begin():
                    with pytest.raises(SampleLocked) as caught:
                        await save_sample(second, "2026-W47", 0.1, result(2), NOW)
                return caught.value

            race = asyncio.create_task(racing())
            async with asyncio.timeout(20):  # until the second insert waits on the first's row
                while True:
                    async with watcher.connect() as conn:
                        waiting = await conn.scalar(
                            text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                 "current_database() AND wait_event_type = 'Lock'")
                        )  # fmt: skip
                    if waiting:
                        break
                    await asyncio.sleep(0.05)
            await first.commit()
            lost = await race
        assert lost.existing.seed == 1  # the drawing that won is reported, ours rolled back
        async with AsyncSession(engine, expire_on_commit=False) as check, check.begin():
            kept = await latest_sample(check, "2026-W47")
            assert kept is not None
            assert (kept.drawing, kept.seed) == (1, 1)
            again = await save_sample(
                check, "2026-W47", 0.2, result(3), NOW, redraw=Redraw("sue", "retry")
            )
            assert again.drawing == 2
    finally:
        await engine.dispose()
        await watcher.dispose()


@pytest.mark.asyncio
async def test_migration_numbers_the_drawings_already_stored(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0002_qa")
        async with engine.begin() as conn:
            for week, seed in (("2026-W47", 1), ("2026-W48", 2), ("2026-W47", 3)):
                await conn.execute(
                    text("INSERT INTO qa_samples (week, seed, rate, population, call_ids, "
                         "reasons, created_at) VALUES (:w, :s, 0.1, 0, '[]', '{}', :t)"),
                    {"w": week, "s": seed, "t": NOW.isoformat()},
                )  # fmt: skip
        await upgrade(engine, "0005_qa_lock")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT week, seed, drawing FROM qa_samples "
                                            "ORDER BY id"))).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [("2026-W47", 1, 1), ("2026-W48", 2, 1),
                                            ("2026-W47", 3, 2)]  # fmt: skip
        await downgrade(engine, "0002_qa")
        async with engine.connect() as conn:
            columns = [r[1] for r in (await conn.execute(text("PRAGMA table_info(qa_samples)")))]
        assert "drawing" not in columns
    finally:
        await engine.dispose()
