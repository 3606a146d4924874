"""Live views: the wallboard's data and server-sent event stream, and Prometheus ``/metrics``.

The page (``/wallboard``, served by ``routes_session``) is static and holds no data. The data
needs a signed-in principal of any role, a wall screen a ``viewer``: the browser's session
cookie goes with the event stream, so no credential is ever in a URL. The stream pushes one
JSON snapshot a second, so what a wallboard shows is at most ~1 s old (its KPI figures at most
``figures_every_s``: ``acd.http.board_figures``); it ends when the session has expired or its
key was revoked (the page then says so). Callers are shown with the last four digits of their
number only: a wall screen hangs where anyone passing can read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, StreamingResponse

from acd.daemon.floor_views import agents_view, queues_view
from acd.daemon.specs import kpi_settings
from acd.http import wallboard
from acd.http.context import ApiContext
from acd.http.deps import Ctx, Principal, require, viewer
from acd.identity.directory import Directory
from acd.identity.sessions import COOKIE
from acd.kpi import summarize

router = APIRouter()


def mask_number(number: str | None) -> str | None:
    """A caller as a wall screen in the hall may show them: the last four digits only."""
    if not number:
        return None
    return "•••" + number[-4:] if len(number) > 4 else "•" * len(number)


async def snapshot(ctx: ApiContext) -> dict[str, Any]:
    """Everything the wallboard shows, as one JSON object; every wallboard watching shares one
    snapshot per push interval, so ten TVs cost what one does.

    Live numbers (callers waiting, agents and their calls) come from the floor through the
    owner task, calls in the IVR from the call registry; KPI figures from the reports module
    over the database (``acd.http.board_figures``); every time shown is the centre's."""
    cached = ctx.last_board
    if cached is not None and ctx.clock() - cached[0] < ctx.wallboard.push_every_s / 2:
        return cached[1]
    to_wall = ctx.clocks.to_wall  # the floor runs on the steady clock
    queues, agents = await ctx.acd.read(
        lambda f, now: (queues_view(f, now), agents_view(f, now, to_wall))
    )
    figures = await ctx.board_figures().get()
    now = ctx.clock()
    settings = ctx.settings
    tz = ZoneInfo(settings.timezone)
    known = {q.name: q for q in settings.queues}
    for name, view in queues.items():
        queue = known.get(name)
        view["display_name"] = queue.display_name if queue is not None else name
        view["service_level_target"] = queue.service_level.target if queue is not None else None
        view["figures"] = figures.queues.get(name, {})
        view["callbacks_pending"] = figures.callbacks_pending.get(name, 0)
    names = {a.id: a.name for a in settings.agents}
    labels = {r.name: r.label for r in settings.pause_reasons}
    for row in agents:
        row["name"] = names.get(row["agent"], row["agent"])
        row["since_local"] = wallboard.local_time(row["since"], tz)
        row["pause_label"] = labels.get(row["pause_reason"] or "", row["pause_reason"])
        row["handled_today"] = figures.handled_today.get(row["agent"], 0)
        call = row["call"]
        if call is not None:
            live_call = ctx.registry.get(call["call_id"])
            state = live_call.state if live_call is not None else None
            call["caller"] = mask_number(state.facts.number) if state is not None else None
            call["caller_name"] = state.name if state is not None else None
            call["vip"] = state.vip if state is not None else False
    board = ctx.wallboard
    live = [call.state for call in ctx.registry]
    complaints = wallboard.complaint_count(
        [*ctx.registry.recent, *live], board.complaint_queue, now - board.complaint_surge_window_s
    )
    board_view = {
        "at": now,
        **wallboard.local_clock(now, tz),
        "figures_at": figures.at,
        "figures_clock": wallboard.local_time(figures.at, tz),
        "service_level_s": settings.targets.service_level_s,
        "queues": queues,
        "agents": agents,
        "ivr": wallboard.calls_in_ivr(live),
        "callbacks_pending": sum(figures.callbacks_pending.values()),
        "ami_up": ctx.ami_up,
        "alerts": wallboard.alerts(
            queues,
            complaints=complaints,
            complaint_threshold=board.complaint_surge_calls,
            complaint_window_s=board.complaint_surge_window_s,
            ami_up=ctx.ami_up,
        ),
    }
    ctx.last_board = (now, board_view)
    return board_view


@router.get("/wallboard.json")
async def wallboard_json(ctx: Ctx, who: Annotated[Principal, Depends(viewer)]) -> dict[str, Any]:
    return await snapshot(ctx)


@router.get("/events/wallboard")
async def wallboard_events(
    request: Request, ctx: Ctx, who: Annotated[Principal, Depends(viewer)]
) -> StreamingResponse:
    session = request.cookies.get(COOKIE) if request.headers.get("authorization") is None else None
    directory: Directory = request.app.state.directory

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        while not ctx.closing.is_set():
            if session is not None and await directory.by_session(session) is None:
                return  # expired or revoked: the page's EventSource reconnects and is refused
            yield f"data: {json.dumps(await snapshot(ctx))}\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ctx.closing.wait(), ctx.wallboard.push_every_s)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _metric(lines: list[str], name: str, kind: str, help_: str, samples: list[str]) -> None:
    lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", *samples]


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(
    ctx: Ctx, who: Annotated[Principal, Depends(require("viewer"))]
) -> PlainTextResponse:
    """Prometheus text exposition format 0.0.4."""
    queues = await ctx.acd.read(queues_view)
    totals = ctx.outputs.totals  # counted as calls finish: never goes back
    recent = summarize(ctx.outputs.completed, kpi_settings(ctx.settings.targets))
    lines: list[str] = []
    _metric(
        lines,
        "hotline_calls_offered_total",
        "counter",
        "Calls that entered a queue and are finished.",
        [f"hotline_calls_offered_total {totals.offered}"],
    )
    _metric(
        lines,
        "hotline_calls_answered_total",
        "counter",
        "Offered calls answered.",
        [f"hotline_calls_answered_total {totals.answered}"],
    )
    _metric(
        lines,
        "hotline_calls_abandoned_total",
        "counter",
        "Offered calls abandoned.",
        [f"hotline_calls_abandoned_total {totals.abandoned}"],
    )
    waiting = [f'hotline_callers_waiting{{queue="{q}"}} {v["waiting"]}' for q, v in queues.items()]
    _metric(lines, "hotline_callers_waiting", "gauge", "Callers waiting now.", waiting)
    level = recent.service_level_15s
    _metric(
        lines,
        "hotline_service_level",
        "gauge",
        "Service level of the calls finished in the last 15 minutes (acd.kpi; up to 100,000), "
        "NaN without one.",
        [f"hotline_service_level {_num(level)}"],
    )
    _metric(
        lines,
        "hotline_event_loop_lag_seconds",
        "gauge",
        "How late the event loop runs.",
        [f"hotline_event_loop_lag_seconds {ctx.loop_lag.seconds:.6f}"],
    )
    reconnects = ctx.ami.counters.reconnects if ctx.ami is not None else 0
    _metric(
        lines,
        "hotline_ami_reconnects_total",
        "counter",
        "AMI reconnections.",
        [f"hotline_ami_reconnects_total {reconnects}"],
    )
    _metric(
        lines,
        "hotline_ami_up",
        "gauge",
        "1 while logged in to AMI.",
        [f"hotline_ami_up {int(ctx.ami_up)}"],
    )
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def _num(value: float | None) -> str:
    return "NaN" if value is None else f"{value:.6f}"
