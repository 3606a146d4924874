"""The demo end to end (daemon + PBX simulator over loopback): its summary is `hotline report`
over its database for the period it prints, also when calls are still talking at its drain
limit; its addresses and keys come first, as plain lines, also when the output is piped."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from acd.cli.demo.plan import DemoParams, demo_settings
from acd.cli.demo.run import DemoResult, run_demo
from acd.cli.features import hotline_features
from acd.cli.main import main
from acd.engine.agent import AUTO_PAUSE_REASON
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from acd.storage.engine import create_engine, session_factory
from acd.storage.models.agents import AgentStateLog

CONFIG = Path(__file__).resolve().parents[2] / "config"


def quick_settings(params: DemoParams) -> Settings:
    """The shipped configuration with short wrap-ups, so a test-sized demo drains quickly."""
    settings = demo_settings(load_settings(CONFIG, require_secrets=False), params)
    queues = tuple(q.model_copy(update={"wrapup_s": 1.0}) for q in settings.queues)
    agents = tuple(a.model_copy(update={"wrapup_s": None}) for a in settings.agents)
    return settings.model_copy(update={"queues": queues, "agents": agents})


async def report_of(result: DemoResult, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """`hotline report --from START --to END --format json` as the demo printed the period."""
    zone = ZoneInfo("Asia/Shanghai")
    argv = [
        "report", "--db", result.db_url, "--config", str(CONFIG), "--format", "json",
        "--from", result.start.astimezone(zone).isoformat(),
        "--to", result.end.astimezone(zone).isoformat(),
    ]  # fmt: skip
    capsys.readouterr()
    assert await asyncio.to_thread(main, argv) == 0
    total: dict[str, Any] = json.loads(capsys.readouterr().out)["total"]
    return total


@pytest.mark.asyncio
@pytest.mark.slow
async def test_demo_summary_is_the_report_over_its_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = DemoParams(
        calls_per_hour=3600,
        duration_s=12,
        seed=3,
        talk_mean_s=10,
        time_scale=4.0,
        impatient_share=0.0,
    )
    settings = quick_settings(params)
    result = await run_demo(settings, params, hotline_features(settings), workdir=tmp_path)
    assert result.placed >= 5
    assert result.summary["offered"] >= 1
    assert result.cut_at_drain_limit == 0
    # every placed call ended with an outcome, none stuck
    assert sum(result.outcomes.values()) == result.placed
    assert "in progress" not in result.outcomes
    assert await report_of(result, capsys) == result.summary


@pytest.mark.asyncio
@pytest.mark.slow
async def test_calls_talking_at_the_drain_limit_are_counted_as_the_report_counts_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = DemoParams(
        calls_per_hour=3600,
        duration_s=8,
        seed=5,
        talk_mean_s=600,  # simulated seconds: nobody finishes talking before the limit
        ring_mean_s=1.0,
        answer_probability=1.0,
        time_scale=4.0,
        impatient_share=0.0,
    )
    settings = quick_settings(params)
    began = time.monotonic()
    result = await run_demo(
        settings, params, hotline_features(settings), workdir=tmp_path, drain_s=1.0
    )
    took = time.monotonic() - began
    assert result.cut_at_drain_limit >= 1
    assert result.summary["answered"] >= 1
    assert "in progress" not in result.outcomes  # hung up at the limit: every row is final
    assert "failed" not in result.outcomes
    assert await report_of(result, capsys) == result.summary
    # arrivals (8 s / 4) + drain (1 s) + the bounded hang-up and stop: never the old 2 minutes
    assert took < 2 + 1 + 15


@pytest.mark.asyncio
@pytest.mark.slow
async def test_agents_paused_for_missed_rings_come_back_and_the_queues_drain(
    tmp_path: Path,
) -> None:
    # Half the rings go unanswered and every queue pauses an agent at the first miss: without
    # the agents coming back, a queue whose agents all missed once waits for ever.
    params = DemoParams(
        calls_per_hour=3600,
        duration_s=12,
        seed=7,
        talk_mean_s=4,
        answer_probability=0.5,
        time_scale=4.0,
        impatient_share=0.0,
        back_from_auto_pause_s=8.0,
    )
    settings = quick_settings(params)
    queues = tuple(q.model_copy(update={"auto_pause_after_missed": 1}) for q in settings.queues)
    settings = settings.model_copy(update={"queues": queues})
    result = await run_demo(
        settings, params, hotline_features(settings), workdir=tmp_path, drain_s=40.0
    )
    assert result.cut_at_drain_limit == 0
    assert result.outcomes == {"answered": result.placed}
    engine = create_engine(result.db_url, read_only=True)
    try:
        async with session_factory(engine)() as session:
            rows = (
                await session.execute(
                    select(
                        AgentStateLog.agent_id,
                        AgentStateLog.state,
                        AgentStateLog.reason,
                        AgentStateLog.started_at,
                        AgentStateLog.ended_at,
                    ).order_by(AgentStateLog.id)
                )
            ).all()
    finally:
        await engine.dispose()
    back_s = params.back_from_auto_pause_s / params.time_scale
    # a pause followed by another interval was ended by the agent coming back, not before
    # their time; one begun in the demo's last seconds lasts until the demo stops
    came_back = 0
    for i, row in enumerate(rows):
        nxt = next((r for r in rows[i + 1 :] if r.agent_id == row.agent_id), None)
        if row.reason != AUTO_PAUSE_REASON or nxt is None:
            continue
        assert nxt.state == "ready"
        assert row.ended_at is not None
        assert (row.ended_at - row.started_at).total_seconds() >= back_s - 0.1
        came_back += 1
    assert came_back  # the case this is about happened


@pytest.mark.slow
def test_the_demo_prints_its_addresses_first_when_piped(tmp_path: Path) -> None:
    with (tmp_path / "stderr").open("w") as errors:
        demo = subprocess.Popen(
            [sys.executable, "-m", "acd.cli.main", "demo", "--config", str(CONFIG),
             "--duration", "6", "--calls-per-hour", "600", "--drain", "3"],
            stdout=subprocess.PIPE, stderr=errors, text=True, cwd=tmp_path,
            env={**os.environ, "COLUMNS": "40"},
        )  # fmt: skip
        try:
            assert demo.stdout is not None
            first = demo.stdout.readline()
            running = demo.poll() is None  # printed while the demo runs, not at its end
            rest = demo.stdout.read()  # through the same buffer: nothing read ahead is lost
            demo.wait(timeout=60)
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait()
    assert running
    assert demo.returncode == 0
    lines = [first.rstrip("\n"), *rest.splitlines()]
    assert lines[0].startswith("wallboard:     http://127.0.0.1:")
    assert lines[0].endswith("/wallboard")  # whole, though COLUMNS is 40
    assert lines[1].startswith("  viewer key:  hlk_")
    assert lines[2].startswith("agent desktop: http://127.0.0.1:")
    assert lines[2].endswith("/desk")
    assert lines[3].startswith("  agent 1001 (Li Na) key: hlk_")
    assert any(line.startswith("calls placed: ") for line in lines)
    assert any("--from " in line and "+08:00 --to " in line for line in lines)
