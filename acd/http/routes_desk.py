"""The agent desktop: ``/desk`` (a static page), its data ``/desk.json`` and its event stream
``/events/desk``.

An agent signs in at ``/signin`` with their personal key; the page then follows their own agent
only (a supervisor may open ``/desk?agent=ID``). The stream pushes a snapshot whenever the
agent's state changes (the owner task counts every agent change: ``acd.daemon.floor_changes``),
so the screen pop of a call offered to them arrives as the offer is made, before the phone
rings; otherwise it refreshes every ``REFRESH_S`` for what changes without a state change (a
recording pause). The page's buttons call the ordinary API (state changes, disposition,
recording pause, transfer) with the session cookie and the session's anti-forgery header
(``acd.http.auth``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy import select

from acd.daemon.call_state import CallState
from acd.daemon.floor_views import agent_view
from acd.http import desk
from acd.http.context import ApiContext
from acd.http.deps import Agent, Ctx, Principal
from acd.http.routes_session import static_text
from acd.http.wallboard import local_clock
from acd.identity.directory import Directory
from acd.identity.sessions import COOKIE
from acd.storage.models import Call

router = APIRouter(tags=["desk"])
REFRESH_S = 5.0  # refresh without an agent change (recording pause, a pop's recent calls)
MIN_GAP_S = 0.2  # at most five pushes a second, however busy the agent's state
KEEPALIVE_S = 15.0
RECENT_CALLS = 5
TICKING = ("in_state_s", "talk_s", "clock", "at")  # the page counts these on by itself


@dataclass
class DeskMemory:
    """What one open desktop remembers between pushes: the caller's recent calls (read once
    per call) and the call to wrap up."""

    recent: dict[str, list[desk.RecentCall]] = field(default_factory=dict)
    last_call: dict[str, Any] | None = None
    looked_up: bool = False


def desk_agent(ctx: ApiContext, who: Principal, agent: str | None) -> str:
    """Whose desktop: an agent's own; a supervisor's choice (``?agent=``)."""
    if who.at_least("supervisor") and agent is not None:
        if agent not in {a.id for a in ctx.settings.agents}:
            raise HTTPException(404, "unknown agent")
        return agent
    if who.agent_id is None:
        raise HTTPException(403, f"{who.name} is not an agent: open /desk?agent=ID")
    if agent is not None and agent != who.agent_id:
        raise HTTPException(403, f"{who.name} may open only their own desktop")
    return who.agent_id


async def _recent_calls(ctx: ApiContext, state: CallState) -> list[desk.RecentCall]:
    """The caller's last calls before this one, with the dispositions agents recorded."""
    sessions = ctx.reads or ctx.sessions
    if sessions is None or not state.facts.number:
        return []
    query = (
        select(
            Call.id,
            Call.arrived_at,
            Call.queue,
            Call.agent_id,
            Call.outcome,
            Call.disposition_code,
            Call.resolved,
        )
        .where(Call.caller_number == state.facts.number, Call.id != state.call_id)
        .order_by(Call.arrived_at.desc(), Call.id)
        .limit(RECENT_CALLS)
    )
    async with sessions() as session:
        return [desk.RecentCall(*row) for row in await session.execute(query)]


async def _last_answered(ctx: ApiContext, agent_id: str) -> dict[str, Any] | None:
    """The call this agent answered last (a desktop opened during wrap-up)."""
    sessions = ctx.reads or ctx.sessions
    if sessions is None:
        return None
    query = (
        select(Call.id, Call.queue, Call.caller_number, Call.caller_name)
        .where(Call.agent_id == agent_id, Call.answered_at.is_not(None))
        .order_by(Call.arrived_at.desc())
        .limit(1)
    )
    async with sessions() as session:
        row = (await session.execute(query)).first()
    if row is None:
        return None
    return {"call_id": row[0], "queue": row[1], "number": row[2], "name": row[3]}


async def _disposition(ctx: ApiContext, call_id: str) -> str | None:
    sessions = ctx.reads or ctx.sessions
    if sessions is None:
        return None
    async with sessions() as session:
        query = select(Call.disposition_code).where(Call.id == call_id)
        return (await session.execute(query)).scalar_one_or_none()


