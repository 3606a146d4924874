"""``hotline spy AGENT --mode listen|whisper|barge [--from ENDPOINT]``: ring the supervisor's
phone into the agent's current call. Only the phones of the supervisor's entry in agents.yaml
(``supervisors[].phones``) can be rung; ``--from`` picks one of them (default: the first). Once
connected, DTMF 4/5/6 on the phone switches between listen, whisper and barge (ChanSpy ``d``).

Through the running daemon's HTTP API (``--api``, ``--token`` / $HOTLINE_TOKEN, supervisor role).
Exit codes: 0 ringing, 1 refused (e.g. the agent is not on a call), 2 usage, 3 unreachable.
"""

from __future__ import annotations

import argparse
from typing import Any

from acd.http.client import EXIT_OK, add_api_options, call_api


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "spy", help="listen to, whisper to or barge in on an agent's call (supervisor)"
    )
    parser.add_argument("agent", help="agent id")
    parser.add_argument("--mode", choices=("listen", "whisper", "barge"), default="listen")
    parser.add_argument(
        "--from", dest="endpoint", help="one of your phones (default: the first configured)"
    )
    add_api_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    body = {"agent": args.agent, "mode": args.mode}
    if args.endpoint:
        body["from"] = args.endpoint
    code, session = call_api(args, "POST", "/spy", body)
    if code == EXIT_OK:
        print(
            f"{args.mode}: ringing {session['from']} into agent {args.agent}'s call "
            f"({session['agent_channel']}); DTMF 4 listen, 5 whisper, 6 barge"
        )
    return code
