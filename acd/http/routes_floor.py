"""Floor control: agents' states, queues, waiting callers, supervisor assignment, dispositions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import select

from acd.daemon.floor_views import agent_view, agents_view, queues_view, waiting_view
from acd.engine.agent import InvalidTransition
from acd.engine.floor_inputs import AgentAction
from acd.engine.routing import AssignmentError
from acd.http.context import ApiContext
from acd.http.deps import Agent, AgentId, CallId, Ctx, Supervisor
from acd.storage.commands import AppendAudit, InsertCallback, UpsertCall
from acd.storage.models import Call

router = APIRouter()

ACTIONS = {a.value: a for a in AgentAction}


class PauseBody(BaseModel):
    reason: str | None = Field(default=None, max_length=64)


class AssignBody(BaseModel):
    agent: str = Field(min_length=1, max_length=64)


class DispositionBody(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    resolved: bool | None = None
    follow_up_due: datetime | None = None
    notes: str | None = Field(default=None, max_length=4000)


def known_agent(ctx: ApiContext, agent_id: str) -> None:
    if agent_id not in {a.id for a in ctx.settings.agents}:
        raise HTTPException(404, "unknown agent")


async def agents(ctx: ApiContext) -> list[dict[str, Any]]:
    to_wall = ctx.clocks.to_wall  # the floor runs on the steady clock
    return await ctx.acd.read(lambda f, now: agents_view(f, now, to_wall))


async def agent_row(ctx: ApiContext, agent_id: str) -> dict[str, Any]:
    """One agent's row: O(calls engaged), not the floor-wide view (a login per agent of a
    1,000-agent floor built 1,000 views of 1,000 rows)."""
    to_wall = ctx.clocks.to_wall
    row = await ctx.acd.read(lambda f, now: agent_view(f, agent_id, now, to_wall))
    if row is None:
        raise HTTPException(404, "unknown agent")
    return row


@router.get("/agents")
async def list_agents(ctx: Ctx, who: Agent) -> list[dict[str, Any]]:
    return await agents(ctx)


@router.post("/agents/{agent_id}/{action}")
async def agent_action(
    agent_id: AgentId,
    action: Annotated[str, Path(max_length=32)],
    *,
    ctx: Ctx,
    who: Agent,
    body: PauseBody | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """login | logout | pause {reason} | unpause | wrapup-end; ``?force=true`` (supervisor)."""
    if action not in ACTIONS:
        raise HTTPException(404, f"no such agent action (one of {', '.join(ACTIONS)})")
    known_agent(ctx, agent_id)
    if not who.may_act_on(agent_id):
        raise HTTPException(403, f"{who.name} may act only on their own agent")
    if force and not who.at_least("supervisor"):
        raise HTTPException(403, "only supervisors may force a state change")
    reason = body.reason if body is not None else None
    if reason is not None and ACTIONS[action] is AgentAction.PAUSE:
        known = ctx.settings.pause_reason(reason)
        if known is None:
            names = ", ".join(r.name for r in ctx.settings.pause_reasons)
            raise HTTPException(422, f"not a pause reason (one of {names})")
        reason = known
    try:
        await ctx.acd.agent_input(agent_id, ACTIONS[action], reason, forced=force)
    except InvalidTransition as exc:
        raise HTTPException(409, str(exc)) from None
    return await agent_row(ctx, agent_id)


@router.get("/queues")
async def list_queues(ctx: Ctx, who: Agent) -> dict[str, dict[str, Any]]:
    return await ctx.acd.read(queues_view)


@router.get("/calls/waiting")
async def calls_waiting(ctx: Ctx, who: Agent) -> list[dict[str, Any]]:
    return await ctx.acd.read(waiting_view)


@router.post("/calls/{call_id}/assign")
async def assign_call(
    call_id: CallId, body: AssignBody, ctx: Ctx, who: Supervisor
) -> dict[str, str]:
    known_agent(ctx, body.agent)
    try:
        await ctx.acd.assign(call_id, body.agent)
    except AssignmentError as exc:
        raise HTTPException(409, {"reason": exc.reason, "message": str(exc)}) from None
    return {"call_id": call_id, "agent": body.agent, "status": "offered"}


@router.post("/calls/{call_id}/designate")
async def designate_call(
    call_id: CallId, body: AssignBody, ctx: Ctx, who: Supervisor
) -> dict[str, str]:
    """Keep a waiting caller (a VIP) for one experienced agent: offered to that agent, and only
    to that agent, as soon as they are ready."""
    known_agent(ctx, body.agent)
    try:
        await ctx.acd.designate(call_id, body.agent)
    except AssignmentError as exc:
        raise HTTPException(409, {"reason": exc.reason, "message": str(exc)}) from None
    return {"call_id": call_id, "agent": body.agent, "status": "designated"}


async def call_queue_and_number(
    ctx: ApiContext, call_id: str
) -> tuple[str | None, str | None, frozenset[str]]:
    """The call's queue, caller number and every agent who talked to the caller (a
    transferred call had several); KeyError when the daemon never saw the call."""
    call = ctx.registry.get(call_id)
    if call is not None:
        live = call.state
        talked = {r.agent_id for r in live.rings if r.result == "ANSWER"}
        return live.queue, live.facts.number, frozenset(talked)
    closed = next((c for c in reversed(ctx.registry.recent) if c.call_id == call_id), None)
    if closed is not None:
        return closed.queue, closed.number, frozenset(closed.talked)
    if ctx.sessions is not None:
        async with ctx.sessions() as session:
            query = select(Call.queue, Call.caller_number, Call.agent_id, Call.transfers).where(
                Call.id == call_id
            )
            row = (await session.execute(query)).first()
        if row is not None:
            legs = [t.get("from_agent") for t in row[3] or () if isinstance(t, dict)]
            return row[0], row[1], frozenset(a for a in (row[2], *legs) if a)
    raise KeyError(call_id)


@router.post("/calls/{call_id}/disposition")
async def disposition(
    call_id: CallId, body: DispositionBody, ctx: Ctx, who: Agent
) -> dict[str, Any]:
    """Wrap-up result of a call; codes are the call's queue's ``dispositions``. An agent
    records it only for a call they answered."""
    try:
        queue, number, agents = await call_queue_and_number(ctx, call_id)
    except KeyError:
        raise HTTPException(404, "unknown call") from None
    if not who.at_least("supervisor") and who.agent_id not in agents:
        raise HTTPException(403, f"{who.name} may record dispositions only of their own calls")
    due_at = body.follow_up_due
    if due_at is not None and due_at.tzinfo is None:
        raise HTTPException(422, "follow_up_due needs a time zone (e.g. 2026-11-24T10:00:00+08:00)")
    allowed = ctx.settings.queue(queue).dispositions if queue else ("resolved",)
    if body.code not in allowed:
        raise HTTPException(
            422, f"not a disposition of queue {queue}: expected one of {', '.join(allowed)}"
        )
    if ctx.write is None:
        raise HTTPException(503, "storage is not available")
    now = ctx.clock()
    values = {"disposition_code": body.code, "resolved": body.resolved, "notes": body.notes}
    key = f"{call_id}:disposition:{now:.6f}"
    ctx.write(UpsertCall(idempotency_key=key, call_id=call_id, values=values))
    due = due_at.isoformat() if due_at else None
    if due_at is not None and number:
        # The follow-up is a call-back like any other: the scheduler dials it when due.
        ctx.write(
            InsertCallback(
                idempotency_key=f"{key}:callback",
                callback_id=f"follow-up-{call_id}-{now:.0f}",
                call_id=call_id,
                number=number,
                queue=queue or ctx.settings.default_queue,
                requested_at=datetime.fromtimestamp(now, UTC),
                due_at=due_at.astimezone(UTC),
            )
        )
    ctx.write(
        AppendAudit(
            idempotency_key=f"{key}:audit",
            who=who.name,
            role=who.role,
            action="call.disposition",
            target=f"call:{call_id}",
            reason=json.dumps({"code": body.code, "follow_up_due": due}),
            at=datetime.fromtimestamp(now, UTC),
        )
    )
    return {"call_id": call_id, "queue": queue, **values, "follow_up_due": due}
