"""HTTP endpoints of the recordings feature: search and audited playback.

The daemon's HTTP app (``acd.http``) mounts ``router`` through ``acd.daemon.ivr_port.Features``;
the kernel never imports this package. Roles: supervisor, qa and admin may search and listen;
every playback attempt, refused ones included, is written to the audit log with who and why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from acd.http.deps import Ctx, Principal, authenticate, recording_role
from acd.settings.settings import Settings
from acd.storage.models import Recording
from recordings.crypto import RecordingKeyError, parse_key, read_recording
from recordings.repository import RecordingQuery, record_access, search_recordings

router = APIRouter(tags=["recordings"])


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
    number: str | None = None,
    agent: str | None = None,
    queue: str | None = None,
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
    recording_id: str, request: Request, ctx: Ctx, reason: str = ""
) -> Response:
    """The WAV; every attempt (refused ones too) is audited with who and why."""
    who = authenticate(request)
    if ctx.sessions is None:
        raise HTTPException(503, "storage is not available")
    async with ctx.sessions() as session:
        rec = await session.get(Recording, recording_id)
        if rec is None:
            raise HTTPException(404, f"unknown recording {recording_id}")
        if not reason.strip() and who.role != "agent":
            raise HTTPException(422, "say why you listen: ?reason=...")
        allowed = record_access(
            session,
            who=who.name,
            role=who.role,
            action="recording.play",
            recording_id=recording_id,
            reason=reason or "-",
            now=datetime.now(UTC),
        )
        path = Path(rec.path)
        await session.commit()
    if not allowed:
        raise HTTPException(403, f"role {who.role} may not hear recordings")
    try:
        audio = read_recording(path, ctx.recording_key)
    except FileNotFoundError:
        raise HTTPException(410, f"recording file {path} is gone") from None
    except RecordingKeyError as exc:
        raise HTTPException(503, str(exc)) from None
    return Response(audio, media_type="audio/wav")
