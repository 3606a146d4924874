"""The contact-center floor: the agents' records and state machine, the router and the calls
on it, as one pure object. ``handle(input, now)`` is the only way to change it and returns the
effects to carry out; it alone keeps the router's ready set equal to the agents the state
machine calls routable. Everything else here is a read-only query."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import assert_never

from acd.engine.agent import (
    DEFAULT_MISS_LIMIT,
    PHONE_UNAVAILABLE_REASON,
    Agent,
    AgentChanged,
    AgentInput,
    AgentState,
    DeviceState,
    InvalidTransition,
    Limits,
    step,
)
from acd.engine.estimate import HandleTimes, completion_rate, wait_at_rate
from acd.engine.floor_effects import FloorEffect, Offer, Refused
from acd.engine.floor_inputs import (
    AgentBatch,
    AgentRequest,
    Assign,
    CallEnded,
    CallerArrived,
    CallerLeft,
    Designate,
    DeviceStateChanged,
    DeviceStatesUnknown,
    FloorInput,
    OutsideCallEnded,
    Overflow,
    PhoneFitness,
    RestoreAgent,
    RingAnswered,
    RingFailed,
    Tick,
    UnknownAgent,
)
from acd.engine.model import AgentSpec, OverflowToQueue, QueueSpec, WidenSkills
from acd.engine.routing import AssignmentError, Router

I = AgentInput  # noqa: E741 - short alias, as in the machine's table
_OFF = (AgentState.LOGGED_OUT, AgentState.PAUSED)
_TALKING = (AgentState.ON_CALL, AgentState.PENDING_LOGOUT)


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
        self.agents = {a.id: Agent(a.id) for a in specs}
        self.by_endpoint = {a.endpoint: a.id for a in specs}
        self.by_device: dict[str, list[str]] = {}
        for spec in specs:
            self.by_device.setdefault(spec.device, []).append(spec.id)
        self.handle_times = HandleTimes()
        self._wrap_override = dict(wrap_up_override_s or {})
        # Reads between two inputs see the same floor: what they compute over every agent is
        # kept for that long (a view of 20 waiting callers asked for 20 scans of 10,000 agents).
        self._generation = 0
        self._rates: dict[tuple[str, str], tuple[int, float]] = {}
        self._staff: dict[str, tuple[str, ...]] = {}  # skill -> agents with it (specs are fixed)
        # Timer queues; an entry the records no longer match is skipped when it comes up.
        self._wrap_due: list[tuple[float, str]] = []  # (wrap-up end, agent)
        self._forgive_due: list[tuple[float, str, str]] = []  # (when, call, agent who missed)
        self._unfit: dict[str, str] = {}  # agent -> why its phone cannot take calls (PhoneFitness)

    def handle(self, inp: FloorInput, now: float) -> list[FloorEffect]:
        """Apply one input at ``now``. A refused input (``InvalidTransition``,
        ``AssignmentError``, ``UnknownAgent``, a caller already on the floor: ``ValueError``)
        raises and leaves the floor as it was."""
        effects: list[FloorEffect]
        self._generation += 1
        match inp:
            case AgentRequest():
                effects = self._agent_request(inp, now)
            case AgentBatch(requests=requests):
                effects = self._agent_batch(requests, now)
            case DeviceStateChanged(device=device, state=state):
                effects = self._device(self.by_device.get(device, ()), state, now)
            case DeviceStatesUnknown():
                effects = self._device(self.agents, DeviceState.UNKNOWN, now)
            case PhoneFitness(agent_id=agent_id, unfit_reason=reason):
                effects = self._phone_fitness(agent_id, reason, now)
            case CallerArrived(call=call):
                if call.call_id in self.router.waiting.by_id or call.call_id in self.router.engaged:
                    raise ValueError(f"call {call.call_id} is already on the floor")
                self.router.caller_arrived(call)
                effects = []
            case CallerLeft(call_id=call_id):
                effects = self._caller_left(call_id, now)
            case RingAnswered(call_id=call_id):
                effects = self._answered(call_id, now)
            case RingFailed(call_id=call_id, status=status):
                effects = self._ring_failed(call_id, status, now)
            case CallEnded(call_id=call_id):
                effects = self._call_ended(call_id, now)
            case Assign(call_id=call_id, agent_id=agent_id):
                made = self.router.assign(call_id, agent_id, now)
                effects = self._offer(made.call_id, agent_id, made.queue, now)
            case Designate(call_id=call_id, agent_id=agent_id):
                effects = self._designate(call_id, agent_id)
            case Overflow(call_id=call_id, step=rung):
                effects = self._overflow(call_id, rung)
            case RestoreAgent():
                effects = self._restore(inp, now)
            case OutsideCallEnded(agent_id=agent_id):
                effects = self._outside_ended(agent_id, now)
            case Tick():
                effects = self._tick(now)
            case _:
                assert_never(inp)
        return effects + self._route(now)

    # -- queries ----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``Tick`` next has something to do."""
        wrap = self._wrap_due
        while wrap and self.agents[wrap[0][1]].wrap_up_due != wrap[0][0]:
            heapq.heappop(wrap)  # that wrap-up ended otherwise (early, paused, logged out)
        times = [wrap[0][0]] if wrap else []
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
        return wait_at_rate(self.router.position(call_id), self._rate(queue.name, skill))

    def staff(self, skill: str) -> tuple[str, ...]:
        """Agents holding ``skill`` at any level (relax rules may go down to 1)."""
        found = self._staff.get(skill)
        if found is None:
            found = tuple(a for a, spec in self.specs.items() if spec.skills.get(skill, 0) >= 1)
            self._staff[skill] = found
        return found

    def _rate(self, queue: str, skill: str) -> float:
        """Combined completion rate of the agents who could take a ``skill`` caller of
        ``queue``: logged in, not paused, phone reachable; once per floor state."""
        cached = self._rates.get((queue, skill))
        if cached is not None and cached[0] == self._generation:
            return cached[1]
        agents = self.agents
        eligible = (
            a
            for a in self.staff(skill)
            if agents[a].state not in _OFF and not agents[a].device.lost
        )
        rate = completion_rate(self.handle_times.for_agents(queue, eligible))
        self._rates[(queue, skill)] = (self._generation, rate)
        return rate

    def engaged_calls(self) -> list[str]:
        """Calls offered to or talking with an agent (resynchronisation checks these)."""
        return list(self.router.engaged)

    def engaged_agent(self, call_id: str) -> str | None:
        caller = self.router.engaged.get(call_id)
        return caller.agent_id if caller else None

    # -- inputs -----------------------------------------------------------------------------

    def _agent_request(self, request: AgentRequest, now: float) -> list[FloorEffect]:
        if request.agent_id not in self.agents:
            raise UnknownAgent(request.agent_id)
        event = request.action.machine_input(forced=request.forced)
        return self._step(request.agent_id, event, now, reason=request.reason)

    def _agent_batch(self, requests: Iterable[AgentRequest], now: float) -> list[FloorEffect]:
        effects: list[FloorEffect] = []
        for request in requests:
            try:
                effects += self._agent_request(request, now)
            except UnknownAgent:
                effects.append(Refused(request.agent_id, "unknown agent"))
            except InvalidTransition as exc:
                effects.append(Refused(request.agent_id, str(exc)))
        return effects

    def _device(
        self, agent_ids: Iterable[str], state: DeviceState, now: float
    ) -> list[FloorEffect]:
        effects: list[FloorEffect] = []
        for agent_id in agent_ids:
            if self.agents[agent_id].outside_call is not None and (
                state is DeviceState.NOT_INUSE or state.lost
            ):
                effects += self._outside_ended(agent_id, now)  # the phone hung up
            effects += self._step(agent_id, I.DEVICE, now, device=state)
        return effects

    def _phone_fitness(self, agent_id: str, reason: str | None, now: float) -> list[FloorEffect]:
        """Pause a ready agent whose phone is unfit, with the reason; unpause only an agent
        still paused for that reason. An agent ringing, talking or wrapping up is paused when
        ready again (``_step``); an agent who paused for another reason keeps it."""
        if agent_id not in self.agents:
            raise UnknownAgent(agent_id)
        agent = self.agents[agent_id]
        before = self._unfit.pop(agent_id, None)
        paused = agent.pause_reason if agent.state is AgentState.PAUSED else None
        if reason is None:
            return self._step(agent_id, I.UNPAUSE, now) if before and paused == before else []
        self._unfit[agent_id] = reason
        # An unreachable phone is also UNAVAILABLE: Asterisk 22 sends that DeviceStateChange
        # before or after the ContactStatus (tests/fixtures/asterisk-dev/q3_pjsip_1099_qualify.txt,
        # q8_live_contactstatus_order.txt); either way the agent ends paused for the phone's own
        # reason, which only a fit phone undoes.
        by_phone = (before, PHONE_UNAVAILABLE_REASON)
        if agent.state is AgentState.READY or (paused in by_phone and paused not in (None, reason)):
            return self._step(agent_id, I.PAUSE, now, reason=reason)
        return []

    def _restore(self, inp: RestoreAgent, now: float) -> list[FloorEffect]:
        """A stored session taken back at start: the record is set as the state machine left
        it, not replayed through it (the inputs that led there are gone with the process)."""
        agent = self.agents.get(inp.agent_id)
        if agent is None:
            raise UnknownAgent(inp.agent_id)
        if agent.state is not AgentState.LOGGED_OUT:
            raise ValueError(f"agent {inp.agent_id} is {agent.state.value}, not restorable")
        state, reason, outside = inp.state, inp.reason, inp.outside_call
        if state in _TALKING and outside is None:
            raise ValueError(f"agent {inp.agent_id}: talking needs the outside call")
        if state in _TALKING and agent.device is DeviceState.NOT_INUSE:
            state = (
                AgentState.LOGGED_OUT if state is AgentState.PENDING_LOGOUT else AgentState.READY
            )
        if state is AgentState.LOGGED_OUT or state is AgentState.RESERVED:
            return []  # a ring is never restored: its caller is not on this floor
        routable = agent.routable
        auto = False
        if state is AgentState.READY and agent.device.lost:
            state, reason, auto = AgentState.PAUSED, PHONE_UNAVAILABLE_REASON, True
        agent.state, agent.since, agent.last_queue = state, now, inp.queue
        agent.pause_reason = (reason or "unspecified") if state is AgentState.PAUSED else None
        agent.outside_call = outside if state in _TALKING else None
        agent.wrap_up_due = None
        if state is AgentState.WRAP_UP:
            agent.wrap_up_due = now + max(0.0, inp.wrap_up_left_s or 0.0)
            agent.wrap_started = now
            heapq.heappush(self._wrap_due, (agent.wrap_up_due, agent.agent_id))
        if agent.routable and not routable:
            self.router.agent_available(agent.agent_id, now)
        why = agent.pause_reason if state is AgentState.PAUSED else "restored"
        effects: list[FloorEffect] = [
            AgentChanged(agent.agent_id, AgentState.LOGGED_OUT, state, why, now, auto)
        ]
        unfit = self._unfit.get(agent.agent_id)
        if unfit is not None and state is AgentState.READY:  # its phone failed qualify already
            effects += self._step(agent.agent_id, I.PAUSE, now, reason=unfit)
        return effects

    def _outside_ended(self, agent_id: str, now: float) -> list[FloorEffect]:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        if agent.outside_call is None:
            return []  # ended already
        agent.outside_call = None
        if agent.state not in _TALKING:
            return []
        return self._step(agent_id, I.CALL_END, now)

    def _caller_left(self, call_id: str, now: float) -> list[FloorEffect]:
        engaged = self.router.engaged.get(call_id)
        if engaged is not None and engaged.answered_at is not None:
            return self._call_ended(call_id, now)  # gone mid-conversation: the talk is over
        caller = self.router.caller_left(call_id)
        if caller is None or caller.agent_id is None:
            return []
        return self._step(caller.agent_id, I.RING_CANCELLED, now)

    def _answered(self, call_id: str, now: float) -> list[FloorEffect]:
        caller = self.router.engaged.get(call_id)
        if caller is None or caller.agent_id is None or caller.answered_at is not None:
            return []  # news of a ring already over (the caller left meanwhile)
        self.router.offer_answered(call_id, now)
        return self._step(caller.agent_id, I.ANSWER, now)

    def _ring_failed(self, call_id: str, status: str, now: float) -> list[FloorEffect]:
        """The caller keeps its place; the agent who missed it is skipped for one ring time."""
        caller = self.router.engaged.get(call_id)
        if caller is None or caller.agent_id is None or caller.answered_at is not None:
            return []
        agent_id, queue = caller.agent_id, self.queues[caller.call.queue]
        self.router.offer_failed(call_id)
        heapq.heappush(self._forgive_due, (now + queue.ring_timeout_s, call_id, agent_id))
        return self._step(agent_id, I.RING_FAILED, now, reason=status, offer_queue=queue)

    def _call_ended(self, call_id: str, now: float) -> list[FloorEffect]:
        caller = self.router.engaged.get(call_id)
        if caller is None or caller.agent_id is None:
            return []  # released already (resynchronisation, a hang-up seen first)
        if caller.answered_at is None:
            return self._caller_left(call_id, now)
        self.router.caller_left(call_id)
        agent = self.agents[caller.agent_id]
        agent.last_queue, agent.talk_s = caller.call.queue, now - caller.answered_at
        return self._step(agent.agent_id, I.CALL_END, now)

    def _designate(self, call_id: str, agent_id: str | None) -> list[FloorEffect]:
        if call_id not in self.router.waiting.by_id:
            raise AssignmentError("caller-gone", f"call {call_id} is not waiting")
        if agent_id is not None and agent_id not in self.specs:
            raise AssignmentError("unknown-agent", f"no agent {agent_id}")
        self.router.designate(call_id, agent_id)
        return []

    def _overflow(self, call_id: str, rung: WidenSkills | OverflowToQueue) -> list[FloorEffect]:
        if call_id not in self.router.waiting.by_id:
            return []  # ringing or gone: the rung no longer applies
        if isinstance(rung, WidenSkills):
            self.router.widen(call_id, rung.skills)
        else:
            self.router.move(call_id, rung.queue)
        return []

    def _tick(self, now: float) -> list[FloorEffect]:
        effects: list[FloorEffect] = []
        while self._wrap_due and self._wrap_due[0][0] <= now:
            due, agent_id = heapq.heappop(self._wrap_due)
            if self.agents[agent_id].wrap_up_due == due:
                effects += self._step(agent_id, I.WRAP_UP_OVER, now)
        while self._forgive_due and self._forgive_due[0][0] <= now:
            _, call_id, agent_id = heapq.heappop(self._forgive_due)
            self.router.forgive(call_id, agent_id)
        return effects

    # -- internals --------------------------------------------------------------------------

    def _route(self, now: float) -> list[FloorEffect]:
        effects: list[FloorEffect] = []
        for made in self.router.route(now):
            effects += self._offer(made.call_id, made.agent_id, made.queue, now)
        return effects

    def _offer(self, call_id: str, agent_id: str, queue: str, now: float) -> list[FloorEffect]:
        changes = self._step(agent_id, I.OFFER, now)
        endpoint = self.specs[agent_id].endpoint
        offer = Offer(call_id, agent_id, endpoint, queue, self.queues[queue].ring_timeout_s, now)
        return [offer, *changes]

    def _step(
        self,
        agent_id: str,
        event: AgentInput,
        now: float,
        *,
        reason: str | None = None,
        device: DeviceState = DeviceState.UNKNOWN,
        offer_queue: QueueSpec | None = None,
    ) -> list[FloorEffect]:
        agent = self.agents[agent_id]
        # wrap-up length from the queue of the call just ended; miss limit from the offer's
        last = self.queues.get(agent.last_queue or "")
        wrap_s = self._wrap_override.get(agent_id, last.wrap_up_s if last else 0.0)
        missed_in = offer_queue or last
        limits = Limits(wrap_s, missed_in.auto_pause_misses if missed_in else DEFAULT_MISS_LIMIT)
        routable, due = agent.routable, agent.wrap_up_due
        changes = step(agent, event, now, limits, reason=reason, device=device)
        unfit = self._unfit.get(agent_id)
        if unfit is not None and agent.state is AgentState.READY:  # ready, but not its phone
            changes += step(agent, I.PAUSE, now, limits, reason=unfit)
        for change in changes:
            self._handle_time(agent, change, now)
        if agent.routable != routable:
            if agent.routable:
                self.router.agent_available(agent_id, now)
            else:
                self.router.agent_unavailable(agent_id)
        if agent.wrap_up_due is not None and agent.wrap_up_due != due:
            heapq.heappush(self._wrap_due, (agent.wrap_up_due, agent_id))
        return list(changes)

    def _handle_time(self, agent: Agent, change: AgentChanged, now: float) -> None:
        """Handle time = talk + wrap-up, fed to the live per-agent estimate."""
        if change.new is AgentState.WRAP_UP:
            agent.wrap_started = now
            return
        if change.new in _TALKING or change.old not in (AgentState.WRAP_UP, *_TALKING):
            return  # the call goes on, or there was none
        queue, talk, started = agent.last_queue, agent.talk_s, agent.wrap_started
        agent.talk_s = agent.wrap_started = None
        if queue is not None and talk is not None:
            wrap = now - (now if started is None else started)
            self.handle_times.record(queue, agent.agent_id, talk + wrap)
