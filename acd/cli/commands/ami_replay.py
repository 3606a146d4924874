"""``hotline ami-replay FILE [--json]``: what a captured AMI byte stream contains.

Prints the events per type, the number of responses and every protocol error with its byte offset
(parsing resynchronises at the next blank line after an error). Exit status: 0 clean, 1 protocol
errors found, 2 the file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from acd.asterisk.ami.replay import ReplaySummary, load_capture, summarize
from acd.exitcodes import ExitCode


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "ami-replay",
        help="count the events / responses / protocol errors in a captured AMI stream",
        description=(
            "Parse a captured AMI byte stream (raw socket bytes, optionally gzip-compressed) and "
            "report events per type, responses and protocol errors with byte offsets."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="capture file (raw bytes or .gz)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        with open(args.file, "rb") as handle:
            raw = handle.read()
        data = load_capture(raw)
    except (OSError, ValueError) as exc:
        print(f"hotline ami-replay: cannot read {args.file}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    summary = summarize(data)
    if args.json:
        print(json.dumps(summary.as_json()))
    else:
        _print_table(summary, len(data))
    return ExitCode.PROBLEMS if summary.errors else ExitCode.OK


def _print_table(summary: ReplaySummary, size: int) -> None:
    console = Console(highlight=False)
    table = Table(title=f"AMI events by type ({size} bytes)")
    table.add_column("Event")
    table.add_column("Count", justify="right")
    for name, count in summary.by_type.most_common():
        table.add_row(name, str(count))
    table.add_section()
    table.add_row("all events", str(summary.events))
    console.print(table)
    console.print(f"responses: {summary.responses}")
    if summary.other:
        console.print(f"other messages (actions): {summary.other}")
    console.print(f"protocol errors: {len(summary.errors)}")
    for error in summary.errors:
        console.print(f"  at byte {error.offset}: {error.message}")
