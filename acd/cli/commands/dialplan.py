"""``hotline dialplan render``: write the Asterisk files for the current config into a directory.

Rendering needs no secrets (they are ``${...}`` placeholders in the output), so unset ``*_env``
variables are not an error here; ``hotline check-config`` is where they are required.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_all


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dialplan", help="render the Asterisk dialplan and config files from config/"
    )
    actions = parser.add_subparsers(dest="dialplan_action", metavar="ACTION")
    render = actions.add_parser(
        "render",
        help="write extensions.conf, queues.conf, pjsip.conf, manager.conf, musiconhold.conf",
    )
    render.add_argument("--config", metavar="DIR", default="config", help="default: config")
    render.add_argument("--out", metavar="DIR", default="dialplan", help="default: dialplan")
    render.set_defaults(func=run_render)


def run_render(args: argparse.Namespace) -> int:
    console = Console(highlight=False, soft_wrap=True)
    try:
        settings = load_settings(Path(args.config), require_secrets=False)
    except ConfigError as exc:
        for issue in exc.issues:
            console.print(str(issue), markup=False)
        return ExitCode.USAGE
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render_all(settings).items():
        path = out / name
        # newline="\n": byte-identical output on every platform, so the stale check is exact
        path.write_text(text, encoding="utf-8", newline="\n")
        console.print(f"wrote {path}", markup=False)
    return ExitCode.OK
