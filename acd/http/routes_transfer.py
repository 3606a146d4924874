"""``POST /calls/{call_id}/transfer``: hand a caller in conversation to a queue or an agent.

The request is checked against the call's queue's ``transfers`` rules (agent tokens only; see
``acd.daemon.transfers``), then the agent's leg is hung up and the call flow queues the caller
again. Answers: 404 unknown call/queue/agent, 409 not in a conversation with an agent, 403 not
allowed (by config, or an agent acting on another agent's call), 422 no reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, model_validator

from acd.asterisk.aio.ami_client import AmiError
from acd.daemon.transfers import TargetKind, TransferDesk, TransferError
from acd.http.context import ApiContext
from acd.http.deps import Agent, CallId, Ctx
from acd.settings.schema_routing import TransferRules

router = APIRouter()


class TransferBody(BaseModel):
    queue: str | None = Field(default=None, min_length=1, max_length=64)
    agent: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> TransferBody:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("expected exactly one of 'queue' or 'agent'")
        return self

    @property
    def target(self) -> tuple[TargetKind, str]:
        if self.queue is not None:
            return "queue", self.queue
        assert self.agent is not None
        return "agent", self.agent


def transfer_desk(ctx: ApiContext) -> TransferDesk:
    settings = ctx.settings

    def rules(queue: str | None) -> TransferRules:
        known = {q.name: q for q in settings.queues}
        return known[queue].transfers if queue in known else TransferRules()

    targets = ({q.name for q in settings.queues}, {a.id for a in settings.agents})
    return TransferDesk(ctx.registry, rules, targets, ctx.write, clock=ctx.clock)


@router.post("/calls/{call_id}/transfer")
async def transfer_call(
    call_id: CallId, body: TransferBody, ctx: Ctx, who: Agent
) -> dict[str, Any]:
    live = ctx.registry.get(call_id)
    if live is None:
        raise HTTPException(404, "unknown call")
    if not who.may_act_on(live.state.agent_id):
        raise HTTPException(403, f"{who.name} may transfer only their own calls")
    kind, name = body.target
    try:
        accepted = await transfer_desk(ctx).request(
            call_id, kind, name, body.reason, who=who.name, role=who.role
        )
    except TransferError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    except (AmiError, ConnectionError, OSError) as exc:
        raise HTTPException(503, f"cannot reach Asterisk: {exc}") from None
    except TimeoutError:
        raise HTTPException(504, "the call did not answer the transfer request") from None
    return {
        "call_id": call_id,
        "from_agent": accepted.from_agent,
        "target": accepted.target,
        "reason": body.reason,
        "status": "transferring",
    }
