"""Reports over the known call set of conftest.py on SQLite and PostgreSQL.

Expected values are worked out by hand from the definitions (docs/kpis.md), not from the code.
Ring limit: 3 rings x 3 s = 9 s. Service level: answered within 15 s.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from acd.kpi import KpiSettings
from acd.reports import Report, build_report
from acd.reports.render import to_dict, to_json
from tests.reports.conftest import PERIOD, seed
from tests.storage.conftest import ScratchDatabase

KPI = KpiSettings(service_level_s=15, short_abandon_s=5, ring_cadence_s=3, max_rings=3)
LIMITS = {"orders": 9.0, "complaints": 9.0}


async def report(url: str, **options: Any) -> Report:
    return await build_report(
        url, start=PERIOD[0], end=PERIOD[1], settings=KPI, ring_limits=LIMITS, **options
    )


@pytest.mark.asyncio
async def test_totals_match_the_hand_computed_kpis(seeded_url: str) -> None:
    total = to_dict(await report(seeded_url))["total"]
    # c1..c6 arrived in the period (c7 is 8 days later)
    assert total["calls"] == 6
    # offered c1 c2 c3 c4 c6; answered c1 c2 c6; abandoned c3 (short, 3 s) and c4
    assert (total["offered"], total["answered"], total["abandoned"]) == (5, 3, 2)
    assert total["short_abandoned"] == 1
    # within 15 s: c1 (7 s) and c6 (4 s), over offered - short abandons = 4
    assert total["service_level_15s"] == 0.5
    assert total["service_level_with_short_abandons"] == 0.4
    # rings: c1 5 s, c6 3 s within 9 s; c2 rang a1 for 10 s
    assert total["answered_within_3_rings"] == round(2 / 3, 4)
    assert total["answer_rate"] == 0.6
    assert total["abandonment_rate"] == 0.4
    assert total["asa_s"] == round((7 + 30 + 4) / 3, 4)
    # c1 100 talk + 20 hold + 15 wrap; c2 180 + 30 wrap; c6 120 + 10 wrap
    assert total["handle_time_s"] == 475
    assert total["aht_s"] == round(475 / 3, 4)
    # ratings 5, 3 and 4 (c5, self-service): two of three are >= 4
    assert (total["rated"], total["csat"]) == (3, round(2 / 3, 4))
    # resolutions: c1 yes but 111 called again (c6), c2 yes (disposition, next call 8 days
    # later), c6 no
    assert total["fcr"] == round(1 / 3, 4)
    # busy a1 120+15+180+30, a2 120+10; staffed a1 550, a2 312+9+611+3+130+2856 (open until
    # the period's end)
    assert total["occupancy"] == round(475 / (550 + 3921), 4)


@pytest.mark.asyncio
async def test_hourly_buckets(seeded_url: str) -> None:
    rows = to_dict(await report(seeded_url, interval="1h"))["rows"]
    assert [row["interval_start"] for row in rows] == [
        "2026-03-02T09:00:00+00:00",
        "2026-03-02T10:00:00+00:00",
    ]
    nine, ten = rows
    # 09:00: c1..c5; within SL only c1, over 4 offered - 1 short
    assert (nine["calls"], nine["offered"], nine["answered"]) == (5, 4, 2)
    assert nine["service_level_15s"] == round(1 / 3, 4)
    assert (nine["asa_s"], nine["aht_s"]) == (18.5, 172.5)
    # a1 busy 345 of 550 staffed; a2 staffed 321, all before its pause
    assert nine["occupancy"] == round(345 / (550 + 321), 4)
    # 10:00: c6 only; a2 works the whole hour (busy 130 s), a1 is logged out
    assert (ten["calls"], ten["offered"], ten["service_level_15s"]) == (1, 1, 1.0)
    assert ten["occupancy"] == round(130 / 3600, 4)


@pytest.mark.asyncio
async def test_by_agent_queue_and_category(seeded_url: str) -> None:
    by_agent = {row["agent"]: row for row in to_dict(await report(seeded_url, by="agent"))["rows"]}
    assert set(by_agent) == {"a1", "a2", "(none)"}
    assert (by_agent["a1"]["handled"], by_agent["a1"]["handle_time_s"]) == (2, 345)
    assert by_agent["a1"]["occupancy"] == round(345 / 550, 4)
    assert (by_agent["a2"]["handled"], by_agent["a2"]["aht_s"]) == (1, 130)

    by_queue = {row["queue"]: row for row in to_dict(await report(seeded_url, by="queue"))["rows"]}
    assert (by_queue["orders"]["offered"], by_queue["orders"]["service_level_15s"]) == (3, 0.5)
    assert (by_queue["complaints"]["offered"], by_queue["complaints"]["abandoned"]) == (2, 1)
    assert by_queue["(none)"]["csat"] == 1.0  # c5 alone, rated 4
    assert by_queue["complaints"]["occupancy"] is None

    complaints = await report(seeded_url, by="category", queue="complaints")
    by_category = {row["category"]: row for row in to_dict(complaints)["rows"]}
    assert to_dict(complaints)["total"]["occupancy"] is None  # agents' time is not per queue
    assert set(by_category) == {"logistics", "product_quality"}
    assert (by_category["product_quality"]["handled"], by_category["logistics"]["handled"]) == (
        1,
        0,
    )
    assert by_category["product_quality"]["handle_time_s"] == 130

    by_menu = {row["menu"]: row for row in to_dict(await report(seeded_url, by="menu"))["rows"]}
    assert {name: row["calls"] for name, row in by_menu.items()} == {
        "orders": 3,
        "complaints": 2,
        "(none)": 1,
    }


@pytest.mark.asyncio
async def test_daily_buckets_follow_the_local_time_zone(seeded_url: str) -> None:
    # 09:00-11:00 UTC is 17:00-19:00 in Shanghai: one local day, starting at its midnight.
    done = await report(seeded_url, interval="day", tz=ZoneInfo("Asia/Shanghai"))
    rows = to_dict(done)["rows"]
    assert [row["interval_start"] for row in rows] == ["2026-03-02T00:00:00+08:00"]
    # in Honolulu (UTC-10) the period is 23:00-01:00: c1..c5 on March 1st, c6 (00:10) on the 2nd
    done = await report(seeded_url, interval="day", tz=ZoneInfo("Pacific/Honolulu"))
    rows = to_dict(done)["rows"]
    assert [(row["interval_start"], row["calls"]) for row in rows] == [
        ("2026-03-01T00:00:00-10:00", 5),
        ("2026-03-02T00:00:00-10:00", 1),
    ]


@pytest.mark.asyncio
async def test_a_period_without_calls_has_no_rates(seeded_url: str) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    done = await build_report(seeded_url, start=start, end=start.replace(day=2), interval="1h")
    total = to_dict(done)["total"]
    assert (total["calls"], total["offered"], done.rows) == (0, 0, [])
    assert total["service_level_15s"] is None
    assert total["occupancy"] is None


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_sqlite_and_postgresql_give_identical_json(
    tmp_path: Any, pg_db: ScratchDatabase
) -> None:
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    await seed(sqlite_url)
    await seed(pg_db.url)
    for options in ({}, {"interval": "15m", "by": "agent"}, {"interval": "week", "by": "menu"}):
        on_sqlite = to_json(await report(sqlite_url, **options))
        on_postgres = to_json(await report(pg_db.url, **options))
        assert on_sqlite == on_postgres
        assert json.loads(on_sqlite)["total"]["offered"] == 5
