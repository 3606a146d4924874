"""``hotline demo``: the daemon and the PBX simulator on loopback, with a live view of the floor
and a KPI summary at the end (``--json``: the summary alone, as one object).

The wallboard and agent-desktop addresses and their keys are printed first, as plain lines
(to stderr with ``--json``), whatever the terminal's width and also when the output is piped;
the live view follows on a terminal only. The summary is ``hotline report`` over the demo's
database for the demo's period, and how to get it again is printed with it."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
    parser.add_argument(
        "--drain",
        type=float,
        default=60.0,
        help="seconds calls in progress may take to end after the last arrival (default 60); "
        "callers still on the line then hang up",
    )
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
    if (args.agents is not None and args.agents < 1) or args.duration <= 0 or args.drain < 0:
        print(
            "hotline demo: --agents and --duration must be positive, --drain not negative",
            file=sys.stderr,
        )
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
    summary = result.summary
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        for line in closing_lines(result, settings, args.drain, args.db):
            print(line)
        width = max(80, shutil.get_terminal_size().columns)
        Console(width=width).print(_summary_table(summary, settings))
    return ExitCode.OK if summary["offered"] or result.placed == 0 else ExitCode.PROBLEMS


def closing_lines(result: Any, settings: Any, drain_s: float, db: str | None) -> list[str]:
    """How the demo ended, what happened to the calls, and the report that gives its summary."""
    lines = []
    if result.cut_at_drain_limit:
        lines.append(
            f"drain limit of {drain_s:g} s reached: {result.cut_at_drain_limit} call(s) still in "
            "progress were hung up by their callers there (counted as the report counts them)"
        )
    else:
        lines.append(f"every call ended {result.drained_s:.1f} s after the last arrival (drain)")
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items()))
    lines.append(f"calls placed: {result.placed}; outcomes: {outcomes}")
    zone = ZoneInfo(settings.timezone)
    shown = (result.start.astimezone(zone), result.end.astimezone(zone))
    period = f"--from {shown[0].isoformat()} --to {shown[1].isoformat()}"
    if db:
        lines.append(f"the same numbers: hotline report --db {db} {period}")
    else:
        lines.append(f"summary = hotline report over the demo's database, {period}")
    return lines


async def _demo(settings: Any, params: Any, workdir: Path, args: argparse.Namespace) -> Any:
    from acd.cli.demo.access import DemoAccess
    from acd.cli.demo.run import DemoSnapshot, run_demo
    from acd.cli.features import hotline_features

    ivr = hotline_features(settings)
    out = sys.stderr if args.json else sys.stdout
    live: Live | None = None

    def ready(access: DemoAccess) -> None:
        nonlocal live
        for line in access.lines():
            print(line, file=out, flush=True)  # plain lines first: nothing cut, also in a pipe
        if not args.json and sys.stdout.isatty():
            live = Live(console=Console(), refresh_per_second=4, transient=True)
            live.start()

    def show(snap: DemoSnapshot) -> None:
        if live is not None:
            live.update(_live_view(snap))

    try:
        return await run_demo(
            settings,
            params,
            ivr,
            workdir=workdir,
            db_url=args.db,
            mqtt=args.mqtt,
            drain_s=args.drain,
            on_ready=ready,
            on_tick=show,
        )
    finally:
        if live is not None:
            live.stop()


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
