"""``hotline assign CALL AGENT [--designate]``: a supervisor hands a waiting caller to a named
ready agent, or (``--designate``) keeps the caller — a VIP, say — for that experienced agent
until they are ready; through the running daemon's HTTP API (``--api``, ``--token`` /
$HOTLINE_TOKEN).

Exit codes: 0 offered to the agent, 1 refused (e.g. agent-not-ready, caller-gone), 2 usage,
3 the daemon is unreachable.
"""

from __future__ import annotations

import argparse
from typing import Any

from acd.exitcodes import ExitCode
from acd.http.client import add_api_options, call_api


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "assign", help="offer a waiting call to a named agent (supervisor)"
    )
    parser.add_argument("call", help="call id (see GET /calls/waiting)")
    parser.add_argument("agent", help="agent id")
    parser.add_argument(
        "--designate", action="store_true", help="keep the caller for this agent until ready"
    )
    add_api_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    action = "designate" if args.designate else "assign"
    code, _ = call_api(args, "POST", f"/calls/{args.call}/{action}", {"agent": args.agent})
    if code == ExitCode.OK:
        done = "kept for" if args.designate else "offered to"
        print(f"call {args.call} {done} agent {args.agent}")
    return code
