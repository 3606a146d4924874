"""``hotline db upgrade|current|seed-demo [--db URL]``: bring the schema to head, show where it
is, or add the demo customers and orders (``ivr.demo_data``; idempotent, ``--json``).

The URL comes from ``--db``, else ``$HOTLINE_DATABASE_URL``, else ``database.url`` of the
configuration (``--config``, default ``config/``), else the default SQLite file.
Exit codes (acd.exitcodes): 0 done, 2 unusable URL, 3 database unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigError
from acd.storage.engine import (
    DEFAULT_URL,
    UnsupportedDatabase,
    create_engine,
    normalise_url,
)
from acd.storage.errors import is_transient
from acd.storage.migrate import current_revisions, head_revisions, upgrade

URL_ENV = "HOTLINE_DATABASE_URL"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database schema migrations, demo data")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    for name, func, text in (
        ("upgrade", _upgrade, "migrate the database schema to the latest revision"),
        ("current", _current, "show the database's schema revision and the latest one"),
        ("seed-demo", _seed_demo, "add demo customers (a VIP) and orders to try the IVR with"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        if name == "seed-demo":
            action.add_argument(
                "--vip",
                metavar="NUMBER",
                action="append",
                default=[],
                help="also make this caller number (your test phone) a VIP demo customer",
            )
            action.add_argument("--json", action="store_true", help="print one JSON object")
        action.add_argument(
            "--db",
            metavar="URL",
            default=None,
            help=f"database URL (default: ${URL_ENV}, then the config's database.url)",
        )
        action.add_argument("--config", type=Path, default=Path("config"), help="config dir")
        action.set_defaults(func=func)


def _url(args: argparse.Namespace) -> URL:
    explicit = args.db or os.environ.get(URL_ENV)
    if explicit:
        return normalise_url(explicit)
    config: Path = args.config
    if (config / "hotline.yaml").is_file():
        from acd.settings.loader import load_settings

        return normalise_url(load_settings(config, require_secrets=False).database.url)
    return normalise_url(DEFAULT_URL)


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _unreachable(url: URL, error: BaseException) -> int:
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    print(f"hotline db: database unreachable at {_shown(url)}: {reason}", file=sys.stderr)
    return ExitCode.UNAVAILABLE


def _run(args: argparse.Namespace, body: Any, *, create_file: bool) -> int:
    try:
        url = _url(args)
    except (UnsupportedDatabase, ValueError, ConfigError) as exc:
        print(f"hotline db: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    path = _sqlite_file(url)
    if path is not None:
        if create_file:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            # Opening would silently create an empty file; report it as missing instead.
            return _unreachable(url, FileNotFoundError(f"no database file {path}"))

    async def main() -> None:
        engine = create_engine(url)
        try:
            await body(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(main())
    except Exception as exc:
        if is_transient(exc):
            return _unreachable(url, exc)
        raise
    return ExitCode.OK


def _upgrade(args: argparse.Namespace) -> int:
    async def body(engine: AsyncEngine) -> None:
        before = await current_revisions(engine)
        await upgrade(engine)
        after = await current_revisions(engine)
        if before == after:
            print(f"database already at {_revs(after)}")
        else:
            print(f"upgraded database from {_revs(before)} to {_revs(after)}")

    return _run(args, body, create_file=True)


def _current(args: argparse.Namespace) -> int:
    async def body(engine: AsyncEngine) -> None:
        current = await current_revisions(engine)
        heads = head_revisions()
        state = "up to date" if set(current) == set(heads) else "needs `hotline db upgrade`"
        print(f"current: {_revs(current)}  head: {_revs(heads)}  ({state})")

    return _run(args, body, create_file=False)


def _seed_demo(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from acd.storage.migrate import ensure_schema
    from ivr.demo_data import ORDERS, demo_customers, seed_demo

    async def body(engine: AsyncEngine) -> None:
        await ensure_schema(engine)  # SQLite: brought to head; PostgreSQL: must be upgraded
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            seeded = await seed_demo(
                session,
                now=datetime.now(UTC),
                customers=demo_customers(args.vip),
                orders=ORDERS,
            )
        if args.json:
            print(json.dumps({"seeded": [s.as_json() for s in seeded]}, ensure_ascii=False))
        else:
            _print_seeded(seeded)

    return _run(args, body, create_file=True)


def _print_seeded(seeded: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    customers = Table(title="demo customers")
    for column in ("number", "name", "VIP", ""):
        customers.add_column(column)
    orders = Table(title="demo orders")
    for column in ("order", "customer", "status", "courier", ""):
        orders.add_column(column)
    for s in seeded:
        if s.kind == "customer":
            customers.add_row(s.key, s.row["name"], "yes" if s.row["vip"] else "", s.result)
        else:
            row = s.row
            orders.add_row(s.key, row["customer_number"], row["status"], row["courier"] or "",
                           s.result)  # fmt: skip
    console.print(customers)
    console.print(orders)
    added = sum(1 for s in seeded if s.result == "added")
    console.print(
        f"{added} added, {len(seeded) - added} already there. Try it: call the hotline from "
        "13800138000 (a VIP: served first), press 1, then 1, and key 20261123 then #."
    )


def _revs(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "none"