async def desk_snapshot(
    ctx: ApiContext, agent_id: str, who: Principal, memory: DeskMemory
) -> dict[str, Any]:
    to_wall = ctx.clocks.to_wall
    row = await ctx.acd.read(lambda f, now: agent_view(f, agent_id, now, to_wall))
    if row is None:
        raise HTTPException(404, "unknown agent")
    settings = ctx.settings
    tz = ZoneInfo(settings.timezone)
    engaged = row.pop("call")
    call = None
    transfer = None
    live = ctx.registry.get(engaged["call_id"]) if engaged is not None else None
    if engaged is not None and live is not None:
        state = live.state
        if state.call_id not in memory.recent:
            memory.recent = {state.call_id: await _recent_calls(ctx, state)}
        call = desk.pop(state, engaged, settings, tz, memory.recent[state.call_id])
        transfer = desk.transfer_targets(settings, state.queue, who.role, agent_id)
        if engaged["state"] == "talking":
            memory.last_call = {
                "call_id": state.call_id,
                "queue": state.queue,
                "number": state.facts.number,
                "name": state.name,
            }
    if memory.last_call is None and not memory.looked_up:
        memory.looked_up = True
        memory.last_call = await _last_answered(ctx, agent_id)
    wrap_up = None
    last = memory.last_call
    if last is not None:
        if last.get("disposition") is None and (call is None or call["call_id"] != last["call_id"]):
            last["disposition"] = await _disposition(ctx, last["call_id"])
        still = ctx.registry.get(last["call_id"])  # a transferred caller waits on elsewhere:
        if still is not None:  # the codes are those of the call's queue now, as the API checks
            last["queue"] = still.state.queue
        wrap_up = desk.wrap_up_call(last, settings)
    labels = {r.name: r.label for r in settings.pause_reasons}
    row["name"] = next((a.name for a in settings.agents if a.id == agent_id), agent_id)
    row["since_local"] = desk.local(row["since"], tz)
    row["pause_label"] = labels.get(row["pause_reason"] or "", row["pause_reason"])
    return {
        "at": ctx.clock(),
        **local_clock(ctx.clock(), tz),
        "agent": row,
        "call": call,
        "wrap_up": wrap_up,
        "transfer": transfer,
        "pause_reasons": desk.pause_reasons(settings),
        "viewer": {"name": who.name, "role": who.role},
    }


def _steady_part(snapshot: dict[str, Any]) -> str:
    """The snapshot without the counters the page advances itself: a push is due only when
    this changes."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TICKING}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(snapshot), sort_keys=True, default=str)


AgentParam = Annotated[str | None, Query(max_length=64, description="supervisors: whose desk")]


@router.get("/desk", response_class=HTMLResponse, include_in_schema=False)
async def desk_page() -> HTMLResponse:
    return HTMLResponse(static_text("desk.html"))


@router.get("/desk.json")
async def desk_json(ctx: Ctx, who: Agent, agent: AgentParam = None) -> dict[str, Any]:
    return await desk_snapshot(ctx, desk_agent(ctx, who, agent), who, DeskMemory())


@router.get("/events/desk")
async def desk_events(
    request: Request, ctx: Ctx, who: Agent, agent: AgentParam = None
) -> StreamingResponse:
    agent_id = desk_agent(ctx, who, agent)
    session = request.cookies.get(COOKIE) if request.headers.get("authorization") is None else None
    directory: Directory = request.app.state.directory
    changes = ctx.floor_changes

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        memory = DeskMemory()
        shown: str | None = None
        quiet_since = ctx.clocks.steady()
        seen = changes.version(agent_id)
        while not ctx.closing.is_set():
            if session is not None and await directory.by_session(session) is None:
                yield "event: signed_out\ndata: {}\n\n"
                return  # expired or revoked: the page says so and offers to sign in again
            snap = await desk_snapshot(ctx, agent_id, who, memory)
            steady = _steady_part(snap)
            if steady != shown:
                shown = steady
                quiet_since = ctx.clocks.steady()
                yield f"data: {json.dumps(snap, default=str)}\n\n"
            elif ctx.clocks.steady() - quiet_since > KEEPALIVE_S:
                quiet_since = ctx.clocks.steady()
                yield ": keep-alive\n\n"
            seen = await _next_change(ctx, agent_id, seen)
            await asyncio.sleep(MIN_GAP_S)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


async def _next_change(ctx: ApiContext, agent_id: str, seen: int) -> int:
    """Wait for the agent's next change, ``REFRESH_S``, or the server closing."""
    change = asyncio.ensure_future(ctx.floor_changes.wait(agent_id, seen, REFRESH_S))
    closing = asyncio.ensure_future(ctx.closing.wait())
    try:
        await asyncio.wait({change, closing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in (change, closing):
            waiter.cancel()
        await asyncio.gather(change, closing, return_exceptions=True)
    return ctx.floor_changes.version(agent_id)
