"""``hotline report``: KPIs of a period from the database, as a table, CSV or JSON, and a chart.

``hotline report [--from DATE] [--to DATE] [--interval 15m|30m|1h|day|week|month]
[--by queue|agent|menu|category|handled_by] [--queue NAME] [--format table|csv|json]
[--chart FILE.png] [--db URL] [--config DIR]``. Dates are in the configured time zone; a bare
``--to`` date includes that day. Default period: today. Exit codes: 0 ok, 2 usage, 3 database
unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import URL

from acd.exitcodes import ExitCode
from acd.reports import GROUPINGS, INTERVALS, build_report
from acd.reports.chart import write_chart
from acd.reports.config import ReportConfig, report_config
from acd.reports.periods import PeriodError, bucket_start, day_after, parse_when
from acd.reports.render import to_csv, to_json, to_table
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.storage.engine import DEFAULT_URL, UnsupportedDatabase, normalise_url
from acd.storage.errors import is_transient

URL_ENV = "HOTLINE_DATABASE_URL"
T = TypeVar("T")


class UsageError(ValueError):
    """Bad arguments or configuration: exit code 2."""


@dataclass(frozen=True)
class Inputs:
    url: URL
    config: ReportConfig
    start: datetime
    end: datetime
    now: datetime


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", metavar="DATE", help="start (default: today)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="end, inclusive for a date")
    parser.add_argument("--db", metavar="URL", help=f"database URL (default: ${URL_ENV})")
    parser.add_argument("--config", metavar="DIR", default="config", help="config directory")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="KPI report over the stored calls")
    add_common_arguments(parser)
    parser.add_argument("--interval", choices=INTERVALS, help="one row per interval")
    parser.add_argument(
        "--by",
        choices=GROUPINGS,
        help="one row per queue/agent/menu/category, or per who finished the call"
        " (handled_by: the daemon, or the dialplan's fallback Queue())",
    )
    parser.add_argument("--queue", metavar="NAME", help="only this queue's calls")
    parser.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="default: table"
    )
    parser.add_argument("--chart", metavar="FILE.png", type=Path, help="write a PNG chart")
    parser.set_defaults(func=run)


def inputs(args: argparse.Namespace, now: datetime) -> Inputs:
    """Resolve URL, settings and period; raises UsageError for anything the user must fix."""
    try:
        url = normalise_url(args.db or os.environ.get(URL_ENV) or DEFAULT_URL)
    except (UnsupportedDatabase, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    try:
        settings = load_settings(Path(args.config), require_secrets=False)
    except ConfigError as exc:
        raise UsageError(f"configuration {args.config}: {exc}") from exc
    config = report_config(settings)
    try:
        start = (
            parse_when(args.start, config.tz)
            if args.start
            else bucket_start(now, "day", config.tz).astimezone(UTC)
        )
        end = day_after(args.end, config.tz) if args.end else start + timedelta(days=1)
    except PeriodError as exc:
        raise UsageError(str(exc)) from exc
    if end <= start:
        raise UsageError("--to must be after --from")
    return Inputs(url, config, start, end, now)


def run_database(
    command: str, url: URL, body: Callable[[], Coroutine[Any, Any, T]]
) -> tuple[int, T | None]:
    """Run ``body``; a database outage (or a missing SQLite file) is exit code 3."""
    path = url.database if url.get_backend_name() == "sqlite" else None
    if path not in (None, "", ":memory:") and not Path(str(path)).exists():
        return _unreachable(command, url, f"no database file {path}"), None
    try:
        return ExitCode.OK, asyncio.run(body())
    except Exception as exc:
        if not is_transient(exc):
            raise
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return _unreachable(command, url, reason), None


def _unreachable(command: str, url: URL, reason: str) -> int:
    shown = url.render_as_string(hide_password=True)
    print(f"hotline {command}: database unreachable at {shown}: {reason}", file=sys.stderr)
    return ExitCode.UNAVAILABLE


def run(args: argparse.Namespace) -> int:
    try:
        given = inputs(args, datetime.now(UTC))
    except UsageError as exc:
        print(f"hotline report: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    config = given.config

    async def body() -> Any:
        return await build_report(
            given.url,
            start=given.start,
            end=given.end,
            interval=args.interval,
            by=args.by,
            queue=args.queue,
            settings=config.kpi,
            ring_limits=config.ring_limits,
            tz=config.tz,
            as_of=min(given.now, given.end),
        )

    code, report = run_database("report", given.url, body)
    if report is None:
        return code
    if args.format == "json":
        sys.stdout.write(to_json(report) + "\n")
    elif args.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        sys.stdout.write(to_table(report, config.targets, config.tz))
    if args.chart is not None:
        write_chart(report, args.chart, config.targets.get("service_level_15s"))
    return ExitCode.OK
