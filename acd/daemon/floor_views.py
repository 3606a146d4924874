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


def _same(t: float) -> float:
    return t


def agents_view(
    floor: Floor, now: float, to_wall: Callable[[float], float] = _same
) -> list[dict[str, Any]]:
    rows = []
    for agent_id, agent in sorted(floor.agents.items()):
        rows.append(
            {
                "agent": agent_id,
                "state": agent.state.value,
                "since": to_wall(agent.since),
                "in_state_s": round(max(0.0, now - agent.since), 1),
                "pause_reason": agent.pause_reason if agent.state is AgentState.PAUSED else None,
                "device": agent.device.value,  # as Asterisk names it (NOT_INUSE, INUSE, ...)
                "reachable": not agent.device.lost,
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
        staff = [a for a, spec in floor.specs.items() if spec.skills.get(queue.skill, 0) >= 1]
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
