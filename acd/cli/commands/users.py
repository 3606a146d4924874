"""``hotline users add|list|rotate|revoke``: the people (and service accounts) who sign in.

Each person gets a personal key, shown once when it is made (``add``, ``rotate``) and stored only
as a hash. ``--role agent`` needs ``--agent`` (the agent id they act as); a supervisor links to
their ``agents.yaml`` supervisors entry with ``--supervisor`` (listen-in rings only its phones).
Every change is in the audit log under ``--by``. The database URL comes from ``--db``, else
``$HOTLINE_DATABASE_URL``, else ``database.url`` of ``--config``. Exit codes: 0 done, 1 refused
(no such user, exists already, revoked), 2 bad usage or configuration, 3 database unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from acd.cli.main import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE

PROG = "hotline users"
URL_ENV = "HOTLINE_DATABASE_URL"
ROLES = ("viewer", "agent", "supervisor", "qa", "admin")
USER_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("users", help="people and service accounts: personal keys")
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a user and show their key once")
    add.add_argument("user_id", metavar="USER", help="sign-in name, e.g. li.na")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", help="display name (default: USER)")
    add.add_argument("--agent", help="role agent: the agent id (agents.yaml) they act as")
    add.add_argument("--supervisor", help="agents.yaml supervisors[].id: their phones")
    add.add_argument(
        "--service", action="store_true", help="a service account (a wall screen), not a person"
    )
    add.set_defaults(func=_add)

    listing = actions.add_parser("list", help="every user, revoked ones too")
    listing.set_defaults(func=_list)

    rotate = actions.add_parser("rotate", help="a new key; the old one stops working at once")
    rotate.add_argument("user_id", metavar="USER")
    rotate.set_defaults(func=_rotate)

    revoke = actions.add_parser("revoke", help="the key stops working; the user stays listed")
    revoke.add_argument("user_id", metavar="USER")
    revoke.set_defaults(func=_revoke)

    for action in (add, listing, rotate, revoke):
        action.add_argument("--db", metavar="URL", default=None)
        action.add_argument("--config", metavar="DIR", type=Path, default=Path("config"))
        action.add_argument("--by", default=None, help="who makes the change (audit log)")
        action.add_argument("--json", action="store_true", help="one JSON object")


def _say(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr)


def _run(args: argparse.Namespace, body: Callable[[Any], Awaitable[int]]) -> int:
    """``body(session)`` in one committed transaction; its result is the exit code."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from acd.storage.engine import UnsupportedDatabase, create_engine, normalise_url
    from acd.storage.errors import is_transient
    from acd.storage.migrate import SchemaNotCurrent, ensure_schema

    try:
        url = normalise_url(args.db or os.environ.get(URL_ENV) or _config_url(args))
    except (UnsupportedDatabase, ValueError) as exc:
        _say(str(exc))
        return EXIT_USAGE

    async def main() -> int:
        engine = create_engine(url)
        try:
            await ensure_schema(engine)
            async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
                return await body(session)
        finally:
            await engine.dispose()

    shown = url.render_as_string(hide_password=True)
    try:
        return asyncio.run(main())
    except SchemaNotCurrent as exc:
        _say(str(exc))
        return EXIT_UNAVAILABLE
    except Exception as exc:
        if is_transient(exc):
            _say(f"database unreachable at {shown}: {str(exc).splitlines()[0]}")
            return EXIT_UNAVAILABLE
        raise


def _config_url(args: argparse.Namespace) -> str:
    from acd.storage.engine import DEFAULT_URL

    settings = _settings(args)
    return settings.database.url if settings is not None else DEFAULT_URL


def _settings(args: argparse.Namespace) -> Any:
    from acd.settings.errors import ConfigError
    from acd.settings.loader import load_settings

    if not (args.config / "hotline.yaml").is_file():
        return None
    try:
        return load_settings(args.config, require_secrets=False)
    except ConfigError as exc:
        _say(f"invalid configuration in {args.config}:\n{exc}")
        raise SystemExit(EXIT_USAGE) from None


