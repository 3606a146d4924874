"""The demo end to end (daemon + PBX simulator over loopback), and ``hotline report`` over the
database the demo wrote: both must give the same counts and service level."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acd.cli.demo.plan import DemoParams, demo_settings
from acd.cli.demo.run import run_demo
from acd.cli.features import hotline_features
from acd.daemon.specs import kpi_settings
from acd.reports.build import build_report
from acd.reports.render import to_dict
from acd.settings.loader import load_settings
from acd.settings.settings import Settings

CONFIG = Path(__file__).resolve().parents[2] / "config"


def quick_settings(params: DemoParams) -> Settings:
    """The shipped configuration with short wrap-ups, so a test-sized demo drains quickly."""
    settings = demo_settings(load_settings(CONFIG, require_secrets=False), params)
    queues = tuple(q.model_copy(update={"wrapup_s": 1.0}) for q in settings.queues)
    agents = tuple(a.model_copy(update={"wrapup_s": None}) for a in settings.agents)
    return settings.model_copy(update={"queues": queues, "agents": agents})


@pytest.mark.asyncio
@pytest.mark.slow
async def test_demo_summary_equals_the_report_over_its_database(tmp_path: Path) -> None:
    params = DemoParams(
        calls_per_hour=3600,
        duration_s=12,
        seed=3,
        talk_mean_s=10,
        time_scale=4.0,
        impatient_share=0.0,
    )
    settings = quick_settings(params)
    started = datetime.now(UTC) - timedelta(seconds=5)
    result = await run_demo(settings, params, hotline_features(settings), workdir=tmp_path)
    summary = result.summary.as_dict()
    assert result.placed >= 5
    assert summary["offered"] >= 1
    # every placed call ended with an outcome, none stuck
    assert sum(result.outcomes.values()) == result.placed

    report = await build_report(
        result.db_url,
        start=started,
        end=datetime.now(UTC) + timedelta(seconds=5),
        settings=kpi_settings(settings.targets),
        ring_limits={q.name: q.ring_timeout_s for q in settings.queues},
    )
    total = to_dict(report)["total"]
    for key in ("offered", "answered", "abandoned"):
        assert total[key] == summary[key], key
    assert total["service_level_15s"] == pytest.approx(summary["service_level_15s"], abs=1e-3)
    assert total["answered_within_3_rings"] == pytest.approx(
        summary["answered_within_3_rings"], abs=1e-3
    )
