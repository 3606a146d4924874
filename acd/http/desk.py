"""What the agent desktop shows, as plain functions: the agent's row, the screen pop of the call
ringing or talking with them, the call to wrap up, and what the agent may do with it (pause
reasons, the queue's disposition codes, transfer targets under the queue's rules).

The screen pop is the call's own state (``acd.daemon.call_state``: number, name, VIP, IVR path,
reason, order number) plus the caller's recent calls with their dispositions, read from the
database by the route. Times are the centre's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from acd.daemon.call_state import CallState
from acd.daemon.screen_pop import ivr_summary
from acd.daemon.transfers import TransferError, check_transfer
from acd.settings.settings import Settings


@dataclass(frozen=True, slots=True)
class RecentCall:
    """One of the caller's earlier calls, as the pop lists it."""

    call_id: str
    arrived_at: datetime
    queue: str | None
    agent_id: str | None
    outcome: str | None
    disposition: str | None
    resolved: bool | None


def local(at: float | None, tz: ZoneInfo) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, tz).isoformat(timespec="seconds")


def queue_label(settings: Settings, queue: str | None) -> str | None:
    if queue is None:
        return None
    return next((q.display_name for q in settings.queues if q.name == queue), queue)


def recent_view(calls: list[RecentCall], tz: ZoneInfo) -> list[dict[str, Any]]:
    return [
        {
            "call_id": c.call_id,
            "arrived_at": c.arrived_at.astimezone(tz).isoformat(timespec="seconds"),
            "queue": c.queue,
            "agent": c.agent_id,
            "outcome": c.outcome,
            "disposition": c.disposition,
            "resolved": c.resolved,
        }
        for c in calls
    ]


def transfer_targets(
    settings: Settings, queue: str | None, role: str, agent_id: str | None
) -> dict[str, Any]:
    """Where this principal may transfer a call of ``queue`` (the queue's ``transfers`` rules,
    the same check ``POST /calls/{id}/transfer`` makes)."""
    rules = next((q.transfers for q in settings.queues if q.name == queue), None)
    if rules is None:
        return {"queues": [], "agents": [], "reason_required": True}

    def allowed(kind: str, name: str) -> bool:
        try:
            check_transfer(rules, role, "agent" if kind == "agent" else "queue", name, "-")
        except TransferError:
            return False
        return True

    queues = [
        {"name": q.name, "label": q.display_name}
        for q in settings.queues
        if q.name != queue and allowed("queue", q.name)
    ]
    agents = [
        {"id": a.id, "name": a.name}
        for a in settings.agents
        if a.id != agent_id and allowed("agent", a.id)
    ]
    return {"queues": queues, "agents": agents, "reason_required": rules.require_reason}


def pop(
    state: CallState,
    engaged: dict[str, Any],
    settings: Settings,
    tz: ZoneInfo,
    recent: list[RecentCall],
) -> dict[str, Any]:
    """The screen pop of a call ringing or talking with the agent."""
    talking = engaged["state"] == "talking"
    return {
        "call_id": state.call_id,
        "state": engaged["state"],
        "queue": state.queue,
        "queue_label": queue_label(settings, state.queue),
        "number": state.facts.number,
        "name": state.name,
        "vip": state.vip,
        "ivr": ivr_summary(state),
        "language": state.language,
        "since": local(state.leg_answered_at if talking else state.ringing_since, tz),
        "talk_s": engaged["talk_s"],
        "recording": {
            "recorded": state.recording_path is not None,
            "paused": state.recording_paused,
        },
        "recent_calls": recent_view(recent, tz),
    }


def wrap_up_call(last: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """The call the agent last talked to, for the disposition form: the queue's codes."""
    queue = last.get("queue")
    codes = next((q.dispositions for q in settings.queues if q.name == queue), ("resolved",))
    return {
        "call_id": last["call_id"],
        "queue": queue,
        "queue_label": queue_label(settings, queue),
        "number": last.get("number"),
        "name": last.get("name"),
        "dispositions": list(codes),
        "disposition": last.get("disposition"),
    }


def pause_reasons(settings: Settings) -> list[dict[str, str]]:
    return [{"name": r.name, "label": r.label, "code": r.code} for r in settings.pause_reasons]
