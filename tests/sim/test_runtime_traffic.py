"""Seeded traffic: the same seed gives the same calls; the simulator places all of them."""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
from pathlib import Path

import pytest

from acd.sim.plan import DialplanPlan, SimPlan
from acd.sim.runtime import Simulator
from acd.sim.traffic import (
    TrafficProfile,
    agent_endpoints,
    arrival_times,
    demo_plan,
    generate_calls,
    make_agents,
)
from tests.conftest import free_port


def test_same_seed_same_calls_other_seed_other_calls() -> None:
    profile = TrafficProfile(calls_per_hour=300, duration_s=1800)
    first = generate_calls(random.Random(42), profile)
    again = generate_calls(random.Random(42), profile)
    other = generate_calls(random.Random(43), profile)
    assert first == again
    assert first != other
    assert len(first) > 10


def test_arrivals_are_poisson_at_the_asked_rate() -> None:
    times = arrival_times(random.Random(5), calls_per_hour=3600, duration_s=3600)
    assert times == sorted(times)
    assert all(0 <= t < 3600 for t in times)
    # one call per second on average: the count of a Poisson(3600) is within 4 sigma of 3600
    assert abs(len(times) - 3600) < 4 * 60
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.mean(gaps) == pytest.approx(1.0, rel=0.1)
    # exponential gaps: the standard deviation equals the mean
    assert statistics.stdev(gaps) == pytest.approx(1.0, rel=0.15)
    assert arrival_times(random.Random(5), calls_per_hour=0, duration_s=60) == []


def test_callers_follow_the_menu_mix_and_patience_share() -> None:
    profile = TrafficProfile(
        calls_per_hour=7200, duration_s=3600, menu_mix={"1": 3.0, "2": 1.0}, impatient_share=0.25
    )
    calls = generate_calls(random.Random(9), profile)
    firsts = [c.caller.prompt_answers[0] for c in calls]
    assert set(firsts) == {"1", "2"}
    assert firsts.count("1") / len(firsts) == pytest.approx(0.75, abs=0.03)
    impatient = [c for c in calls if c.caller.hangup_after is not None]
    assert len(impatient) / len(calls) == pytest.approx(0.25, abs=0.03)
    assert all(c.caller.hangup_after > profile.ivr_time_s for c in impatient)  # type: ignore[operator]
    numbers = [c.caller.number for c in calls]
    assert all(n.startswith("555") and len(n) == 10 for n in numbers)


def test_agents_and_demo_plan() -> None:
    endpoints = agent_endpoints(3)
    assert endpoints == ["PJSIP/1001", "PJSIP/1002", "PJSIP/1003"]
    agents = make_agents(random.Random(1), endpoints)
    assert agents == make_agents(random.Random(1), endpoints)
    assert all(a.hangs_up == "agent" and a.answer_after is not None for a in agents.values())
    plan = demo_plan(random.Random(1), agents=3, agi_port=4999)
    assert plan.dialplan.agi_port == 4999
    sales = plan.queue("sales")
    assert sales is not None
    assert [m.interface for m in sales.members] == endpoints


@pytest.mark.asyncio
async def test_simulator_places_the_seeded_sequence() -> None:
    # FastAGI goes to a closed port: every call takes the fallback path, nothing else needed.
    plan = SimPlan(dialplan=DialplanPlan(agi_port=free_port()))
    profile = TrafficProfile(calls_per_hour=1800, duration_s=20)
    sims = [Simulator(plan, seed=11, time_scale=50.0) for _ in range(2)]
    planned = []
    for sim in sims:
        await sim.start()
        planned.append(sim.start_traffic(profile))
    try:
        assert planned[0] == planned[1]
        assert len(planned[0]) > 3
        async with asyncio.timeout(5):
            while any(sim.calls_placed < len(planned[0]) for sim in sims):
                await asyncio.sleep(0.02)
        assert sims[0].calls_placed == len(planned[0])
    finally:
        for sim in sims:
            await sim.close()


def test_hotline_sim_command_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    from acd.cli.main import main

    argv = ["sim", "--ami-port", "0", "--duration", "0", "--agents", "2", "--seed", "4"]
    assert main([*argv, "--agi-port", str(free_port())]) == 0
    out = capsys.readouterr().out
    assert "hotline sim: AMI on 127.0.0.1:" in out
    assert "0 calls placed" in out
    assert main(["sim", "--agents", "-1"]) == 2


def test_hotline_sim_runs_the_configured_dialplan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from acd.cli.main import main

    config = Path(__file__).resolve().parents[2] / "config"
    argv = ["sim", "--ami-port", "0", "--duration", "0", "--config", str(config)]
    assert main([*argv, "--asterisk-log-dir", str(tmp_path)]) == 0
    assert "FastAGI to 127.0.0.1:4573" in capsys.readouterr().out  # from config/hotline.yaml
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "system.yaml").write_text("system: [")
    assert main(["sim", "--ami-port", "0", "--config", str(tmp_path / "bad")]) == 2
