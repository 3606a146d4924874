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
from acd.reports.build import build_report
from acd.reports.render import to_dict

router = APIRouter()
Supervisor = Annotated[Principal, Depends(require("supervisor"))]


class SpyBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    agent: str = Field(min_length=1)
    mode: SpyMode = SpyMode.LISTEN
    endpoint: str = Field(alias="from", min_length=1, description="the supervisor's phone")


@router.post("/spy")
async def spy(body: SpyBody, ctx: Ctx, who: Supervisor) -> dict[str, object]:
    known_agent(ctx, body.agent)
    try:
        session = await ctx.desk.spy(
            ctx.registry,
            who=who.name,
            role=who.role,
            agent_id=body.agent,
            mode=body.mode,
            endpoint=body.endpoint,
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
    interval: str | None = None,
    by: str | None = None,
    queue: str | None = None,
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
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return to_dict(report)
