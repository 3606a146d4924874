"""``hotline calls [--state waiting|ringing|talking] [--queue Q] [--json]``: the calls on the
floor now, from the running daemon (``GET /calls``): call id (what ``hotline transfer`` and
``hotline assign`` take), state, queue, agent, caller, since when (the centre's time), waited
and talk time. A supervisor's key sees every call, an agent's only their own.

``--api URL`` (default: http.host/port of ``--config``), ``--token T`` (default: $HOTLINE_TOKEN).
Exit codes: 0 listed (also when there is no call), 1 refused by the daemon, 2 usage,
3 the daemon is unreachable.
"""

from __future__ import annotations

import argparse
import json
from typing import Any
from urllib.parse import urlencode

from acd.exitcodes import ExitCode
from acd.http.client import add_api_options, call_api

COLUMNS = (
    ("call_id", "call"),
    ("state", "state"),
    ("queue", "queue"),
    ("agent", "agent"),
    ("caller", "caller"),
    ("since", "since"),
    ("waited_s", "waited"),
    ("talk_s", "talk"),
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "calls", help="the calls waiting, ringing and talking now (via the running daemon)"
    )
    parser.add_argument(
        "--state", choices=("waiting", "ringing", "talking"), help="only calls in this state"
    )
    parser.add_argument("--queue", help="only this queue's calls")
    parser.add_argument("--json", action="store_true", help="print the calls as a JSON list")
    add_api_options(parser)
    parser.set_defaults(func=run)


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if key in ("waited_s", "talk_s"):
        return _duration(float(value))
    if key == "since":
        return str(value)[11:19]  # the centre's wall-clock time of day (the date is today's)
    if key == "caller" and row.get("vip"):
        return f"{value} VIP"
    return str(value)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def table(rows: list[dict[str, Any]]) -> str:
    """Plain aligned columns: nothing is cut, whatever the terminal's width or a pipe."""
    cells = [[title for _, title in COLUMNS]]
    cells += [[_cell(key, row) for key, _ in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def run(args: argparse.Namespace) -> int:
    query = {k: v for k, v in (("state", args.state), ("queue", args.queue)) if v}
    path = "/calls" + (f"?{urlencode(query)}" if query else "")
    code, rows = call_api(args, "GET", path)
    if code != ExitCode.OK:
        return code
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif rows:
        print(table(rows))
    else:
        print("no calls" + (f" ({', '.join(query.values())})" if query else ""))
    return ExitCode.OK