def _by(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


def _table(users: list[Any], title: str) -> Table:
    table = Table(title=title)
    for column in ("user", "name", "kind", "role", "agent", "supervisor", "key id", "state"):
        table.add_column(column)
    for u in users:
        state = f"revoked {u.revoked_at:%Y-%m-%d}" if u.revoked_at else "active"
        table.add_row(
            u.id, u.name, u.kind, u.role, u.agent_id or "", u.supervisor_id or "", u.key_id, state
        )
    return table


def _show_key(args: argparse.Namespace, user: Any, key: str, verb: str) -> None:
    if args.json:
        print(json.dumps({"user": user.as_json(), "key": key}, sort_keys=True))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(_table([user], f"user {verb}"))
    console.print(f"key (shown once, not stored): {key}", markup=False)


def _check_links(args: argparse.Namespace) -> str | None:
    if not re.match(USER_ID_PATTERN, args.user_id):
        return f"USER expected lower-case letters, digits, '.', '_', '-' (got {args.user_id!r})"
    if args.role == "agent" and not args.agent:
        return "--role agent needs --agent: the agent id they act as"
    if args.agent and args.role != "agent":
        return "--agent is only for --role agent"
    settings = _settings(args)
    if settings is None:
        return None
    if args.agent and args.agent not in {a.id for a in settings.agents}:
        return f"unknown agent {args.agent!r} (agents.yaml)"
    if args.supervisor and settings.supervisor(args.supervisor) is None:
        return f"unknown supervisor {args.supervisor!r} (agents.yaml supervisors)"
    return None


def _add(args: argparse.Namespace) -> int:
    from acd.identity.users import UserError, add_user

    problem = _check_links(args)
    if problem is not None:
        _say(problem)
        return EXIT_USAGE

    async def body(session: Any) -> int:
        try:
            user, issued = await add_user(
                session,
                user_id=args.user_id,
                name=args.name or args.user_id,
                role=args.role,
                kind="service" if args.service else "person",
                agent_id=args.agent,
                supervisor_id=args.supervisor,
                by=_by(args),
                now=datetime.now(UTC),
            )
        except UserError as exc:
            _say(str(exc))
            return EXIT_FOUND_PROBLEMS
        _show_key(args, user, issued.key, "added")
        return EXIT_OK

    return _run(args, body)


def _list(args: argparse.Namespace) -> int:
    from acd.identity.users import list_users

    async def body(session: Any) -> int:
        users = await list_users(session)
        if args.json:
            print(json.dumps({"users": [u.as_json() for u in users]}, sort_keys=True))
        else:
            Console(highlight=False).print(_table(users, f"{len(users)} user(s)"))
        return EXIT_OK

    return _run(args, body)


def _rotate(args: argparse.Namespace) -> int:
    from acd.identity.users import UserError, rotate_key

    async def body(session: Any) -> int:
        try:
            user, issued = await rotate_key(
                session, args.user_id, by=_by(args), now=datetime.now(UTC)
            )
        except UserError as exc:
            _say(str(exc))
            return EXIT_FOUND_PROBLEMS
        _show_key(args, user, issued.key, "key rotated")
        return EXIT_OK

    return _run(args, body)


def _revoke(args: argparse.Namespace) -> int:
    from acd.identity.users import UserError, revoke_user

    async def body(session: Any) -> int:
        try:
            user = await revoke_user(session, args.user_id, by=_by(args), now=datetime.now(UTC))
        except UserError as exc:
            _say(str(exc))
            return EXIT_FOUND_PROBLEMS
        if args.json:
            print(json.dumps({"user": user.as_json()}, sort_keys=True))
        else:
            Console(highlight=False).print(_table([user], "user revoked"))
        return EXIT_OK

    return _run(args, body)
