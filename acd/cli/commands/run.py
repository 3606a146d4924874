"""``hotline run``: the daemon against a real Asterisk (AMI + FastAGI), as configured.

Start-up faults end the command with one line on stderr naming the cause, never a traceback,
and the README's exit code: 2 when the configuration (or ``--db``) must change, 3 when a service
or port of this machine is not available. Every check (``acd.cli.preflight``) runs before
anything connects: MQTT, AMI and database writes only start once they all passed. SIGTERM or
Ctrl-C at any point stops cleanly (exit 0), also while Asterisk was never reached.

With PostgreSQL several ``hotline run`` may share the database: the one holding the leadership
(``acd.daemon.leadership``) is the active daemon, the others wait as standbys and take over when
it dies; ``--standby`` listens on ``fastagi.standby_host``/``standby_port``, the address the
rendered dialplan tries second. With SQLite one daemon owns the database file: a second one is
refused (exit 3).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

from acd.cli import preflight
from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.settings import Settings

PROG = "hotline run"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="run the daemon (FastAGI server, AMI client, ACD, MQTT, storage)",
        description="Run the daemon against Asterisk as configured. Exit codes: 0 stopped "
        "(SIGTERM/Ctrl-C), 2 configuration fault, 3 a port or the database is unavailable.",
    )
    parser.add_argument("--config", type=Path, default=Path("config"), help="config directory")
    parser.add_argument("--db", help="database URL (overrides database.url of hotline.yaml)")
    parser.add_argument("--no-mqtt", action="store_true", help="do not publish MQTT events")
    parser.add_argument(
        "--standby",
        action="store_true",
        help="run on the standby host: listen on fastagi.standby_host/standby_port (needs"
        " PostgreSQL); waits while another daemon is active and takes over when it dies",
    )
    parser.set_defaults(func=run)


def say(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr, flush=True)


def _first_of(items: list[Any], config: Path) -> str:
    more = len(items) - 1
    tail = f" (and {more} more: `hotline check-config --config {config}` lists them)"
    return str(items[0]) + (tail if more else "")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    node: Any = None

    def on_signal() -> None:
        stopping.set()
        if node is not None:
            node.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        say(f"invalid configuration: {_first_of(list(exc.issues), args.config)}")
        return ExitCode.USAGE
    faults = preflight.config_faults(settings, db_url=args.db, standby=args.standby)
    if faults:
        say(_first_of(faults, args.config))
        return faults[0].code
    checks = preflight.service_faults(settings, db_url=args.db, standby=args.standby)
    faults = await _unless_stopped(checks, stopping)
    if stopping.is_set():
        return _stopped_before_start()
    if faults:
        say(str(faults[0]))
        return faults[0].code
    node = _build(settings, args)
    if stopping.is_set():
        return _stopped_before_start()
    try:
        await node.run()
    except BaseException as exc:  # classified below; anything unknown is re-raised as it was
        known = _classify(exc)
        if known is None:
            raise
        code, text = known
        say(text)
        return code
    return ExitCode.OK


async def _unless_stopped(
    checks: Coroutine[Any, Any, list[preflight.Fault]], stopping: asyncio.Event
) -> list[preflight.Fault]:
    """The checks' result, or [] once a signal asked to stop (the checks are then cancelled)."""
    task = asyncio.create_task(checks)
    stop = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, stop):
            pending.cancel()
        await asyncio.gather(task, stop, return_exceptions=True)
    return task.result() if not task.cancelled() and not stopping.is_set() else []


def _stopped_before_start() -> int:
    say("stopped before start-up finished")
    return ExitCode.OK


def _build(settings: Settings, args: argparse.Namespace) -> Any:
    """The node: a daemon for each term this process leads (``acd.app.node``)."""
    from acd import logging as hlog
    from acd.app.daemon import Daemon, RunOptions
    from acd.app.node import Node
    from acd.cli.features import hotline_features
    from acd.daemon.leadership import Leadership

    log_settings = settings.system.logging
    hlog.configure(log_settings.format, log_settings.level)
    secret = settings.system.ami.secret
    assert secret is not None  # load_settings requires it
    listen = settings.fastagi.standby_address if args.standby else None
    options = RunOptions(
        ami_secret=secret.get_secret_value(),
        db_url=args.db,
        mqtt=not args.no_mqtt,
        http_port=settings.http.port,
        agi_host=listen[0] if listen else None,
        agi_port=listen[1] if listen else None,
        freeze_gc=True,  # one daemon per process: start-up objects out of full collections
        trim_heap=True,  # and freed heap pages given back once a minute
    )
    features = hotline_features(settings)

    def daemon(leadership: Leadership) -> Daemon:
        return Daemon(settings, options, features, leadership=leadership)

    return Node(daemon, _leadership(settings, args.db))


def _leadership(settings: Settings, db: str | None) -> Any:
    """A PostgreSQL advisory lock, or the SQLite file's lock (``acd.daemon.leadership``)."""
    from acd.daemon.leadership import FileLeadership, PgLeadership
    from acd.storage.engine import normalise_url

    url = normalise_url(db or settings.database.url)
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PgLeadership(dsn, settings.system.leadership)
    database = Path(str(url.database or "hotline.db"))
    return FileLeadership(database.with_name(database.name + ".lock"))


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def _known(exc: BaseException) -> tuple[ExitCode, str] | None:
    """Faults the checks can only predict: a port taken or the database gone in between."""
    from acd.daemon.leadership import AnotherDaemon
    from acd.storage.errors import is_transient
    from acd.storage.migrate import SchemaNotCurrent

    if isinstance(exc, SchemaNotCurrent):
        return ExitCode.USAGE, str(exc)
    if isinstance(exc, AnotherDaemon):
        return ExitCode.UNAVAILABLE, f"cannot start: {exc}"
    if isinstance(exc, OSError):
        return ExitCode.UNAVAILABLE, f"cannot start: {exc}"
    if isinstance(exc, Exception) and is_transient(exc):
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return ExitCode.UNAVAILABLE, f"database unavailable: {reason}"
    return None


def _classify(exc: BaseException) -> tuple[ExitCode, str] | None:
    """The exit code and line for a start-up fault; None when any part of it is unknown."""
    found = [_known(leaf) for leaf in _leaves(exc)]
    if not found or any(f is None for f in found):
        return None
    return found[0]
