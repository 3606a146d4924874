"""Bulk log-in and log-out: a whole floor, a queue's members or a list of agents at once.

One request is one floor input (``AgentBatch``): one routing pass, one burst of MQTT messages
and one storage batch, where a request per agent would cost a round trip, a routing pass and a
floor-wide view each. Supervisors and admins only; an agent logs only themselves in.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, model_validator

from acd.engine.floor import Floor
from acd.engine.floor_inputs import AgentAction
from acd.http.context import ApiContext
from acd.http.deps import Ctx, Supervisor

router = APIRouter()

MAX_AGENTS = 20_000  # a body naming more agents than any floor has is a mistake


class BulkBody(BaseModel):
    """Which agents: ``all``, the members of ``queue`` (agents with its skill), or ``agents``."""

    action: Literal["login", "logout"]
    all: bool = False
    queue: str | None = Field(default=None, max_length=64)
    agents: list[str] = Field(default_factory=list, max_length=MAX_AGENTS)

    @model_validator(mode="after")
    def one_selection(self) -> BulkBody:
        chosen = sum((self.all, self.queue is not None, bool(self.agents)))
        if chosen != 1:
            raise ValueError("give exactly one of all, queue or agents")
        return self


def selected(ctx: ApiContext, body: BulkBody) -> list[str]:
    """The agent ids the body names, in configuration order; 404 for an unknown queue/agent."""
    settings = ctx.settings
    if body.all:
        return [a.id for a in settings.agents]
    if body.queue is not None:
        try:
            return [a.id for a in settings.members(body.queue)]
        except KeyError:
            raise HTTPException(404, f"unknown queue {body.queue}") from None
    known = {a.id for a in settings.agents}
    unknown = [a for a in body.agents if a not in known]
    if unknown:
        raise HTTPException(404, f"unknown agents: {', '.join(unknown[:10])}")
    return list(dict.fromkeys(body.agents))  # once each, in the order given


@router.post("/agents/bulk")
async def bulk_action(body: BulkBody, ctx: Ctx, who: Supervisor) -> dict[str, Any]:
    """Log many agents in or out as one floor input. 200 with the agents changed and the ones
    the floor refused (already in, on a call, ...) and why; each agent's state afterwards."""
    ids = selected(ctx, body)
    action = AgentAction(body.action)
    # forced=True: a supervisor's action (it matters only for unpause and end of wrap-up)
    refused = await ctx.acd.agents_input(ids, action, forced=True)
    why = {r.agent_id: r.reason for r in refused}

    def states(floor: Floor, _now: float) -> list[str]:
        return [floor.agents[a].state.value for a in ids]

    now_in = await ctx.acd.read(states)
    return {
        "action": body.action,
        "requested": len(ids),
        "changed": len(ids) - len(why),
        "refused": [{"agent": a, "reason": r} for a, r in why.items()],
        "agents": [
            {"agent": a, "state": s, "refused": why.get(a)}
            for a, s in zip(ids, now_in, strict=True)
        ],
    }
