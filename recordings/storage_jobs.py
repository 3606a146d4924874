"""Retention purge and export: the file-touching jobs, each step audit-logged.

A file that cannot be deleted is reported and its row left unpurged (the next run retries);
a file already gone is fine (a previous run deleted it, then its commit failed), so the job is
idempotent. Neither job raises for a bad file: problems come back in the result.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from acd.storage.models import Recording
from recordings.access import RecordingUnavailable, load_verified
from recordings.catalogue import dual_channel_paths
from recordings.repository import LISTEN_ROLES, add_audit, recordings_of_call
from recordings.retention import StoredRecording, expires_at, plan_purge


@dataclass
class PurgeResult:
    purged: list[str] = field(default_factory=list)  # recording ids
    held: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (recording id, why)


async def purge_expired(
    session: AsyncSession,
    now: datetime,
    retention_days: Callable[[str | None], int],
    held_call_ids: frozenset[str],
    *,
    dry_run: bool,
    who: str,
) -> PurgeResult:
    stmt = select(Recording).where(Recording.purged_at.is_(None)).order_by(Recording.started_at)
    rows = [
        StoredRecording(r.id, r.call_id, r.queue, r.started_at, r.path, r.legal_hold)
        for r in (await session.scalars(stmt)).all()
    ]
    plan = plan_purge(rows, now, retention_days, held_call_ids)
    result = PurgeResult(held=[r.recording_id for r in plan.held])
    for rec in plan.purge:
        if dry_run:
            result.purged.append(rec.recording_id)
            continue
        problem = await asyncio.to_thread(_delete_files, Path(rec.path))
        if problem is not None:
            result.problems.append((rec.recording_id, problem))
            continue
        await session.execute(
            update(Recording).where(Recording.id == rec.recording_id).values(purged_at=now)
        )
        days = (expires_at(rec, retention_days) - rec.started_at).days
        add_audit(
            session,
            who=who,
            role="system",
            action="recording.purge",
            target=f"recording:{rec.recording_id}",
            reason=f"retention {days} days ({rec.queue or 'no queue'})",
            at=now,
        )
        result.purged.append(rec.recording_id)
    return result


def _delete_files(path: Path) -> str | None:
    # the leg files too (dual channel): catalogued with the recording, deleted with it
    for file in (path, *dual_channel_paths(path)):
        try:
            file.unlink(missing_ok=True)
        except OSError as exc:
            return f"cannot delete {file}: {exc.strerror or exc}"
    return None


def _write(destination: Path, audio: bytes) -> None:
    """A new file readable by its owner only; an existing file is never overwritten."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(audio)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        destination.unlink(missing_ok=True)
        raise


class ExportRefused(Exception):
    """Export not possible: not entitled, no such recording, purged, unreadable, wrong key."""


async def export_recording(
    session: AsyncSession,
    call_id: str,
    destination: Path,
    *,
    key: bytes | None,
    who: str,
    role: str,
    reason: str,
    now: datetime,
) -> Path:
    """Write the call's recording, decrypted, to ``destination``; audit-logged either way.

    A refusal is audit-logged too (someone tried to take a recording they may not have); the
    caller must commit even when ExportRefused is raised.
    """
    target = f"call:{call_id}"

    def refuse(why: str) -> ExportRefused:
        add_audit(
            session,
            who=who,
            role=role,
            action="recording.export_refused",
            target=target,
            reason=f"{reason} [refused: {why}]",
            at=now,
        )
        return ExportRefused(why)

    if role not in LISTEN_ROLES:
        raise refuse(f"role {role!r} may not export recordings")
    if await asyncio.to_thread(os.path.lexists, destination):
        raise refuse(f"{destination} exists: an export never overwrites a file")
    live = [r for r in await recordings_of_call(session, call_id) if r.purged_at is None]
    if not live:
        raise refuse("no recording (never recorded, or purged by retention)")
    recording = live[-1]
    try:
        audio = await asyncio.to_thread(
            load_verified,
            Path(recording.path),
            recording_id=recording.id,
            sha256=recording.sha256,
            key=key,
        )
    except RecordingUnavailable as exc:
        raise refuse(f"{exc} [{exc.problem}]") from exc
    try:
        await asyncio.to_thread(_write, destination, audio)
    except FileExistsError as exc:
        raise refuse(f"{destination} exists: an export never overwrites a file") from exc
    except OSError as exc:
        raise refuse(f"cannot write {destination}: {exc.strerror or exc}") from exc
    add_audit(
        session,
        who=who,
        role=role,
        action="recording.export",
        target=f"recording:{recording.id}",
        reason=reason,
        at=now,
    )
    return destination
