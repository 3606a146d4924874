"""``hotline transfer CALL (--queue Q | --agent A) --reason R``: move a caller who is talking
to an agent to another queue or to a named agent, through the running daemon's HTTP API
(``--api``, ``--token`` / $HOTLINE_TOKEN). Agent tokens are held to the call's queue's
``transfers`` rules in queues.yaml; supervisors may transfer anywhere.

Exit codes: 0 transferring, 1 refused (not on a call, not allowed, unknown target), 2 usage,
3 the daemon is unreachable.
"""

from __future__ import annotations

import argparse
from typing import Any

from acd.exitcodes import ExitCode
from acd.http.client import add_api_options, call_api


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "transfer", help="transfer a call in conversation to a queue or an agent"
    )
    parser.add_argument("call", help="call id")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--queue", help="target queue")
    target.add_argument("--agent", help="target agent id")
    parser.add_argument("--reason", help="why (required unless the queue's rules say not)")
    add_api_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    body: dict[str, str] = {"queue": args.queue} if args.queue else {"agent": args.agent}
    if args.reason:
        body["reason"] = args.reason
    code, _ = call_api(args, "POST", f"/calls/{args.call}/transfer", body)
    if code == ExitCode.OK:
        where = f"queue {args.queue}" if args.queue else f"agent {args.agent}"
        print(f"call {args.call} transferring to {where}")
    return code
