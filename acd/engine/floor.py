"""The contact-center floor: agents' state machines, the router and the calls on offer, as one
pure object; every input takes ``now`` and returns the effects to carry out. It alone keeps the
router's ready set equal to the agents the state machines call routable. While a phone rings the
Dial decides; agent requests and device states arriving meanwhile wait for its outcome."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from acd.engine.agent_fsm import (
    AgentInput,
    AgentState,
    AgentStatus,
    AutoPaused,
    CancelWrapUpTimer,
    Effect,
    InvalidTransition,
    RoutableChanged,
    StartWrapUpTimer,
    StateChanged,
    apply,
)
from acd.engine.estimate import HandleTimes, estimated_wait
from acd.engine.floor_effects import AgentChanged, Engaged, FloorEffect, Offer
from acd.engine.model import AgentSpec, OverflowToQueue, QueueSpec, WaitingCall, WidenSkills
from acd.engine.routing import AssignmentError, Router


class Floor:
    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        wrap_up_override_s: Mapping[str, float] | None = None,
    ) -> None:
        specs = list(agents)
        self.router = Router(queues, specs)
        self.queues = self.router.queues
        self.specs = {a.id: a for a in specs}
        self.status = {a.id: AgentStatus(a.id) for a in specs}
        self.by_endpoint = {a.endpoint: a.id for a in specs}
        self.handle_times = HandleTimes()
        self._wrap_override = dict(wrap_up_override_s or {})
        self._wrap_due: dict[str, float] = {}
        self._forgive_due: list[tuple[float, str, str]] = []  # (when, call, agent who missed)
        self._reach_after_ring: dict[str, bool] = {}  # device state seen while the phone rang
        self._engaged: dict[str, Engaged] = {}  # call id -> agent engagement
        self._deferred: dict[str, list[tuple[AgentInput, str | None]]] = {}
        self._last_queue: dict[str, str] = {}  # agent -> queue of the last call (wrap-up length)
        self._talk: dict[str, float] = {}  # agent -> talk seconds of the last call
        self._wrap_started: dict[str, float] = {}

    # -- agents -----------------------------------------------------------------------------

    def agent_input(
        self, agent_id: str, event: AgentInput, now: float, reason: str | None = None
    ) -> list[FloorEffect]:
        """Log in/out, pause/unpause, end wrap-up, supervisor forcing. Raises on unknown agent
        or a transition the state machine forbids (``InvalidTransition``)."""
        status = self.status[agent_id]
        if status.state is AgentState.RESERVED and event is not AgentInput.LOGIN:
            self._deferred.setdefault(agent_id, []).append((event, reason))
            return []
        return self._step(agent_id, event, now, reason) + self._route(now)

    def device_state(self, endpoint: str, reachable: bool, now: float) -> list[FloorEffect]:
        agent_id = self.by_endpoint.get(endpoint)
        if agent_id is None:
            return []
        if self.status[agent_id].state is AgentState.RESERVED:
            self._reach_after_ring[agent_id] = reachable  # only the latest matters: a blip
            return []
        return self._reach(agent_id, reachable, now) + self._route(now)

    def _reach(self, agent_id: str, reachable: bool, now: float) -> list[FloorEffect]:
        if self.status[agent_id].reachable == reachable:
            return []
        event = AgentInput.DEVICE_REACHABLE if reachable else AgentInput.DEVICE_UNREACHABLE
        return self._step(agent_id, event, now)

    # -- callers ----------------------------------------------------------------------------

    def caller_arrived(self, call: WaitingCall, now: float) -> list[FloorEffect]:
        self.router.caller_arrived(call)
        return self._route(now)

    def caller_left(self, call_id: str, now: float) -> list[FloorEffect]:
        """The caller is gone: hung up (or left for a call-back / voicemail) while waiting or
        ringing, or the call ended in any way while talking. Idempotent."""
        engaged = self._engaged.get(call_id)
        if engaged is not None and engaged.answered_at is not None:
            return self.call_ended(call_id, now)  # gone mid-conversation: the talk is over
        self.router.caller_left(call_id)
        effects: list[FloorEffect] = []
        if engaged is not None:
            self._engaged.pop(call_id)
            effects += self._step(engaged.agent_id, AgentInput.CALLER_ABANDONED_DURING_RING, now)
            effects += self._flush_deferred(engaged.agent_id, now)
        return effects + self._route(now)

    def offer_answered(self, call_id: str, now: float) -> list[FloorEffect]:
        engaged = self._engaged[call_id]
        engaged.answered_at = now
        self.router.offer_answered(call_id)
        effects = self._step(engaged.agent_id, AgentInput.ANSWER, now)
        return effects + self._flush_deferred(engaged.agent_id, now) + self._route(now)

    def offer_failed(self, call_id: str, now: float) -> list[FloorEffect]:
        """Ring-no-answer, busy or unreachable phone: the caller keeps its place."""
        engaged = self._engaged.pop(call_id)
        self.router.offer_failed(call_id, engaged.agent_id)
        retry_at = now + self.queues[engaged.queue].ring_timeout_s
        heapq.heappush(self._forgive_due, (retry_at, call_id, engaged.agent_id))
        effects = self._step(
            engaged.agent_id, AgentInput.RING_NO_ANSWER, now, offer_queue=engaged.queue
        )
        effects += self._flush_deferred(engaged.agent_id, now)
        return effects + self._route(now)

    def call_ended(self, call_id: str, now: float) -> list[FloorEffect]:
        """The bridged call is over: the agent goes to wrap-up (or straight back). Idempotent:
        a call already released (resynchronisation, a hang-up seen first) changes nothing."""
        if call_id not in self._engaged:
            return []
        engaged = self._engaged.pop(call_id)
        if engaged.answered_at is not None:
            engaged.talk_s = now - engaged.answered_at
        self._last_queue[engaged.agent_id] = engaged.queue
        self._talk[engaged.agent_id] = engaged.talk_s
        effects = self._step(engaged.agent_id, AgentInput.CALL_END, now)
        return effects + self._flush_deferred(engaged.agent_id, now) + self._route(now)

    def assign(self, call_id: str, agent_id: str, now: float) -> list[FloorEffect]:
        """Supervisor hand-off of a waiting caller to a named ready agent."""
        assignment = self.router.assign(call_id, agent_id, now)
        return self._offer(assignment.call_id, agent_id, assignment.queue, now)

    def designate(self, call_id: str, agent_id: str | None, now: float) -> list[FloorEffect]:
        """Supervisor: keep a waiting caller for one agent (``AssignmentError`` if not)."""
        if call_id not in self.router.waiting.by_id:
            raise AssignmentError("caller-gone", f"call {call_id} is not waiting")
        if agent_id is not None and agent_id not in self.specs:
            raise AssignmentError("unknown-agent", f"no agent {agent_id}")
        self.router.designate(call_id, agent_id)
        return self._route(now)

    def overflow(
        self, call_id: str, step: WidenSkills | OverflowToQueue, now: float
    ) -> list[FloorEffect]:
        """Overflow rung for a waiting caller (same place); nothing if ringing or gone."""
        if call_id not in self.router.waiting.by_id:
            return []
        if isinstance(step, WidenSkills):
            self.router.widen(call_id, step.skills)
        else:
            self.router.move(call_id, step.queue)
        return self._route(now)

    # -- time -------------------------------------------------------------------------------

    def tick(self, now: float) -> list[FloorEffect]:
        effects: list[FloorEffect] = []
        for agent_id, due in sorted(self._wrap_due.items(), key=lambda kv: kv[1]):
            if due <= now:
                effects += self._step(agent_id, AgentInput.WRAP_UP_END, now)
        while self._forgive_due and self._forgive_due[0][0] <= now:
            _, call_id, agent_id = heapq.heappop(self._forgive_due)
            self.router.forgive(call_id, agent_id)
        return effects + self._route(now)

    def next_deadline(self) -> float | None:
        times = list(self._wrap_due.values())
        if self._forgive_due:
            times.append(self._forgive_due[0][0])
        wake = self.router.next_wakeup()
        if wake is not None:
            times.append(wake)
        return min(times) if times else None

    def estimate_wait(self, call_id: str) -> float | None:
        """Seconds until this waiting caller is answered, from its position and the live handle
        times of the agents who could take it (not a floor-wide average)."""
        caller = self.router.waiting.by_id.get(call_id)
        if caller is None:
            return None
        queue = self.queues[caller.call.queue]
        skill = caller.call.skill or queue.skill
        off = (AgentState.LOGGED_OUT, AgentState.PAUSED)
        eligible = [
            a
            for a, spec in self.specs.items()
            if spec.skills.get(skill, 0) >= 1
            and self.status[a].state not in off
            and self.status[a].reachable
        ]
        times = self.handle_times.for_agents(queue.name, eligible)
        return estimated_wait(self.router.position(call_id), times)

    def engaged_calls(self) -> list[str]:
        """Calls offered to or talking with an agent (resynchronisation checks these)."""
        return list(self._engaged)

    def engaged_agent(self, call_id: str) -> str | None:
        engaged = self._engaged.get(call_id)
        return engaged.agent_id if engaged else None

    # -- internals --------------------------------------------------------------------------

    def _route(self, now: float) -> list[FloorEffect]:
        effects: list[FloorEffect] = []
        for a in self.router.route(now):
            effects += self._offer(a.call_id, a.agent_id, a.queue, now)
        return effects

    def _offer(self, call_id: str, agent_id: str, queue: str, now: float) -> list[FloorEffect]:
        self._engaged[call_id] = Engaged(agent_id, queue)
        effects = self._step(agent_id, AgentInput.OFFER, now)
        spec = self.queues[queue]
        offer = Offer(
            call_id, agent_id, self.specs[agent_id].endpoint, queue, spec.ring_timeout_s, now
        )
        return [offer, *effects]

    def _flush_deferred(self, agent_id: str, now: float) -> list[FloorEffect]:
        """Apply what came while the phone rang. A request the agent's new state cannot take
        yet (a pause once the call is answered) waits for the end of the call."""
        effects: list[FloorEffect] = []
        reachable = self._reach_after_ring.pop(agent_id, None)
        if reachable is not None:
            effects += self._reach(agent_id, reachable, now)
        later: list[tuple[AgentInput, str | None]] = []
        for event, reason in self._deferred.pop(agent_id, []):
            try:
                effects += self._step(agent_id, event, now, reason)
            except InvalidTransition:
                if self.status[agent_id].state is AgentState.ON_CALL:
                    later.append((event, reason))
                # otherwise it no longer applies (e.g. pause twice) and is dropped
        if later:
            self._deferred[agent_id] = later
        return effects

    def _step(
        self,
        agent_id: str,
        event: AgentInput,
        now: float,
        reason: str | None = None,
        *,
        offer_queue: str | None = None,
    ) -> list[FloorEffect]:
        # wrap-up length from the queue of the call just ended; miss limit from the offer's queue
        queue = self.queues.get(self._last_queue.get(agent_id, ""))
        wrap_s = self._wrap_override.get(agent_id, queue.wrap_up_s if queue else 0.0)
        missed_in = self.queues.get(offer_queue or "") or queue
        misses = missed_in.auto_pause_misses if missed_in else 3
        new, raw = apply(
            self.status[agent_id],
            event,
            now,
            reason=reason,
            wrap_up_s=wrap_s,
            auto_pause_misses=misses,
        )
        self.status[agent_id] = new
        return self._effects(agent_id, raw, now)

    def _effects(self, agent_id: str, raw: list[Effect], now: float) -> list[FloorEffect]:
        out: list[FloorEffect] = []
        auto = any(isinstance(e, AutoPaused) for e in raw)
        for effect in raw:
            if isinstance(effect, StateChanged):
                out.append(AgentChanged(agent_id, effect.old, effect.new, effect.reason, now, auto))
                if effect.new is AgentState.WRAP_UP:
                    self._wrap_started[agent_id] = now
                elif effect.old in (AgentState.WRAP_UP, AgentState.ON_CALL):
                    self._record_handle(agent_id, now)
            elif isinstance(effect, StartWrapUpTimer):
                self._wrap_due[agent_id] = effect.until
            elif isinstance(effect, CancelWrapUpTimer):
                self._wrap_due.pop(agent_id, None)
            elif isinstance(effect, RoutableChanged):
                if effect.routable:
                    self.router.agent_available(agent_id, now)
                elif agent_id in self.router.ready:
                    self.router.agent_unavailable(agent_id)
        if self.status[agent_id].state is not AgentState.WRAP_UP:
            self._wrap_due.pop(agent_id, None)
        return out

    def _record_handle(self, agent_id: str, now: float) -> None:
        """Handle time = talk + wrap-up, fed to the live per-agent estimate."""
        queue = self._last_queue.get(agent_id)
        talk = self._talk.pop(agent_id, None)
        if queue is None or talk is None:
            return
        wrap = now - self._wrap_started.pop(agent_id, now)
        self.handle_times.record(queue, agent_id, talk + wrap)
