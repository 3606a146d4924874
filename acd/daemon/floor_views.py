"""Read-only views of the floor, run inside the ACD owner task via ``AcdService.read``.

Plain functions of ``(floor, now)`` returning JSON-ready data, so the API, the wallboard, the
metrics and the retained MQTT queue statistics (``acd.daemon.queue_stats``) share one definition
of "waiting", "longest wait" and "agents by state". ``now`` is the floor's clock (steady); a
time shown as a date (an agent's ``since``) is converted with ``to_wall``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from acd.engine.agent import AgentState
from acd.engine.estimate import will_miss_target
from acd.engine.floor import Floor
from acd.engine.waiting import Caller


def _same(t: float) -> float:
    return t


def agents_view(
    floor: Floor, now: float, to_wall: Callable[[float], float] = _same
) -> list[dict[str, Any]]:
    calls = _calls_by_agent(floor)
    return [
        _agent_row(floor, agent_id, now, to_wall, calls.get(agent_id))
        for agent_id in sorted(floor.agents)
    ]


def agent_view(
    floor: Floor, agent_id: str, now: float, to_wall: Callable[[float], float] = _same
) -> dict[str, Any] | None:
    """One agent's row (the agent desktop): O(calls engaged), not O(agents)."""
    if agent_id not in floor.agents:
        return None
    caller = next((c for c in floor.router.engaged.values() if c.agent_id == agent_id), None)
    return _agent_row(floor, agent_id, now, to_wall, caller)


def _calls_by_agent(floor: Floor) -> dict[str, Caller]:
    return {c.agent_id: c for c in floor.router.engaged.values() if c.agent_id is not None}


def _agent_row(
    floor: Floor,
    agent_id: str,
    now: float,
    to_wall: Callable[[float], float],
    caller: Caller | None,
) -> dict[str, Any]:
    agent = floor.agents[agent_id]
    # An agent with no change since the floor started has no known time in state: never
    # "since the epoch" (the wallboard showed 29940240 min).
    since = agent.since
    return {
        "agent": agent_id,
        "state": agent.state.value,
        "since": None if since is None else to_wall(since),
        "in_state_s": None if since is None else round(max(0.0, now - since), 1),
        "pause_reason": agent.pause_reason if agent.state is AgentState.PAUSED else None,
        "device": agent.device.value,  # as Asterisk names it (NOT_INUSE, INUSE, ...)
        "reachable": not agent.device.lost,
        "call": None if caller is None else _engaged(caller, now),
    }


def _engaged(caller: Caller, now: float) -> dict[str, Any]:
    answered = caller.answered_at
    return {
        "call_id": caller.call.call_id,
        "queue": caller.call.queue,
        "state": "ringing" if answered is None else "talking",
        "talk_s": None if answered is None else round(max(0.0, now - answered), 1),
    }


def calls_view(floor: Floor, now: float) -> list[dict[str, Any]]:
    """Every call on the floor: waiting (longest first), then ringing and talking, with the
    call id, queue and agent (``GET /calls``, ``hotline calls``)."""
    rows = [
        {
            "call_id": c.call_id,
            "state": "waiting",
            "queue": c.queue,
            "agent": c.designated_agent,  # kept for that agent by a supervisor, if any
            "priority": c.priority,
            "waited_s": round(max(0.0, now - c.arrived_at), 1),
            "talk_s": None,
        }
        for c in sorted(floor.router.waiting_calls(), key=lambda c: c.arrived_at)
    ]
    for caller in sorted(floor.router.engaged.values(), key=lambda c: c.call.arrived_at):
        engaged = _engaged(caller, now)
        rows.append(
            {
                "call_id": caller.call.call_id,
                "state": engaged["state"],
                "queue": caller.call.queue,
                "agent": caller.agent_id,
                "priority": caller.call.priority,
                "waited_s": round(max(0.0, now - caller.call.arrived_at), 1),
                "talk_s": engaged["talk_s"],
            }
        )
    return rows


def waiting_view(floor: Floor, now: float) -> list[dict[str, Any]]:
    return [
        {
            "call_id": c.call_id,
            "queue": c.queue,
            "priority": c.priority,
            "waited_s": round(now - c.arrived_at, 1),
            "designated_agent": c.designated_agent,
        }
        for c in floor.router.waiting_calls()
    ]


def queues_view(floor: Floor, now: float) -> dict[str, dict[str, Any]]:
    """Per queue: callers waiting, longest wait, agents (with the queue's skill) by state, and
    whether some waiting caller is predicted to miss the service-level target."""
    waiting = floor.router.waiting_calls()
    view: dict[str, dict[str, Any]] = {}
    for name, queue in floor.queues.items():
        mine = [c for c in waiting if c.queue == name]
        staff = floor.staff(queue.skill)
        target = queue.service_level.answer_within_s
        breach = any(
            will_miss_target(now - c.arrived_at, floor.estimate_wait(c.call_id), target)
            for c in mine
        )
        view[name] = {
            "waiting": len(mine),
            "longest_wait_s": round(max((now - c.arrived_at for c in mine), default=0.0), 1),
            "agents_by_state": dict(Counter(floor.agents[a].state.value for a in staff)),
            "service_level_target_s": target,
            "breach_predicted": breach,
        }
    return view
