"""``hotline recordings purge|hold|export|search|reencrypt``: retention, legal hold, audited
export, search, and converting format-1 encrypted files.

The database URL comes from ``--db``, else ``$HOTLINE_DATABASE_URL``, else the default file.
``hold`` and ``export`` act as a person: the personal key (``--token`` or ``$HOTLINE_TOKEN``,
``hotline users add``) names them in the audit log and their role decides (hold: admin; export:
supervisor, qa, admin). Exit codes (acd.cli.main): 0 done, 1 problems found (files not
deletable, refused, no such call), 2 bad usage or configuration, 3 database unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from acd.cli.main import EXIT_FOUND_PROBLEMS, EXIT_OK, EXIT_USAGE
from acd.identity.users import user_by_key
from acd.settings.settings import Settings
from recordings.cli_support import load_config, run_in_transaction, say
from recordings.crypto import RecordingKeyError, parse_key
from recordings.reencrypt import reencrypt_legacy
from recordings.repository import (
    HoldRefused,
    RecordingQuery,
    search_recordings,
    set_legal_hold,
)
from recordings.storage_jobs import ExportRefused, export_recording, purge_expired

PROG = "hotline recordings"
TOKEN_ENV = "HOTLINE_TOKEN"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("recordings", help="call recordings: retention, hold, export")
    actions = parser.add_subparsers(dest="recordings_action", metavar="ACTION", required=True)

    purge = actions.add_parser("purge", help="delete recordings past their queue's retention")
    purge.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    purge.add_argument("--who", default="retention-job", help="name in the audit log")
    purge.set_defaults(func=_purge)

    hold = actions.add_parser("hold", help="put a call's recordings on or off legal hold")
    hold.add_argument("call_id", metavar="CALL")
    state = hold.add_mutually_exclusive_group(required=True)
    state.add_argument("--on", dest="on", action="store_true")
    state.add_argument("--off", dest="on", action="store_false")
    hold.add_argument("--reason", required=True)
    hold.set_defaults(func=_hold)

    export = actions.add_parser(
        "export", help="copy a call's recording out, decrypted (a new 0600 file)"
    )
    export.add_argument("call_id", metavar="CALL")
    export.add_argument("--to", required=True, metavar="FILE", type=Path)
    export.add_argument("--reason", required=True)
    export.set_defaults(func=_export)

    for action in (hold, export):
        action.add_argument("--token", help=f"your personal key (default: ${TOKEN_ENV})")

    reencrypt = actions.add_parser(
        "reencrypt", help="convert format-1 encrypted recordings (checksum checked first)"
    )
    reencrypt.add_argument("--who", default="reencrypt-job", help="name in the audit log")
    reencrypt.set_defaults(func=_reencrypt)

    search = actions.add_parser("search", help="find recordings")
    search.add_argument("--number", help="caller number (matches the ending)")
    search.add_argument("--order", help="order number")
    search.add_argument("--agent")
    search.add_argument("--queue")
    search.add_argument("--from", dest="date_from", type=date.fromisoformat, metavar="DATE")
    search.add_argument("--to", dest="date_to", type=date.fromisoformat, metavar="DATE")
    search.add_argument("--include-purged", action="store_true")
    search.set_defaults(func=_search)

    for action in (purge, hold, export, search, reencrypt):
        action.add_argument("--db", metavar="URL", default=None)
        action.add_argument("--config", metavar="DIR", default="config")
        action.add_argument("--json", action="store_true", help="machine-readable output")


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    print(json.dumps(payload, sort_keys=True) if args.json else text)


def _retention(settings: Settings) -> Any:
    def days(queue: str | None) -> int:
        try:
            return settings.retention_days(queue) if queue else settings.recording.retention_days
        except KeyError:  # a queue since removed from the config: the global default applies
            return settings.recording.retention_days

    return days


def _purge(args: argparse.Namespace) -> int:
    settings = load_config(PROG, args.config)
    if settings is None:
        return EXIT_USAGE
    held = frozenset(settings.recording.legal_hold)

    async def body(session: AsyncSession) -> int:
        now = datetime.now(UTC)
        result = await purge_expired(
            session, now, _retention(settings), held, dry_run=args.dry_run, who=args.who
        )
        verb = "would purge" if args.dry_run else "purged"
        lines = [f"{verb} {len(result.purged)}, kept on legal hold {len(result.held)}"]
        lines += [f"  problem {rec_id}: {why}" for rec_id, why in result.problems]
        payload = {
            "dry_run": args.dry_run,
            "purged": result.purged,
            "held": result.held,
            "problems": [{"recording_id": r, "error": why} for r, why in result.problems],
        }
        _emit(args, payload, "\n".join(lines))
        return EXIT_FOUND_PROBLEMS if result.problems else EXIT_OK

    return run_in_transaction(PROG, args.db, body)


def _hold(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        say(PROG, f"a legal hold needs an entitled person: --token or ${TOKEN_ENV}")
        return EXIT_USAGE

    async def body(session: AsyncSession) -> int:
        now = datetime.now(UTC)
        who = await user_by_key(session, token)
        if who is None:
            say(PROG, "that key is not an active user's (hotline users list)")
            return EXIT_FOUND_PROBLEMS
        try:
            count = await set_legal_hold(
                session,
                args.call_id,
                on=args.on,
                who=who.id,
                role=who.role,
                reason=args.reason,
                now=now,
            )
        except HoldRefused as exc:
            say(PROG, f"legal hold refused: {exc}")
            return EXIT_FOUND_PROBLEMS
        state = "on" if args.on else "off"
        _emit(
            args,
            {"call_id": args.call_id, "legal_hold": args.on, "recordings": count},
            f"legal hold {state} for {count} recording(s) of call {args.call_id}",
        )
        if count == 0:
            say(PROG, f"no recordings for call {args.call_id}")
            return EXIT_FOUND_PROBLEMS
        return EXIT_OK

    return run_in_transaction(PROG, args.db, body)


def _export(args: argparse.Namespace) -> int:
    settings = load_config(PROG, args.config)
    if settings is None:
        return EXIT_USAGE
    encryption = settings.recording.encryption
    secret = encryption.key.get_secret_value() if encryption.key is not None else None
    raw_key = secret or os.environ.get(encryption.key_env)
    try:
        key = parse_key(raw_key) if raw_key else None
    except RecordingKeyError as exc:
        say(PROG, f"${encryption.key_env}: {exc}")
        return EXIT_USAGE
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        say(PROG, f"an export is made by a person: --token or ${TOKEN_ENV}")
        return EXIT_USAGE

    async def body(session: AsyncSession) -> int:
        now = datetime.now(UTC)
        who = await user_by_key(session, token)
        if who is None:
            say(PROG, "that key is not an active user's (hotline users list)")
            return EXIT_FOUND_PROBLEMS
        try:
            out = await export_recording(
                session,
                args.call_id,
                args.to,
                key=key,
                who=who.id,
                role=who.role,
                reason=args.reason,
                now=now,
            )
        except ExportRefused as exc:
            say(PROG, f"export refused: {exc}")
            return EXIT_FOUND_PROBLEMS
        _emit(args, {"call_id": args.call_id, "file": str(out)}, f"exported to {out}")
        return EXIT_OK

    return run_in_transaction(PROG, args.db, body)


def _reencrypt(args: argparse.Namespace) -> int:
    settings = load_config(PROG, args.config)
    if settings is None:
        return EXIT_USAGE
    encryption = settings.recording.encryption
    secret = encryption.key.get_secret_value() if encryption.key is not None else None
    try:
        key = parse_key(secret or os.environ.get(encryption.key_env))
    except RecordingKeyError as exc:
        say(PROG, f"${encryption.key_env}: {exc}")
        return EXIT_USAGE

    async def body(session: AsyncSession) -> int:
        result = await reencrypt_legacy(session, key, who=args.who, now=datetime.now(UTC))
        lines = [f"converted {len(result.converted)}, already current {result.current}"]
        lines += [f"  problem {path}: {why}" for path, why in result.problems]
        payload = {
            "converted": result.converted,
            "current": result.current,
            "problems": [{"path": p, "error": why} for p, why in result.problems],
        }
        _emit(args, payload, "\n".join(lines))
        return EXIT_FOUND_PROBLEMS if result.problems else EXIT_OK

    return run_in_transaction(PROG, args.db, body)


def _search(args: argparse.Namespace) -> int:
    # Dates are whole UTC days, --to inclusive.
    start = (
        None
        if args.date_from is None
        else datetime.combine(args.date_from, datetime.min.time(), UTC)
    )
    end = (
        None
        if args.date_to is None
        else datetime.combine(args.date_to + timedelta(days=1), datetime.min.time(), UTC)
    )
    query = RecordingQuery(
        number=args.number,
        order=args.order,
        agent=args.agent,
        queue=args.queue,
        start=start,
        end=end,
        include_purged=args.include_purged,
    )

    async def body(session: AsyncSession) -> int:
        hits = await search_recordings(session, query)
        rows = [
            f"{h.started_at:%Y-%m-%d %H:%M} {h.call_id or '-':<20} {h.queue or '-':<12} "
            f"{h.agent_id or '-':<10} {h.caller_number or '-':<16} "
            f"{'' if h.duration_s is None else f'{h.duration_s:.0f}s'}"
            for h in hits
        ]
        _emit(args, {"recordings": [h.as_json() for h in hits]}, "\n".join(rows) or "no match")
        return EXIT_OK

    return run_in_transaction(PROG, args.db, body)
