"""Every option and argument of every ``hotline`` command says what it is for in ``--help``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from acd.cli.main import COMMANDS, build_parser


def _parsers(
    parser: argparse.ArgumentParser, path: str = "hotline"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:  # argparse keeps sub-commands only here
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path}: {'/'.join(action.option_strings) or action.dest}"
        for path, parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not (action.help or "").strip()
    ]
    assert missing == []


def test_the_walk_reaches_every_command_and_each_is_listed_with_help() -> None:
    paths = {path for path, _ in _parsers(build_parser())}
    assert len(paths) > len(COMMANDS) + 10
    for command in ("hotline run", "hotline prompts build", "hotline db seed-demo",
                    "hotline qa sample", "hotline recordings search"):  # fmt: skip
        assert command in paths
    unlisted = [
        f"{path} {name}"
        for path, parser in _parsers(build_parser())
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
        if name not in {c.dest for c in action._choices_actions if (c.help or "").strip()}
    ]
    assert unlisted == []
