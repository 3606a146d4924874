"""``hotline`` entry point: one sub-command per module in ``acd.cli.commands``.

Each command module exposes ``register(subparsers) -> None``; it adds its parser and sets
``func=`` to a callable ``(args) -> int`` returning an ``acd.exitcodes.ExitCode``: 0 success,
1 the command ran and found a problem (e.g. protocol errors in a capture), 2 bad usage or
invalid input/configuration, 3 a needed service was unreachable.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from acd.exitcodes import ExitCode

# Add a command: create acd/cli/commands/<name>.py with register(), then list it here.
COMMANDS: tuple[str, ...] = (
    "check_config",
    "dialplan",
    "simulate",
    "ami_replay",
    "db",
    "sim",
    "run",
    "demo",
    "recordings",
    "qa",
    "report",
    "export",
    "agent",
    "agents",
    "assign",
    "spy",
    "transfer",
    "calls",
    "prompts",
    "users",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline", description="hotline: contact-center engine on the Asterisk PBX"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"acd.cli.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return cast(Callable[[argparse.Namespace], int], func)(args)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
