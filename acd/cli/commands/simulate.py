"""``hotline simulate``: staffing what-if, simulated with the real router next to Erlang C.

Single-queue form: ``--agents N --calls-per-hour R --aht S``. Config form: ``--config DIR`` takes
queues and agents from the settings (all agents logged in all day) and spreads ``--calls-per-hour``
evenly unless ``--queue-rate NAME=R`` gives a queue its own rate. Overflow ladders, rings and
per-agent wrap-up overrides are not simulated.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from acd.daemon.specs import engine_specs
from acd.engine.model import (
    AgentSpec,
    QueueSpec,
)
from acd.engine.simulation import (
    SimulationParams,
    SimulationResult,
    StaffingScenario,
    simulate_floor,
)
from acd.exitcodes import ExitCode

if TYPE_CHECKING:
    pass


# Policy names in queues.yaml -> the engine's policies.
def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        help="simulate service level per queue and compare with Erlang C",
        description="Discrete-event simulation (Poisson arrivals, exponential handle times).",
    )
    parser.add_argument("--config", metavar="DIR", help="queues and agents from a config dir")
    parser.add_argument("--agents", type=int, help="agents logged in (single-queue form)")
    parser.add_argument("--calls-per-hour", type=float, help="offered calls per hour")
    parser.add_argument(
        "--queue-rate", action="append", default=[], metavar="NAME=R", help="calls/h of a queue"
    )
    parser.add_argument("--aht", type=float, metavar="SECONDS", help="average talk time")
    parser.add_argument("--hours", type=float, default=8.0, help="length of the day (default 8)")
    parser.add_argument("--patience", type=float, metavar="SECONDS", help="mean patience")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        floor = _config_floor(args) if args.config is not None else _single_floor(args)
        if args.aht is None:
            raise ValueError("--aht is required")
        if args.patience is not None and args.patience <= 0:
            raise ValueError("--patience must be positive")
        params = SimulationParams(
            agents=len(floor.agents),
            calls_per_hour=sum(floor.calls_per_hour.values()),
            aht_s=args.aht,
            hours=args.hours,
            patience_s=args.patience,
            seed=args.seed,
        )
        results = simulate_floor(floor, params)
    except ValueError as exc:
        console.print(f"simulate: {exc}", markup=False)
        return ExitCode.USAGE
    if args.json:
        body: dict[str, Any] = dict(results[-1].as_json())
        if len(results) > 1:
            body["queues"] = [r.as_json() for r in results[:-1]]
        print(json.dumps(body, sort_keys=True))
    else:
        Console().print(_table(results))
    return ExitCode.OK


def _single_floor(args: argparse.Namespace) -> StaffingScenario:
    if args.agents is None or args.calls_per_hour is None:
        raise ValueError("needs --agents, --calls-per-hour and --aht (or --config DIR)")
    if args.agents < 1:
        raise ValueError("--agents must be at least 1")
    queue = QueueSpec(name="main", skill="general")
    agents = tuple(AgentSpec(f"a{i:05d}", f"SIM/{i}", {"general": 1}) for i in range(args.agents))
    return StaffingScenario((queue,), agents, {"main": args.calls_per_hour})


def _config_floor(args: argparse.Namespace) -> StaffingScenario:
    from acd.settings.errors import ConfigError
    from acd.settings.loader import load_settings

    if args.agents is not None:
        raise ValueError("--agents comes from the config with --config")
    try:
        settings = load_settings(Path(args.config), require_secrets=False)
    except ConfigError as exc:
        raise ValueError(f"invalid configuration:\n{exc}") from exc
    queues, agents = engine_specs(settings)
    rates: dict[str, float] = {}
    if args.calls_per_hour is not None:
        rates = {q.name: args.calls_per_hour / len(queues) for q in queues}
    for item in args.queue_rate:
        name, _, value = item.partition("=")
        if name not in {q.name for q in queues}:
            raise ValueError(f"--queue-rate: no queue {name!r} in the config")
        rates[name] = float(value)
    if not rates:
        raise ValueError("needs --calls-per-hour or --queue-rate NAME=R")
    return StaffingScenario(queues, agents, rates)


def _fmt(value: float, pct: bool = False) -> str:
    if math.isinf(value):
        return "unstable"
    return f"{value:.1%}" if pct else f"{value:.1f}"


def _table(results: list[SimulationResult]) -> Table:
    table = Table(title="simulated / Erlang C (service level: answered within 15 s of offered)")
    table.add_column("measure")
    for r in results:
        table.add_column(r.queue, justify="right")
    rows = [
        ("offered", [str(r.offered) for r in results]),
        ("abandoned", [f"{r.abandoned} ({r.abandoned / max(r.offered, 1):.1%})" for r in results]),
        (
            "service level 15 s",
            [_pair(r.service_level, r.erlang.service_level, True) for r in results],
        ),
        ("ASA s", [_pair(r.asa_s, r.erlang.asa_s) for r in results]),
        ("occupancy", [_pair(r.occupancy, r.erlang.occupancy, True) for r in results]),
        ("agents (Erlang C)", [str(r.erlang.agents) for r in results]),
    ]
    for name, cells in rows:
        table.add_row(name, *cells)
    return table


def _pair(simulated: float, erlang: float, pct: bool = False) -> str:
    return f"{_fmt(simulated, pct)} / {_fmt(erlang, pct)}"
