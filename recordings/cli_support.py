"""Shared shell of the ``hotline recordings`` and ``hotline qa`` commands: database URL,
one transaction per command, config loading, and the exit codes of ``acd.exitcodes``."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from acd.storage.engine import DEFAULT_URL, UnsupportedDatabase, create_engine, normalise_url
from acd.storage.errors import is_transient
from acd.storage.migrate import SchemaNotCurrent, ensure_schema

URL_ENV = "HOTLINE_DATABASE_URL"

SessionBody = Callable[[AsyncSession], Awaitable[int]]


def say(prog: str, text: str) -> None:
    print(f"{prog}: {text}", file=sys.stderr)


def load_config(prog: str, config_dir: str) -> Settings | None:
    """Settings, or None after printing every problem (the caller exits 2)."""
    try:
        return load_settings(Path(config_dir), require_secrets=False)
    except ConfigError as exc:
        say(prog, f"invalid configuration in {config_dir}:")
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return None


def run_in_transaction(prog: str, db: str | None, body: SessionBody) -> int:
    """Run ``body`` in one committed transaction; its return value is the exit code.

    A SQLite file that does not exist is reported as unreachable (opening it would create an
    empty database and every query would just find nothing).
    """
    try:
        url = normalise_url(db or os.environ.get(URL_ENV) or DEFAULT_URL)
    except (UnsupportedDatabase, ValueError) as exc:
        say(prog, str(exc))
        return ExitCode.USAGE
    shown = url.render_as_string(hide_password=True)
    in_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if in_file and not Path(str(url.database)).exists():
        say(prog, f"database unreachable at {shown}: no database file")
        return ExitCode.UNAVAILABLE

    async def main() -> int:
        engine = create_engine(url)
        try:
            await ensure_schema(engine)
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                return await body(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except SchemaNotCurrent as exc:
        say(prog, str(exc))
        return ExitCode.UNAVAILABLE
    except Exception as exc:
        if is_transient(exc):
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            say(prog, f"database unreachable at {shown}: {reason}")
            return ExitCode.UNAVAILABLE
        raise
