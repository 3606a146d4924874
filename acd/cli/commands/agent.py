"""``hotline agent login|logout|pause|unpause|wrapup-end AGENT [--reason R] [--force]`` and
``hotline agent list``: agent state control through the running daemon's HTTP API.

``--api URL`` (default: http.host/port of ``--config``), ``--token T`` (default: $HOTLINE_TOKEN).
Exit codes: 0 done, 1 refused by the daemon (its reason is printed), 2 usage, 3 unreachable.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from acd.exitcodes import ExitCode
from acd.http.client import add_api_options, call_api

ACTIONS = ("login", "logout", "pause", "unpause", "wrapup-end")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "agent", help="log an agent in/out, pause/unpause (via the running daemon)"
    )
    parser.add_argument(
        "action", choices=(*ACTIONS, "list"), help="what to do (list: every agent's state)"
    )
    parser.add_argument("agent", nargs="?", help="agent id (not for list)")
    parser.add_argument("--reason", help="pause reason (e.g. lunch, training)")
    parser.add_argument("--force", action="store_true", help="supervisor: force the change")
    add_api_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        code, agents = call_api(args, "GET", "/agents")
        if code == ExitCode.OK:
            print(f"{'agent':<8} {'state':<15} {'in state':>9}  pause reason")
            for a in agents:
                reason = a["pause_reason"] or ""
                # None: not seen changing since the daemon started (how long is unknown)
                held = "-" if a["in_state_s"] is None else f"{a['in_state_s']:.0f}s"
                print(f"{a['agent']:<8} {a['state']:<15} {held:>9}  {reason}")
        return code
    if not args.agent:
        print(f"hotline agent {args.action}: which agent?", file=sys.stderr)
        return ExitCode.USAGE
    if args.reason and args.action != "pause":
        print("hotline agent: --reason goes with pause", file=sys.stderr)
        return ExitCode.USAGE
    path = f"/agents/{args.agent}/{args.action}" + ("?force=true" if args.force else "")
    body = {"reason": args.reason} if args.action == "pause" else None
    code, row = call_api(args, "POST", path, body)
    if code == ExitCode.OK:
        reason = f" ({row['pause_reason']})" if row.get("pause_reason") else ""
        print(f"agent {row['agent']}: {row['state']}{reason}")
    return code
