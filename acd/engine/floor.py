"""The contact-center floor: agent state machines wired to the router.

The daemon feeds it agent inputs and caller arrivals/departures and gets back effects to act on
(log lines, timers) and assignments to ring. It keeps the two halves consistent: an agent is in
the router's ready index exactly while its state machine says it is routable, and a withdrawn
offer puts the caller back in its place.
"""

from __future__ import annotations

from collections.abc import Iterable

from acd.engine.agent_fsm import (
    AgentInput,
    AgentState,
    AgentStatus,
    Effect,
    OfferWithdrawn,
    RoutableChanged,
    apply,
)
from acd.engine.estimate import HandleTimes, estimated_wait
from acd.engine.model import AgentSpec, QueueSpec, WaitingCall
from acd.engine.routing import Assignment, AssignmentError, Router


class Floor:
    def __init__(self, queues: Iterable[QueueSpec], agents: Iterable[AgentSpec]) -> None:
        agent_list = list(agents)
        self.router = Router(queues, agent_list)
        self.status: dict[str, AgentStatus] = {a.id: AgentStatus(a.id) for a in agent_list}
        self._offer_by_agent: dict[str, Assignment] = {}
        self._agent_by_call: dict[str, str] = {}
        self._last_queue: dict[str, str] = {}  # agent -> queue of the current/last call

    def add_agent(self, spec: AgentSpec) -> None:
        self.router.add_agent(spec)
        self.status.setdefault(spec.id, AgentStatus(spec.id))

    def agent_event(
        self, agent_id: str, event: AgentInput, now: float, reason: str | None = None
    ) -> list[Effect]:
        """Apply one agent input (raises InvalidTransition) and keep the router in step."""
        queue_name = self._last_queue.get(agent_id)
        queue = self.router.queues.get(queue_name) if queue_name else None
        new, effects = apply(
            self.status[agent_id],
            event,
            now,
            reason=reason,
            wrap_up_s=queue.wrap_up_s if queue else 0.0,
            auto_pause_misses=queue.auto_pause_misses if queue else 3,
        )
        self.status[agent_id] = new
        if event is AgentInput.ANSWER:
            offer = self._offer_by_agent.pop(agent_id, None)
            if offer is not None:
                self._agent_by_call.pop(offer.call_id, None)
                self.router.offer_answered(offer.call_id)
        for effect in effects:
            if isinstance(effect, OfferWithdrawn):
                self._withdraw(agent_id, event)
            elif isinstance(effect, RoutableChanged):
                if effect.routable:
                    self.router.agent_available(agent_id, now)
                else:
                    self.router.agent_unavailable(agent_id)
        return effects

    def _withdraw(self, agent_id: str, event: AgentInput) -> None:
        offer = self._offer_by_agent.pop(agent_id, None)
        if offer is None:
            return
        self._agent_by_call.pop(offer.call_id, None)
        if event is AgentInput.CALLER_ABANDONED_DURING_RING:
            self.router.caller_left(offer.call_id)
        else:
            self.router.offer_failed(offer.call_id, agent_id)

    def caller_arrived(self, call: WaitingCall) -> None:
        self.router.caller_arrived(call)

    def caller_left(self, call_id: str, now: float) -> list[Effect]:
        """The caller hung up; if an agent was being rung, that offer ends without a strike."""
        agent_id = self._agent_by_call.get(call_id)
        if agent_id is not None and self.status[agent_id].state is AgentState.RESERVED:
            return self.agent_event(agent_id, AgentInput.CALLER_ABANDONED_DURING_RING, now)
        self.router.caller_left(call_id)
        return []

    def estimated_wait(self, call_id: str, now: float, handle_times: HandleTimes) -> float | None:
        """Expected seconds to answer a waiting caller, from its position and the live handle
        times (in its queue) of the logged-in, unpaused agents who could take it now."""
        call = self.router.waiting.by_id[call_id].call
        queue = self.router.queues[call.queue]
        skill = call.skill or queue.skill
        base = queue.min_level if call.min_level is None else call.min_level
        level = queue.required_level(base, now - call.arrived_at)
        working = (AgentState.LOGGED_OUT, AgentState.PAUSED, AgentState.PENDING_LOGOUT)
        eligible = [
            agent_id
            for agent_id, spec in self.router.agents.items()
            if spec.skills.get(skill, 0) >= level and self.status[agent_id].state not in working
        ]
        position = self.router.position(call_id)
        return estimated_wait(position, handle_times.for_agents(queue.name, eligible))

    def route(self, now: float) -> tuple[list[Assignment], list[Effect]]:
        """Assignments to ring now, with the agents' resulting state changes."""
        made = self.router.route(now)
        return made, [e for a in made for e in self._offer(a, now)]

    def assign(self, call_id: str, agent_id: str, now: float) -> tuple[Assignment, list[Effect]]:
        """Supervisor assignment, with the agent's state in the error when it cannot take it."""
        status = self.status.get(agent_id)
        if status is not None and status.state is AgentState.LOGGED_OUT:
            raise AssignmentError("agent-logged-out", f"agent {agent_id} is not logged in")
        if status is not None and not status.routable:
            state = status.state.value + ("" if status.reachable else ", device unreachable")
            raise AssignmentError("agent-not-ready", f"agent {agent_id} is {state}")
        made = self.router.assign(call_id, agent_id, now)
        return made, self._offer(made, now)

    def _offer(self, assignment: Assignment, now: float) -> list[Effect]:
        agent_id = assignment.agent_id
        self._offer_by_agent[agent_id] = assignment
        self._agent_by_call[assignment.call_id] = agent_id
        self._last_queue[agent_id] = assignment.queue
        new, effects = apply(self.status[agent_id], AgentInput.OFFER, now)
        self.status[agent_id] = new
        return effects
