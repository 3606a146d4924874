"""``GET /calls``: the calls on the floor now — waiting, ringing, talking — with the call id (what
``transfer``, ``assign`` and the recording pause take), queue, agent and caller.

The states come from the floor in one read through its owner task, so a call is never listed
twice or in two states; the caller's number, name and the times come from the call registry.
Supervisors (and above) see every call; an agent sees only their own (ringing or talking with
them, or kept for them by a supervisor). Times are the centre's (``timezone`` of hotline.yaml).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from acd.daemon.call_state import CallState
from acd.daemon.floor_views import calls_view
from acd.http.context import ApiContext
from acd.http.deps import Agent, Ctx, Principal

router = APIRouter(tags=["calls"])
CallStateName = Literal["waiting", "ringing", "talking"]


def _local(at: float | None, tz: ZoneInfo) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, tz).isoformat(timespec="seconds")


def _since(row: dict[str, Any], state: CallState | None) -> float | None:
    """When the call entered its present state (wall clock), as the call's own timeline says."""
    if state is None:
        return None
    if row["state"] == "talking":
        return state.leg_answered_at
    if row["state"] == "ringing":
        return state.ringing_since
    return state.queued_at


def visible(rows: list[dict[str, Any]], who: Principal) -> list[dict[str, Any]]:
    """Role rules: supervisors see every call, an agent only calls that are theirs."""
    if who.at_least("supervisor"):
        return rows
    return [r for r in rows if r["agent"] is not None and r["agent"] == who.agent_id]


async def floor_calls(ctx: ApiContext) -> list[dict[str, Any]]:
    """Every call on the floor with its caller, in the order ``calls_view`` gives."""
    rows = await ctx.acd.read(calls_view)
    tz = ZoneInfo(ctx.settings.timezone)
    for row in rows:
        live = ctx.registry.get(row["call_id"])
        state = live.state if live is not None else None
        row["caller"] = state.facts.number if state is not None else None
        row["caller_name"] = state.name if state is not None else None
        row["vip"] = state.vip if state is not None else False
        row["arrived_at"] = _local(state.facts.arrived_at if state is not None else None, tz)
        row["since"] = _local(_since(row, state), tz)
    return rows


@router.get("/calls")
async def list_calls(
    ctx: Ctx,
    who: Agent,
    state: Annotated[CallStateName | None, Query(description="only calls in this state")] = None,
    queue: Annotated[str | None, Query(max_length=64, description="only this queue")] = None,
) -> list[dict[str, Any]]:
    rows = visible(await floor_calls(ctx), who)
    return [
        r
        for r in rows
        if (state is None or r["state"] == state) and (queue is None or r["queue"] == queue)
    ]
