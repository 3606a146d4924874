"""HTTP endpoints of the recordings feature: search and audited playback.

The daemon's HTTP app (``acd.http``) mounts ``router`` through ``acd.daemon.ivr_port.Features``;
the kernel never imports this package. Roles: supervisor, qa and admin may search and listen;
every playback attempt is written to the audit log with who and why and how it ended: played,
refused (role), or failed (no such recording, file gone, checksum or decryption refused).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi import Path as PathParam

from acd.http.deps import Ctx, Principal, authenticate, recording_role
from acd.settings.settings import Settings
from acd.storage.models import Recording
from recordings.access import RecordingUnavailable, load_verified
from recordings.crypto import parse_key
from recordings.repository import (
    LISTEN_ROLES,
    RecordingQuery,
    add_audit,
    record_access,
    search_recordings,
)

router = APIRouter(tags=["recordings"])
# HTTP status per reason a recording cannot be played
UNAVAILABLE_STATUS = {
    "missing": 410,
    "unreadable": 503,
    "checksum": 409,
    "legacy": 409,
    "undecryptable": 409,
    "no_key": 503,
}
Text = Annotated[str | None, Query(max_length=64)]


def recording_key(settings: Settings) -> bytes | None:
    """The key that decrypts recordings for playback (None: none configured).

    Raises ``RecordingKeyError`` for a configured key that cannot be used."""
    encryption = settings.recording.encryption
    raw = encryption.key.get_secret_value() if encryption.key is not None else None
    return parse_key(raw) if raw else None


@router.get("/recordings")
async def recordings(
    *,
    ctx: Ctx,
    who: Annotated[Principal, Depends(recording_role)],
    number: Text = None,
    agent: Text = None,
    queue: Text = None,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> list[dict[str, Any]]:
    if ctx.sessions is None:
        raise HTTPException(503, "storage is not available")
    query = RecordingQuery(number=number, agent=agent, queue=queue, start=start, end=end)
    async with ctx.sessions() as session:
        hits = await search_recordings(session, query)
    return [h.as_json() for h in hits]


@router.get("/recordings/{recording_id}/audio")
async def recording_audio(
    recording_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    request: Request,
    ctx: Ctx,
    reason: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The WAV; every attempt (refused and failed ones too) is audited with who and why."""
    who = await authenticate(request)
    if ctx.sessions is None:
        raise HTTPException(503, "storage is not available")
    if not reason.strip() and who.role != "agent":
        raise HTTPException(422, "say why you listen: ?reason=...")
    now = datetime.now(UTC)
    async with ctx.sessions() as session:
        rec = await session.get(Recording, recording_id)
        if rec is None:
            _failed(session, who, recording_id, reason, "unknown recording", now=now)
            await session.commit()
            raise HTTPException(404, "unknown recording")
        if who.role not in LISTEN_ROLES:
            record_access(  # audits the refusal
                session,
                who=who.name,
                role=who.role,
                action="recording.play",
                recording_id=recording_id,
                reason=reason or "-",
                now=now,
            )
            await session.commit()
            raise HTTPException(403, f"role {who.role} may not hear recordings")
        try:
            audio = await asyncio.to_thread(
                load_verified,
                Path(rec.path),
                recording_id=rec.id,
                sha256=rec.sha256,
                key=ctx.recording_key,
            )
        except RecordingUnavailable as exc:
            _failed(session, who, recording_id, reason, exc.problem, now=now)
            await session.commit()
            raise HTTPException(UNAVAILABLE_STATUS[exc.problem], str(exc)) from None
        record_access(
            session,
            who=who.name,
            role=who.role,
            action="recording.play",
            recording_id=recording_id,
            reason=reason or "-",
            now=now,
        )
        await session.commit()
    return Response(audio, media_type="audio/wav")


def _failed(
    session: Any, who: Principal, recording_id: str, reason: str, problem: str, *, now: datetime
) -> None:
    add_audit(
        session,
        who=who.name,
        role=who.role,
        action="recording.play_failed",
        target=f"recording:{recording_id}",
        reason=f"{reason or '-'} [{problem}]",
        at=now,
    )
