"""Call-backs on the API: the list supervisors watch (``GET /callbacks``).

Call-backs are booked by callers (the overflow ladder's offer, the IVR after hours) and by
agents at wrap-up (``follow_up_due`` of a disposition); the daemon's scheduler dials them when
due (``acd.daemon.callbacks``). This is the read side: what is pending, being dialled, done or
given up, newest due first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from acd.http.deps import Ctx, Supervisor
from acd.storage.models import Callback
from acd.storage.models.records import CALLBACK_STATES

router = APIRouter(tags=["callbacks"])
MAX_ROWS = 1000


@router.get("/callbacks")
async def list_callbacks(
    ctx: Ctx,
    who: Supervisor,
    state: Annotated[
        str | None, Query(max_length=16, description=f"one of {', '.join(CALLBACK_STATES)}")
    ] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    if state is not None and state not in CALLBACK_STATES:
        raise HTTPException(422, f"state must be one of {', '.join(CALLBACK_STATES)}")
    if ctx.sessions is None:
        raise HTTPException(503, "storage is not available")
    query = select(Callback).order_by(Callback.due_at.desc()).limit(MAX_ROWS)
    if state is not None:
        query = query.where(Callback.state == state)
    if queue is not None:
        query = query.where(Callback.queue == queue)
    async with ctx.sessions() as session:
        rows = (await session.execute(query)).scalars().all()
    return [
        {
            "id": r.id,
            "call_id": r.call_id,
            "number": r.number,
            "queue": r.queue,
            "requested_at": r.requested_at.isoformat(),
            "due_at": r.due_at.isoformat() if r.due_at else None,
            "state": r.state,
            "attempts": r.attempts,
        }
        for r in rows
    ]
