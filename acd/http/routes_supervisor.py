"""Supervisor endpoints: listen/whisper/barge and reports. (Recordings search and playback are
served by the ``recordings`` feature package's router, mounted by the composition root.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from acd.asterisk.aio.ami_client import AmiError
from acd.daemon.specs import kpi_settings
from acd.daemon.supervisor import NotOnCall, SpyMode, SpyRefused
from acd.http.deps import Ctx, Principal, require
from acd.http.routes_floor import known_agent
from acd.reports.build import GROUPINGS, build_report
from acd.reports.periods import INTERVALS
from acd.reports.render import to_dict

router = APIRouter()
Supervisor = Annotated[Principal, Depends(require("supervisor"))]


class SpyBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    agent: str = Field(min_length=1, max_length=64)
    mode: SpyMode = SpyMode.LISTEN
    endpoint: str | None = Field(
        default=None,
        alias="from",
        max_length=128,
        description="one of your phones in agents.yaml supervisors[].phones (default: the first)",
    )


def spy_phone(who: Principal, asked: str | None) -> str:
    """Only the principal's own phones from config: never an arbitrary dial string, which
    could stream a customer's call to an outside number."""
    if not who.phones:
        raise HTTPException(
            403, f"{who.name} has no phone to listen from (agents.yaml supervisors[].phones)"
        )
    if asked is None:
        return who.phones[0]
    if asked not in who.phones:
        raise HTTPException(403, f"not one of {who.name}'s phones: {', '.join(who.phones)}")
    return asked


@router.post("/spy")
async def spy(body: SpyBody, ctx: Ctx, who: Supervisor) -> dict[str, object]:
    known_agent(ctx, body.agent)
    endpoint = spy_phone(who, body.endpoint)
    try:
        session = await ctx.desk.spy(
            ctx.registry,
            who=who.name,
            role=who.role,
            agent_id=body.agent,
            mode=body.mode,
            endpoint=endpoint,
        )
    except NotOnCall as exc:
        raise HTTPException(409, str(exc)) from None
    except SpyRefused as exc:
        raise HTTPException(502, str(exc)) from None
    except (AmiError, ConnectionError) as exc:
        raise HTTPException(503, f"cannot reach Asterisk: {exc}") from None
    return session.as_json()


@router.get("/spy")
async def spy_sessions(ctx: Ctx, who: Supervisor) -> list[dict[str, object]]:
    return [s.as_json() for s in ctx.desk.sessions]


@router.get("/reports")
async def reports(
    *,
    ctx: Ctx,
    who: Supervisor,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    interval: Annotated[str | None, Query(max_length=16)] = None,
    by: Annotated[str | None, Query(max_length=16)] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """KPI report (``acd.reports``); default period: today in the configured time zone."""
    if ctx.db_url is None:
        raise HTTPException(503, "storage is not available")
    tz = ZoneInfo(ctx.settings.timezone)
    today = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    lo = (start or today).replace(tzinfo=(start or today).tzinfo or tz)
    hi = (end or lo + timedelta(days=1)).replace(tzinfo=(end or lo).tzinfo or tz)
    try:
        report = await build_report(
            ctx.db_url,
            start=lo,
            end=hi,
            interval=interval,
            by=by,
            queue=queue,
            settings=kpi_settings(ctx.settings.targets),
            ring_limits={q.name: q.ring_timeout_s for q in ctx.settings.queues},
            tz=tz,
        )
    except ValueError:
        # the message would repeat the parameter: say what is accepted instead
        raise HTTPException(
            422,
            f"expected interval one of {', '.join(INTERVALS)} and by one of {', '.join(GROUPINGS)}",
        ) from None
    return to_dict(report)
