"""Routing: match waiting callers to ready agents, incrementally, at a given ``now``.

Inputs (an agent becomes available, a caller arrives, a caller leaves...) only update indexes;
``route(now)`` then makes the assignments they allow, plus those that relaxed requirements allow.
Invariant after ``route(now)``: no waiting caller is eligible for a ready agent. Every decision
touches lane fronts and the front of a few sorted agent lists, never the whole floor.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from acd.engine.agent_index import ReadyAgents
from acd.engine.model import AgentSpec, QueueSpec, SkillRequirement, WaitingCall
from acd.engine.waiting import Caller, LaneKey, WaitingCallers


class AssignmentError(Exception):
    """A supervisor assignment that cannot be made; ``reason`` is machine-readable."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Assignment:
    call_id: str
    agent_id: str
    queue: str
    at: float
    ring_timeout_s: float


class Router:
    def __init__(self, queues: Iterable[QueueSpec], agents: Iterable[AgentSpec]) -> None:
        self.queues: dict[str, QueueSpec] = {q.name: q for q in queues}
        self.agents: dict[str, AgentSpec] = {a.id: a for a in agents}
        self.ready = ReadyAgents()
        self.waiting = WaitingCallers(self.queues)
        self.calls_today: dict[str, int] = dict.fromkeys(self.agents, 0)
        self.engaged: dict[str, Caller] = {}  # call id -> caller ringing or talking
        self._last_assigned: dict[str, str] = {}  # queue -> agent, for round robin
        self._new_callers: list[str] = []
        self._new_agents: list[str] = []
        self._seq = 0

    # -- inputs -----------------------------------------------------------------------------

    def add_agent(self, spec: AgentSpec) -> None:
        self.agents[spec.id] = spec
        self.calls_today.setdefault(spec.id, 0)

    def agent_available(self, agent_id: str, now: float, calls_today: int | None = None) -> None:
        """The agent became ready and reachable (idle from ``now``)."""
        if calls_today is not None:
            self.calls_today[agent_id] = calls_today
        spec = self.agents[agent_id]
        self.ready.add(agent_id, spec.skills, now, self.calls_today[agent_id])
        self._new_agents.append(agent_id)

    def agent_unavailable(self, agent_id: str) -> None:
        self.ready.remove(agent_id)

    def caller_arrived(self, call: WaitingCall) -> None:
        if call.queue not in self.queues:
            raise KeyError(f"unknown queue {call.queue!r}")
        self._seq += 1
        self.waiting.add(Caller(call, self._seq))
        self._new_callers.append(call.call_id)

    def caller_left(self, call_id: str) -> Caller | None:
        """The call is over, wherever it was (waiting, ringing, talking): forget it."""
        caller = self.engaged.pop(call_id, None)
        if caller is None and call_id in self.waiting.by_id:
            caller = self.waiting.remove(call_id)
        return caller

    def offer_answered(self, call_id: str, now: float) -> None:
        self.engaged[call_id].answered_at = now

    def offer_failed(self, call_id: str) -> None:
        """Ring-no-answer or device gone: the caller keeps its place and skips that agent."""
        caller = self.engaged.pop(call_id)
        agent_id, caller.agent_id = caller.agent_id, None
        if agent_id is not None:
            caller.excluded.add(agent_id)
            self.calls_today[agent_id] = max(0, self.calls_today[agent_id] - 1)
        self.waiting.add(caller)
        self._new_callers.append(call_id)

    def forgive(self, call_id: str, agent_id: str) -> None:
        """The agent who missed this caller may be offered it again (the floor calls this a
        ring timeout later, so a caller is never stranded behind its only agents' misses)."""
        caller = self.waiting.by_id.get(call_id) or self.engaged.get(call_id)
        if caller is None or agent_id not in caller.excluded:
            return
        caller.excluded.discard(agent_id)
        if call_id in self.waiting.by_id:
            self._new_callers.append(call_id)

    def designate(self, call_id: str, agent_id: str | None) -> None:
        """Supervisor: keep this waiting caller (a VIP, say) for one agent, who gets it as soon
        as they are ready, whatever their skills; None lets the caller go to anyone again."""
        caller = self.waiting.remove(call_id)
        caller.call = replace(caller.call, designated_agent=agent_id)
        caller.excluded.discard(agent_id or "")
        self.waiting.add(caller)
        self._new_callers.append(call_id)

    def widen(self, call_id: str, skills: Sequence[SkillRequirement]) -> None:
        """Overflow: the caller now also accepts agents with these skills (no relaxing)."""
        caller = self.waiting.remove(call_id)
        caller.widened.extend(skills)
        self.waiting.add(caller)
        self._new_callers.append(call_id)

    def move(self, call_id: str, queue: str) -> None:
        """Overflow to another queue, keeping the original arrival time (the caller's place)."""
        call = self.waiting.remove(call_id).call
        moved = WaitingCall(
            call_id, queue, call.arrived_at, call.priority, None, None,
            call.preferred_agent, call.designated_agent,
        )  # fmt: skip
        self.caller_arrived(moved)

    # -- decisions --------------------------------------------------------------------------

    def route(self, now: float) -> list[Assignment]:
        """Assignments to make now: new callers, newly ready agents, relaxed requirements."""
        made: list[Assignment] = []
        self.waiting.clock = max(self.waiting.clock, now)
        by_id = self.waiting.by_id
        callers = [by_id[c] for c in self._new_callers if c in by_id]
        self._new_callers.clear()
        for caller in sorted(callers, key=lambda c: c.order):
            if caller.call.call_id in by_id:
                self._try_caller(caller, now, made)
        agents, self._new_agents = self._new_agents, []
        for agent_id in agents:
            if agent_id in self.ready:
                self._try_agent(agent_id, now, made)
        for key in self.waiting.pop_due(now):
            self._sweep_lane(key, now, made)
        return made

    def next_wakeup(self) -> float | None:
        """When a waiting caller's requirement next relaxes; call ``route`` then."""
        return self.waiting.next_due()

    def assign(self, call_id: str, agent_id: str, now: float) -> Assignment:
        """Supervisor: give this waiting caller to this agent, or say why not."""
        caller = self.waiting.by_id.get(call_id)
        if caller is None:
            raise AssignmentError("caller-gone", f"call {call_id} is not waiting")
        if agent_id not in self.agents:
            raise AssignmentError("unknown-agent", f"no agent {agent_id}")
        if agent_id not in self.ready:
            raise AssignmentError("agent-not-ready", f"agent {agent_id} is not ready")
        return self._assign(caller, agent_id, now)

    def waiting_count(self) -> int:
        return len(self.waiting.by_id)

    def waiting_calls(self) -> list[WaitingCall]:
        return [c.call for c in sorted(self.waiting.by_id.values(), key=lambda c: c.order)]

    def position(self, call_id: str) -> int:
        """Callers ahead in the caller's own lane (0 = next in line)."""
        caller = self.waiting.by_id[call_id]
        lane = self.waiting.lanes[caller.lanes[0]] if caller.lanes else []
        return bisect_left(lane, caller.entry)

    # -- internals --------------------------------------------------------------------------

    def _assign(self, caller: Caller, agent_id: str, now: float) -> Assignment:
        self.waiting.remove(caller.call.call_id)
        caller.agent_id = agent_id
        self.engaged[caller.call.call_id] = caller
        self.ready.remove(agent_id)
        self.calls_today[agent_id] += 1
        queue = self.queues[caller.call.queue]
        self._last_assigned[queue.name] = agent_id
        return Assignment(caller.call.call_id, agent_id, queue.name, now, queue.ring_timeout_s)

    def _try_caller(self, caller: Caller, now: float, made: list[Assignment]) -> bool:
        agent = self._agent_for(caller, now)
        if agent is not None:
            made.append(self._assign(caller, agent, now))
        return agent is not None

    def _agent_for(self, caller: Caller, now: float) -> str | None:
        call = caller.call
        designated = call.designated_agent
        if designated is not None:
            # Reserved by a supervisor for one agent: only that agent, whatever the skills.
            usable = designated in self.ready and designated not in caller.excluded
            return designated if usable else None
        queue = self.queues[call.queue]
        waited = now - call.arrived_at
        levels = [
            (r.skill, queue.required_level(r.min_level, waited) if relax else r.min_level)
            for r, relax in self.waiting.requirements(caller)
        ]
        preferred = call.preferred_agent
        if (
            preferred is not None
            and preferred in self.ready
            and preferred not in caller.excluded
            and any((self.ready.level_of(preferred, s) or 0) >= lv for s, lv in levels)
        ):
            return preferred
        for skill, level in levels:
            agent = self.ready.pick(
                skill, level, queue.policy, exclude=caller.excluded,
                last_assigned=self._last_assigned.get(queue.name),
            )  # fmt: skip
            if agent is not None:
                return agent
        return None

    def _try_agent(self, agent_id: str, now: float, made: list[Assignment]) -> None:
        waiting = self.waiting
        kept = waiting.designated.get(agent_id)
        best: Caller | None = waiting.by_id[kept[0][2]] if kept else None
        for skill, level in self.agents[agent_id].skills.items():
            for key in waiting.lanes_by_skill.get(skill, ()):
                for caller in waiting.front(key):
                    if best is not None and caller.order >= best.order:
                        break
                    if agent_id in caller.excluded:
                        continue
                    if level >= waiting.required_level(key, caller.call.arrived_at, now):
                        best = caller
                    break  # callers behind this one need the same level or more
        if best is not None:
            made.append(self._assign(best, agent_id, now))

    def _sweep_lane(self, key: LaneKey, now: float, made: list[Assignment]) -> None:
        # Serve the lane's front while agents fit; a caller that relaxed may now be servable.
        progress = True
        while progress:
            progress = any(self._try_caller(c, now, made) for c in list(self.waiting.front(key)))
        self.waiting.schedule(key)
