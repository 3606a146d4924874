"""The staffing simulator against Erlang C, its determinism, abandonment and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd.cli.commands.simulate import engine_specs
from acd.cli.main import main
from acd.engine.model import AgentSpec, Policy, QueueSpec, RelaxRule
from acd.engine.simulation import SimulationParams, StaffingScenario, simulate, simulate_floor
from acd.settings.loader import load_settings

CONFIG = Path(__file__).resolve().parents[2] / "config"
JSON_KEYS = {
    "offered",
    "answered",
    "abandoned",
    "service_level_15s",
    "erlang_c_service_level_15s",
    "asa_s",
    "occupancy",
}


def test_large_run_agrees_with_erlang_c() -> None:
    # 10 Erlang on 12 agents for 400 hours (~80,000 calls): Erlang C assumptions hold exactly.
    result = simulate(SimulationParams(agents=12, calls_per_hour=200, aht_s=180, hours=400, seed=5))
    assert result.erlang.service_level == pytest.approx(0.6196, abs=1e-3)
    assert result.service_level == pytest.approx(result.erlang.service_level, abs=0.03)
    assert result.asa_s == pytest.approx(result.erlang.asa_s, rel=0.15)
    assert result.occupancy == pytest.approx(result.erlang.occupancy, abs=0.015)
    assert result.answered == result.offered
    assert result.offered == pytest.approx(80_000, rel=0.02)


def test_same_seed_same_output() -> None:
    params = SimulationParams(agents=5, calls_per_hour=100, aht_s=150, hours=4, seed=9)
    assert simulate(params) == simulate(params)
    other = simulate(SimulationParams(agents=5, calls_per_hour=100, aht_s=150, hours=4, seed=10))
    assert other.as_json() != simulate(params).as_json()


def test_patience_produces_abandonment() -> None:
    # 10 Erlang on 10 agents never settles; impatient callers leave instead.
    params = SimulationParams(agents=10, calls_per_hour=200, aht_s=180, hours=8, patience_s=30)
    result = simulate(params)
    assert result.abandoned > 0
    assert result.answered + result.abandoned == result.offered
    patient = simulate(SimulationParams(agents=10, calls_per_hour=200, aht_s=180, hours=8))
    assert patient.abandoned == 0
    assert patient.answered == patient.offered


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        simulate(SimulationParams(agents=0, calls_per_hour=100, aht_s=180, hours=1))


def test_cli_json_day_at_1000_calls_per_hour(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--agents", "55", "--calls-per-hour", "1000", "--aht", "180"]
    assert main([*argv, "--hours", "8", "--seed", "3", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first) >= JSON_KEYS
    assert first["offered"] == first["answered"] + first["abandoned"]
    assert 7000 < first["offered"] < 9000
    assert first["erlang_c_service_level_15s"] == pytest.approx(0.7465, abs=1e-3)
    assert main([*argv, "--hours", "8", "--seed", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first


def test_cli_table(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--agents", "3", "--calls-per-hour", "40", "--aht", "120", "--hours", "2"]
    assert main([*argv, "--patience", "60"]) == 0
    out = capsys.readouterr().out
    assert "Erlang C" in out
    assert "service level 15 s" in out
    assert "occupancy" in out
    assert "main" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["simulate", "--agents", "3"],  # missing rates
        ["simulate", "--config", str(CONFIG), "--aht", "180"],  # no call rate
        ["simulate", "--config", str(CONFIG), "--aht", "180", "--queue-rate", "nope=5"],
        [
            "simulate",
            "--config",
            str(CONFIG),
            "--aht",
            "180",
            "--calls-per-hour",
            "9",
            "--agents",
            "3",
        ],
        ["simulate", "--config", "/nonexistent", "--aht", "180", "--calls-per-hour", "9"],
        ["simulate", "--agents", "0", "--calls-per-hour", "40", "--aht", "120"],
        ["simulate", "--agents", "2", "--calls-per-hour", "40", "--aht", "120", "--patience", "0"],
    ],
)
def test_cli_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().out == ""


def test_cli_config_form_routes_every_queue(capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(CONFIG, require_secrets=False)
    argv = ["simulate", "--config", str(CONFIG), "--calls-per-hour", "40", "--aht", "180"]
    assert main([*argv, "--json", "--seed", "2"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) >= JSON_KEYS
    assert body["queue"] == "total"
    assert [q["queue"] for q in body["queues"]] == [q.name for q in settings.queues]
    assert body["offered"] == sum(q["offered"] for q in body["queues"])
    assert body["answered"] == body["offered"]
    assert all(q["offered"] > 0 for q in body["queues"])


def test_engine_specs_map_the_shipped_config() -> None:
    settings = load_settings(CONFIG, require_secrets=False)
    queues, agents = engine_specs(settings)
    for spec, q in zip(queues, settings.queues, strict=True):
        assert (spec.name, spec.skill, spec.min_level, spec.priority) == (
            q.name, q.skill, q.min_level, q.priority,
        )  # fmt: skip
        assert spec.wrap_up_s == q.wrapup_s
        assert [(r.after_s, r.min_level) for r in spec.relax] == [
            (r.after_s, r.min_level) for r in q.relax
        ]
        assert spec.ring_timeout_s == q.ring_timeout_s
        assert len(spec.overflow) == len(q.overflow)
        assert isinstance(spec.policy, Policy)
    assert {a.id: dict(a.skills) for a in agents} == {a.id: dict(a.skills) for a in settings.agents}


def test_relaxed_requirement_is_served_on_time_without_other_events() -> None:
    # Only level-1 agents and a queue wanting level 3 until 10 s: every call waits exactly 10 s,
    # which needs the router's relax wake-up (nothing else happens at that instant).
    queue = QueueSpec("q", "s", min_level=3, relax=(RelaxRule(10.0, 1),))
    agents = tuple(AgentSpec(f"a{i}", f"SIM/{i}", {"s": 1}) for i in range(20))
    params = SimulationParams(agents=20, calls_per_hour=10, aht_s=60, hours=20, seed=4)
    (result,) = simulate_floor(StaffingScenario((queue,), agents, {"q": 10.0}), params)
    assert result.offered > 100
    assert result.answered == result.offered
    assert result.asa_s == pytest.approx(10.0)
    assert result.service_level == 1.0
