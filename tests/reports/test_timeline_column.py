"""Reports read a call's timeline from ``calls.timeline`` (how calls are written now) exactly as
from its ``call_events`` rows (how older calls were written), also when a period mixes both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.kpi import KpiSettings
from acd.reports import build_report
from acd.reports.queries import EventRow, fetch_timeline
from acd.reports.render import to_dict
from acd.storage.engine import create_engine
from tests.reports.conftest import PERIOD, seed

KPI = KpiSettings(service_level_s=15, short_abandon_s=5, ring_cadence_s=3, max_rings=3)
LIMITS = {"orders": 9.0, "complaints": 9.0}
IN_THE_COLUMN = frozenset({"c1", "c2"})  # c6 keeps call_events rows


async def report(url: str, **options: Any) -> dict[str, Any]:
    done = await build_report(
        url, start=PERIOD[0], end=PERIOD[1], settings=KPI, ring_limits=LIMITS, **options
    )
    return to_dict(done)


async def timeline(url: str) -> dict[str, list[EventRow]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await fetch_timeline(conn, *PERIOD)
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_reports_read_the_timeline_column_like_timeline_rows(
    db_url: str, tmp_path: Path
) -> None:
    rows_only = f"sqlite+aiosqlite:///{tmp_path}/rows.db"
    await seed(rows_only)
    await seed(db_url, timeline_column=IN_THE_COLUMN)
    expected = await timeline(rows_only)
    assert set(expected) == {"c1", "c2", "c6"}
    assert await timeline(db_url) == expected
    for options in ({}, {"by": "agent"}, {"interval": "1h"}):
        assert await report(db_url, **options) == await report(rows_only, **options)


@pytest.mark.asyncio
async def test_a_resumed_call_is_its_column_and_its_rows_in_step_order(
    db_url: str, tmp_path: Path
) -> None:
    """A daemon died mid-call and another resumed it: the first daemon's steps are in
    ``calls.timeline``, the second's are ``call_events`` rows; the reports see one timeline."""
    rows_only = f"sqlite+aiosqlite:///{tmp_path}/rows.db"
    await seed(rows_only)
    await seed(db_url, timeline_column=frozenset({"c2"}), resumed=frozenset({"c1"}))
    expected = await timeline(rows_only)
    assert len(expected["c1"]) >= 2  # a step on each side
    assert await timeline(db_url) == expected
    for options in ({}, {"by": "agent"}):
        assert await report(db_url, **options) == await report(rows_only, **options)
