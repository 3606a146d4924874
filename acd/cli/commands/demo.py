"""``hotline demo``: the daemon and the PBX simulator on loopback, with a live view of the floor
and a KPI summary at the end (``--json``: the summary alone, as one object)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="run the daemon against the built-in PBX simulator and show the floor"
    )
    parser.add_argument("--config", type=Path, default=Path("config"), help="config directory")
    parser.add_argument("--agents", type=int, help="generate N agents instead of agents.yaml")
    parser.add_argument(
        "--calls-per-hour", type=float, default=600.0, help="arrival rate (default 600)"
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of arrivals")
    parser.add_argument("--seed", type=int, default=1, help="same seed = same calls")
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--mqtt", action="store_true", help="publish events to the MQTT broker")
    parser.add_argument("--json", action="store_true", help="print only the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from acd import logging as hlog
    from acd.cli.demo.plan import DemoParams, demo_settings

    try:
        settings = load_settings(args.config, require_secrets=False)
    except ConfigError as exc:
        print(f"hotline: invalid configuration in {args.config}:\n{exc}", file=sys.stderr)
        return ExitCode.USAGE
    if (args.agents is not None and args.agents < 1) or args.duration <= 0:
        print("hotline demo: --agents and --duration must be positive", file=sys.stderr)
        return ExitCode.USAGE
    hlog.configure("console", "WARNING", stream=sys.stderr)
    logging.getLogger("acd.sim").setLevel(logging.ERROR)
    params = DemoParams(
        agents=args.agents,
        calls_per_hour=args.calls_per_hour,
        duration_s=args.duration,
        seed=args.seed,
    )
    settings = demo_settings(settings, params)
    with tempfile.TemporaryDirectory(prefix="hotline-demo-") as tmp:
        result = asyncio.run(_demo(settings, params, Path(tmp), args))
    summary = result.summary.as_dict()
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        console = Console()
        console.print(_summary_table(summary, settings))
        console.print(f"calls placed: {result.placed}; outcomes: {dict(result.outcomes)}")
        console.print(f"the wallboard was served at {result.wallboard_url} while the demo ran")
        if args.db:
            console.print(f"call rows are in {result.db_url}: try `hotline report --db {args.db}`")
    return ExitCode.OK if result.summary.offered or result.placed == 0 else ExitCode.PROBLEMS


async def _demo(settings: Any, params: Any, workdir: Path, args: argparse.Namespace) -> Any:
    from acd.cli.demo.run import DemoSnapshot, run_demo
    from acd.cli.features import hotline_features

    ivr = hotline_features(settings)
    if args.json or not sys.stdout.isatty():
        return await run_demo(
            settings, params, ivr, workdir=workdir, db_url=args.db, mqtt=args.mqtt
        )
    console = Console()
    with Live(console=console, refresh_per_second=4, transient=True) as live:

        def show(snap: DemoSnapshot) -> None:
            live.update(_live_view(snap))

        return await run_demo(
            settings, params, ivr, workdir=workdir, db_url=args.db, mqtt=args.mqtt, on_tick=show
        )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _live_view(snap: Any) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_row(
        f"t = {snap.elapsed_s:5.0f} s",
        f"calls placed {snap.placed}/{snap.planned}",
        f"in progress {snap.in_progress}",
        f"longest wait {snap.longest_wait_s:.0f} s",
    )
    head.add_row(f"wallboard: {snap.wallboard_url}")
    queues = Table(title="callers waiting")
    for name in sorted(snap.waiting) or ["-"]:
        queues.add_column(name)
    queues.add_row(*[str(snap.waiting[n]) for n in sorted(snap.waiting)] or ["0"])
    agents = Table(title="agents by state")
    for state in sorted(snap.agents):
        agents.add_column(state)
    agents.add_row(*[str(snap.agents[s]) for s in sorted(snap.agents)])
    s = snap.summary
    kpi = Table(title="so far")
    for col in ("offered", "answered", "abandoned", "SL 15 s", "3 rings", "ASA"):
        kpi.add_column(col)
    kpi.add_row(
        str(s.offered),
        str(s.answered),
        str(s.abandoned),
        _pct(s.service_level_15s),
        _pct(s.answered_within_3_rings),
        _secs(s.asa_s),
    )
    return Group(head, queues, agents, kpi)


def _summary_table(summary: dict[str, Any], settings: Any) -> Table:
    targets = settings.targets
    table = Table(title="hotline demo: KPI summary")
    table.add_column("KPI")
    table.add_column("actual", justify="right")
    table.add_column("target", justify="right")
    rows = [
        ("offered", str(summary["offered"]), ""),
        ("answered", str(summary["answered"]), ""),
        ("abandoned", str(summary["abandoned"]), ""),
        (
            "service level within 15 s",
            _pct(summary["service_level_15s"]),
            _pct(targets.service_level),
        ),
        (
            "answered within 3 rings",
            _pct(summary["answered_within_3_rings"]),
            _pct(targets.answered_within_rings.target),
        ),
        ("answer rate", _pct(summary["answer_rate"]), _pct(targets.answer_rate)),
        ("ASA", _secs(summary["asa_s"]), ""),
        ("AHT", _secs(summary["aht_s"]), _secs(targets.aht_s)),
    ]
    for row in rows:
        table.add_row(*row)
    return table
