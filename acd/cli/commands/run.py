"""``hotline run``: the daemon against a real Asterisk (AMI + FastAGI), as configured."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from acd import logging as hlog
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings

EXIT_OK, EXIT_CONFIG, EXIT_UNAVAILABLE = 0, 2, 3


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="run the daemon (FastAGI server, AMI client, ACD, MQTT, storage)"
    )
    parser.add_argument("--config", type=Path, default=Path("config"), help="config directory")
    parser.add_argument("--db", help="database URL (overrides database.url)")
    parser.add_argument("--no-mqtt", action="store_true", help="do not publish MQTT events")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"hotline: invalid configuration in {args.config}:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    log_settings = settings.system.logging
    hlog.configure(log_settings.format, log_settings.level)
    secret = settings.system.ami.secret
    assert secret is not None  # load_settings requires it
    try:
        asyncio.run(_serve(settings, secret.get_secret_value(), args))
    except OSError as exc:
        print(f"hotline: cannot start: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    return EXIT_OK


async def _serve(settings: Any, secret: str, args: argparse.Namespace) -> None:
    from acd.app.daemon import Daemon, RunOptions
    from acd.cli.features import hotline_features

    daemon = Daemon(
        settings,
        RunOptions(
            ami_secret=secret,
            db_url=args.db,
            mqtt=not args.no_mqtt,
            http_port=settings.http.port,
        ),
        hotline_features(settings),
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.stop)
    await daemon.run()
