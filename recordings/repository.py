"""Catalogue queries and the access trail: search, legal hold, pauses, audit entries.

Every function works inside the caller's session/transaction; the caller commits. Search is
shared by ``hotline recordings search`` and the HTTP API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import CursorResult, Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from acd.identity.principal import HOLD_ROLES
from acd.storage.models import AuditLog, Call, Recording, RecordingPause
from recordings.pause import PauseRecord

# Who may hear or take a copy of a recording; agents may not (not even their own calls).
LISTEN_ROLES: Final = frozenset({"supervisor", "qa", "admin"})
SEARCH_LIMIT: Final = 500


@dataclass(frozen=True)
class RecordingQuery:
    number: str | None = None  # caller number; matches on the ending ("0101" finds +155501 01)
    order: str | None = None
    agent: str | None = None
    queue: str | None = None
    start: datetime | None = None  # started_at >= start
    end: datetime | None = None  # started_at < end
    include_purged: bool = False
    limit: int = SEARCH_LIMIT


@dataclass(frozen=True)
class RecordingHit:
    recording_id: str
    call_id: str | None
    started_at: datetime
    duration_s: float | None
    agent_id: str | None
    queue: str | None
    caller_number: str | None
    order_number: str | None
    path: str
    encrypted: bool
    legal_hold: bool
    purged_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "recording_id": self.recording_id,
            "call_id": self.call_id,
            "started_at": self.started_at.isoformat(),
            "duration_s": self.duration_s,
            "agent_id": self.agent_id,
            "queue": self.queue,
            "caller_number": self.caller_number,
            "order_number": self.order_number,
            "path": self.path,
            "encrypted": self.encrypted,
            "legal_hold": self.legal_hold,
            "purged_at": None if self.purged_at is None else self.purged_at.isoformat(),
        }


def _search_statement(query: RecordingQuery) -> Select[Recording, Call]:
    stmt = select(Recording, Call).outerjoin(Call, Recording.call_id == Call.id)
    if query.number:
        stmt = stmt.where(Call.caller_number.endswith(query.number, autoescape=True))
    if query.order:
        stmt = stmt.where(Call.order_number == query.order)
    if query.agent:
        stmt = stmt.where(or_(Recording.agent_id == query.agent, Call.agent_id == query.agent))
    if query.queue:
        stmt = stmt.where(Recording.queue == query.queue)
    if query.start is not None:
        stmt = stmt.where(Recording.started_at >= query.start)
    if query.end is not None:
        stmt = stmt.where(Recording.started_at < query.end)
    if not query.include_purged:
        stmt = stmt.where(Recording.purged_at.is_(None))
    return stmt.order_by(Recording.started_at.desc(), Recording.id).limit(query.limit)


async def search_recordings(session: AsyncSession, query: RecordingQuery) -> list[RecordingHit]:
    """Newest first, at most ``query.limit`` rows."""
    rows = (await session.execute(_search_statement(query))).all()
    return [
        RecordingHit(
            recording_id=rec.id,
            call_id=rec.call_id,
            started_at=rec.started_at,
            duration_s=rec.duration_s,
            agent_id=rec.agent_id or (call.agent_id if call else None),
            queue=rec.queue,
            caller_number=call.caller_number if call else None,
            order_number=call.order_number if call else None,
            path=rec.path,
            encrypted=rec.encrypted,
            legal_hold=rec.legal_hold,
            purged_at=rec.purged_at,
        )
        for rec, call in rows
    ]


async def recordings_of_call(session: AsyncSession, call_id: str) -> list[Recording]:
    stmt = select(Recording).where(Recording.call_id == call_id).order_by(Recording.started_at)
    return list((await session.scalars(stmt)).all())


def add_audit(
    session: AsyncSession,
    *,
    who: str,
    role: str,
    action: str,
    target: str | None,
    reason: str | None,
    at: datetime,
) -> None:
    session.add(AuditLog(who=who, role=role, action=action, target=target, reason=reason, at=at))


def record_access(
    session: AsyncSession,
    *,
    who: str,
    role: str,
    action: str,
    recording_id: str,
    reason: str,
    now: datetime,
) -> bool:
    """Audit a play or download (``action`` "recording.play" / "recording.download") and say
    whether the role may have it; a refused attempt is logged as well."""
    allowed = role in LISTEN_ROLES
    add_audit(
        session,
        who=who,
        role=role,
        action=action if allowed else f"{action}_refused",
        target=f"recording:{recording_id}",
        reason=reason,
        at=now,
    )
    return allowed


class HoldRefused(Exception):
    """Not an entitled person, or no reason given: the hold stays as it was (audited)."""


async def set_legal_hold(
    session: AsyncSession,
    call_id: str,
    *,
    on: bool,
    who: str,
    role: str,
    reason: str,
    now: datetime,
) -> int:
    """Put the call's recordings on (or off) legal hold; returns how many rows changed.

    Only a named person with an entitled role (``HOLD_ROLES``) may, and only with a reason: a
    hold protects evidence from retention, lifting it lets the recordings be deleted. A refused
    attempt is audited too; the caller must commit even when ``HoldRefused`` is raised."""
    action = "recording.hold_on" if on else "recording.hold_off"
    why = None
    if not who.strip():
        why = "no person named"
    elif role not in HOLD_ROLES:
        why = f"role {role!r} may not change legal holds"
    elif not reason.strip():
        why = "a reason is required"
    if why is not None:
        add_audit(
            session,
            who=who or "-",
            role=role,
            action=f"{action}_refused",
            target=f"call:{call_id}",
            reason=f"{reason or '-'} [refused: {why}]",
            at=now,
        )
        raise HoldRefused(why)
    result = await session.execute(
        update(Recording).where(Recording.call_id == call_id).values(legal_hold=on)
    )
    count = cast(CursorResult[Any], result).rowcount
    if count:
        add_audit(
            session,
            who=who,
            role=role,
            action=action,
            target=f"call:{call_id}",
            reason=reason,
            at=now,
        )
    return count


def save_pause(session: AsyncSession, record: PauseRecord) -> None:
    session.add(
        RecordingPause(
            call_id=record.call_id,
            channel=record.channel,
            paused_at=record.paused_at,
            resumed_at=record.resumed_at,
            reason=record.reason,
            requested_by=record.requested_by,
            auto_resumed=record.auto_resumed,
        )
    )
