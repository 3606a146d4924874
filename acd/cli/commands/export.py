"""``hotline export queue-log [--from DATE] [--to DATE] [--db URL] [--config DIR]``.

Prints hotline's history of the period as Asterisk ``queue_log`` lines (format and fields:
``acd.reports.queue_log``) so QueueMetrics-style tools can read it. Default period: today.
Exit codes: 0 ok, 2 usage, 3 database unreachable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from acd.cli.commands.report import UsageError, add_common_arguments, inputs, run_database
from acd.exitcodes import ExitCode
from acd.reports import queries
from acd.reports.queue_log import queue_log
from acd.storage.engine import create_engine


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("export", help="export hotline's history for other tools")
    formats = parser.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    queue_log_parser = formats.add_parser(
        "queue-log", help="Asterisk queue_log lines (epoch|callid|queue|agent|EVENT|data...)"
    )
    add_common_arguments(queue_log_parser)
    queue_log_parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        given = inputs(args, datetime.now(UTC))
    except UsageError as exc:
        print(f"hotline export: {exc}", file=sys.stderr)
        return ExitCode.USAGE

    async def body() -> list[str]:
        engine = create_engine(given.url)
        try:
            async with engine.connect() as conn:
                calls = await queries.fetch_calls(conn, given.start, given.end)
                timeline = await queries.fetch_timeline(conn, given.start, given.end)
                states = await queries.fetch_states(conn, given.start, given.end)
        finally:
            await engine.dispose()
        return queue_log(
            calls,
            timeline,
            states,
            start=given.start,
            end=given.end,
            agent_queues=given.config.agent_queues,
        )

    code, lines = run_database("export", given.url, body)
    if lines is None:
        return code
    sys.stdout.writelines(line + "\n" for line in lines)
    return ExitCode.OK
