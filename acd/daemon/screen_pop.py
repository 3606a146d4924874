"""Who is calling: the caller lookup, and the agent's screen pop published when the call is
offered.

The call flow publishes it ahead of other MQTT messages and waits until the broker has it
before dialling (``Outputs.deliver``), so the desktop shows the caller before the phone rings:
number, name, VIP, the IVR path (menus visited, the reason and any order number keyed) and the
caller's last calls with how each ended (from the caller lookup's profile).
"""

from __future__ import annotations

import asyncio
from typing import Any

from acd.daemon.call_state import CallState
from acd.daemon.ivr_port import CallerLookup, CallerProfile, RecentCallView
from acd.events import topics
from acd.events.topics import Publication
from acd.logging import get_logger

log = get_logger(__name__)


async def identify(
    callers: CallerLookup | None, number: str, timeout_s: float
) -> CallerProfile | None:
    """The caller's profile, or None; a slow or broken customer source never holds up the
    call."""
    if callers is None or not number:
        return None
    try:
        async with asyncio.timeout(timeout_s):
            return await callers.lookup(number)
    except Exception as exc:  # identification is best effort
        log.warning("caller_lookup_failed", number=number, error=repr(exc))
        return None


def ivr_summary(call: CallState) -> dict[str, Any]:
    """The IVR part of the pop: menu nodes in order with the keys pressed, reason, order."""
    menus = [{"node": node.get("node"), "keys": _keys(node.get("keys"))} for node in call.ivr_path]
    return {"menus": menus, "reason": call.reason, "order_number": call.order_number}


def _keys(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def recent_call(view: RecentCallView) -> dict[str, Any]:
    return {
        "call_id": view.call_id,
        "arrived_at": view.arrived_at.isoformat(),
        "queue": view.queue,
        "agent_id": view.agent_id,
        "outcome": view.outcome,
    }


def screen_pop(
    prefix: str, agent_id: str, at: float, call: CallState, profile: CallerProfile | None
) -> Publication:
    calls = profile.recent_calls if profile is not None else ()
    recent = [recent_call(c) for c in calls if c.call_id != call.call_id]  # not this call
    return topics.screen_pop(
        prefix,
        agent_id,
        at,
        call_id=call.call_id,
        number=call.facts.number,
        name=call.name,
        vip=call.vip,
        ivr_path=ivr_summary(call),
        recent_calls=recent,
    )
