"""Pausing and resuming a live call's recording while sensitive data is spoken.

``POST /calls/{call_id}/recording/pause {reason}`` and ``.../resume``: the call's own agent or a
supervisor. 409 when the call has no
recording in progress (not answered, ended, not recorded) or the PBX refused; the recording
resumes on its own after ``recording.max_pause_s`` (``acd.daemon.recording_control``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from acd.daemon.recording_control import RecordingControl, RecordingRefused
from acd.http.context import ApiContext
from acd.http.deps import CallId, Ctx, Principal, require

router = APIRouter()
Agent = Annotated[Principal, Depends(require("agent"))]


class RecordingPauseBody(BaseModel):
    reason: str | None = Field(default=None, max_length=64)


def _control(ctx: ApiContext, call_id: str, who: Principal) -> RecordingControl:
    call = ctx.registry.get(call_id)
    if not who.may_act_on(call.state.agent_id if call is not None else None):
        raise HTTPException(403, f"{who.name} may act only on their own calls")
    control = ctx.recording_control
    if control is None:
        raise HTTPException(409, "calls are not recorded: nothing to pause or resume")
    return control


@router.post("/calls/{call_id}/recording/pause")
async def pause_recording(
    call_id: CallId, ctx: Ctx, who: Agent, body: RecordingPauseBody | None = None
) -> dict[str, Any]:
    control = _control(ctx, call_id, who)
    reason = body.reason if body is not None else None
    try:
        _call, resume_at = await control.pause(call_id=call_id, reason=reason, by=who.name)
    except RecordingRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return {"call_id": call_id, "paused": True, "resume_at": resume_at.isoformat()}


@router.post("/calls/{call_id}/recording/resume")
async def resume_recording(call_id: CallId, ctx: Ctx, who: Agent) -> dict[str, Any]:
    control = _control(ctx, call_id, who)
    try:
        await control.resume(call_id=call_id, by=who.name)
    except RecordingRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return {"call_id": call_id, "paused": False}
