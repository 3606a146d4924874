"""``hotline agents login|logout (--all | --queue Q | AGENT...) [--json]``: many agents at once
through the running daemon's bulk route (``POST /agents/bulk``: one floor input, one storage
batch, one burst of MQTT messages). Supervisor or admin token.

Prints each agent's state afterwards and, for an agent the daemon refused (already logged in,
on a call ...), why. Exit codes: 0 every agent changed, 1 some were refused (or the whole request
was), 2 usage, 3 the daemon could not be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from acd.exitcodes import ExitCode
from acd.http.client import add_api_options, call_api


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "agents", help="log many agents in or out at once (via the running daemon)"
    )
    parser.add_argument("action", choices=("login", "logout"), help="what to do")
    parser.add_argument("agent", nargs="*", help="agent ids (or --all, or --queue)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every agent in agents.yaml")
    which.add_argument("--queue", help="the agents with this queue's skill")
    parser.add_argument("--json", action="store_true", help="print the daemon's answer as JSON")
    add_api_options(parser)
    parser.set_defaults(func=run)


def body(args: argparse.Namespace) -> dict[str, Any] | None:
    """The request body, or None when the selection is not exactly one of the three."""
    chosen = sum((bool(args.all), args.queue is not None, bool(args.agent)))
    if chosen != 1:
        return None
    if args.all:
        return {"action": args.action, "all": True}
    if args.queue is not None:
        return {"action": args.action, "queue": args.queue}
    return {"action": args.action, "agents": list(args.agent)}


def table(rows: list[dict[str, Any]]) -> str:
    """Plain aligned columns: agent, state afterwards, why the daemon refused it (or nothing)."""
    cells = [["agent", "state", "refused"]]
    cells += [[r["agent"], r["state"], r["refused"] or ""] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(3)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    )


def run(args: argparse.Namespace) -> int:
    request = body(args)
    if request is None:
        print(f"hotline agents {args.action}: give --all, --queue Q or agent ids", file=sys.stderr)
        return ExitCode.USAGE
    code, answer = call_api(args, "POST", "/agents/bulk", request)
    if code != ExitCode.OK:
        return code
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        print(table(answer["agents"]))
        done = "logged in" if args.action == "login" else "logged out"
        refused = f", {len(answer['refused'])} refused" if answer["refused"] else ""
        print(f"{answer['changed']} of {answer['requested']} agents {done}{refused}")
    return ExitCode.PROBLEMS if answer["refused"] else ExitCode.OK
