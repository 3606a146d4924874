"""The ACD owner task: the only code that touches the floor.

Call handlers, the AMI watcher, agent controls and supervisors never touch the floor directly:
they post a floor input (``acd.engine.floor_inputs``) to the inbox and, when they need to know
it was accepted, await its reply. One task applies the inputs in arrival order with the time
read once per input, fires the floor's timers (``Tick``), and hands the effects to the outputs.
So the floor needs no locks, and its inputs, journalled one line each, replay to the same day.
The daemon gives it the steady clock (``acd.daemon.clocks``): a wall-clock step must not fire or
delay a wrap-up timer. Offers go to the waiting call's own inbox (``enqueue``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from acd.engine import journal
from acd.engine.agent import DeviceState
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged, FloorEffect, Offer, Refused
from acd.engine.floor_inputs import (
    AgentAction,
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
    Overflow,
    PhoneFitness,
    RingAnswered,
    RingFailed,
    Tick,
)
from acd.engine.model import OverflowToQueue, WaitingCall, WidenSkills
from acd.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")
Query = Callable[[Floor, float], T]


class FloorOutputs(Protocol):
    """Where effects go besides the waiting caller: MQTT, storage, the wallboard."""

    def agent_changed(self, change: AgentChanged) -> None: ...

    def floor_changed(self, floor: Floor, now: float) -> None: ...


@dataclass(frozen=True, slots=True)
class _Input:
    inp: FloorInput
    # None: nobody waits (errors are logged); else the batch requests the floor refused
    reply: asyncio.Future[tuple[Refused, ...]] | None


@dataclass(frozen=True, slots=True)
class _Read:
    query: Query[object]
    reply: asyncio.Future[object]


class AcdService:
    def __init__(
        self,
        floor: Floor,
        outputs: FloorOutputs,
        *,
        clock: Callable[[], float],
        journal_sink: Callable[[str], None] | None = None,
    ) -> None:
        self._floor = floor
        self._outputs = outputs
        self._clock = clock
        self._journal = journal_sink  # every applied input, one line each (acd.engine.journal)
        self._inbox: asyncio.Queue[_Input | _Read] = asyncio.Queue()
        # call id -> the call's own offer inbox, from enqueue until its CallerLeft is applied
        self._offers: dict[str, asyncio.Queue[Offer]] = {}
        self.requests_applied = 0

    # -- the owner task ---------------------------------------------------------------------

    async def run(self) -> None:
        floor = self._floor
        while True:
            deadline = floor.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self._clock())
            try:
                async with asyncio.timeout(timeout):
                    item = await self._inbox.get()
            except TimeoutError:
                item = None
            now = self._clock()
            effects: list[FloorEffect] = []
            if isinstance(item, _Read):
                self._read(item, now)
            elif item is not None:
                effects += self._apply(item.inp, item.reply, now)
            try:
                deadline = floor.next_deadline()
                if deadline is not None and deadline <= now:
                    effects += self._apply(Tick(), None, now)
                self._dispatch(effects, now)
            except Exception:  # a bug must not end the task that every call depends on
                log.exception("owner_task_step_failed", why="timers or outputs failed; carrying on")

    def _apply(
        self, inp: FloorInput, reply: asyncio.Future[tuple[Refused, ...]] | None, now: float
    ) -> list[FloorEffect]:
        self.requests_applied += 1
        if self._journal is not None:
            self._journal(journal.encode(inp, now))
        if isinstance(inp, CallerLeft):  # offers made before this went to the inbox; none after
            self._offers.pop(inp.call_id, None)
        try:
            effects = self._floor.handle(inp, now)
        except Exception as exc:
            if reply is not None and not reply.done():
                reply.set_exception(exc)
            else:
                log.warning("floor_input_refused", input=type(inp).__name__, error=repr(exc))
            return []
        if reply is not None and not reply.done():
            reply.set_result(tuple(e for e in effects if isinstance(e, Refused)))
        return effects

    def _read(self, read: _Read, now: float) -> None:
        try:
            result = read.query(self._floor, now)
        except Exception as exc:
            if not read.reply.done():
                read.reply.set_exception(exc)
            return
        if not read.reply.done():
            read.reply.set_result(result)

    def _dispatch(self, effects: list[FloorEffect], now: float) -> None:
        for effect in effects:
            if isinstance(effect, Offer):
                inbox = self._offers.get(effect.call_id)
                if inbox is None:  # cannot happen: CallerLeft removes the caller from the floor
                    log.error("offer_without_caller", call_id=effect.call_id)
                    self.post(CallerLeft(effect.call_id))
                else:
                    inbox.put_nowait(effect)
            elif isinstance(effect, AgentChanged):
                self._outputs.agent_changed(effect)
        self._outputs.floor_changed(self._floor, now)

    # -- inputs -----------------------------------------------------------------------------

    def post(self, inp: FloorInput) -> None:
        """Apply ``inp`` soon; a refusal is only logged."""
        self._inbox.put_nowait(_Input(inp, None))

    async def ask(self, inp: FloorInput) -> tuple[Refused, ...]:
        """Apply ``inp`` and wait; a refusal raises here (``InvalidTransition``,
        ``AssignmentError``, ``UnknownAgent``), except an ``AgentBatch``'s: those are returned."""
        reply: asyncio.Future[tuple[Refused, ...]] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(_Input(inp, reply))
        return await reply

    async def enqueue(self, call: WaitingCall, offers: asyncio.Queue[Offer]) -> None:
        """Queue the caller; the floor's offers for it go to ``offers`` (the call's own inbox,
        ``acd.daemon.calls.CallSignals``) until ``caller_left``."""
        self._offers[call.call_id] = offers
        await self.ask(CallerArrived(call))

    def offer_answered(self, call_id: str) -> None:
        self.post(RingAnswered(call_id))

    def offer_failed(self, call_id: str, status: str = "NOANSWER") -> None:
        self.post(RingFailed(call_id, status))

    def call_ended(self, call_id: str) -> None:
        self.post(CallEnded(call_id))

    def caller_left(self, call_id: str) -> None:
        """The daemon is done with the caller (the call flow says so once, at the end of every
        call): release the caller, any ringing agent, an agent still talking."""
        self.post(CallerLeft(call_id))

    async def agent_input(
        self,
        agent_id: str,
        action: AgentAction,
        reason: str | None = None,
        *,
        forced: bool = False,
    ) -> None:
        await self.ask(AgentRequest(agent_id, action, reason, forced))

    async def agents_input(
        self, agent_ids: Iterable[str], action: AgentAction, *, forced: bool = False
    ) -> tuple[Refused, ...]:
        """The same request for many agents as one floor input (bulk log-in/out): one routing
        pass, one burst of outputs. Returns the agents the floor refused, with why."""
        requests = tuple(AgentRequest(a, action, None, forced) for a in agent_ids)
        return await self.ask(AgentBatch(requests))

    def device_state(self, device: str, state: DeviceState) -> None:
        self.post(DeviceStateChanged(device, state))

    def phone_fitness(self, agent_id: str, unfit_reason: str | None) -> None:
        """The agent's phone became unfit to take calls (with the pause reason) or fit again."""
        self.post(PhoneFitness(agent_id, unfit_reason))

    def devices_unknown(self) -> None:
        """The AMI link is down: nothing known about any phone until the resync."""
        self.post(DeviceStatesUnknown())

    async def designate(self, call_id: str, agent_id: str | None) -> None:
        """Supervisor: keep a waiting caller for one agent; ``AssignmentError`` with the reason."""
        await self.ask(Designate(call_id, agent_id))

    async def assign(self, call_id: str, agent_id: str) -> None:
        """Supervisor hand-off; raises ``AssignmentError`` with the reason."""
        await self.ask(Assign(call_id, agent_id))

    async def overflow(self, call_id: str, step: WidenSkills | OverflowToQueue) -> None:
        """Widen the waiting caller's skills or move it to the overflow queue (same place)."""
        await self.ask(Overflow(call_id, step))

    # -- queries ----------------------------------------------------------------------------

    async def read(self, query: Query[T]) -> T:
        """Run a read-only query in the owner task (snapshots for the wallboard, the CLI)."""
        reply: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(_Read(query, reply))
        result: T = await reply  # type: ignore[assignment]
        return result

    async def estimate_wait(self, call_id: str) -> float | None:
        return await self.read(lambda f, _now: f.estimate_wait(call_id))

    async def wait_status(self, call_id: str) -> tuple[int, float | None] | None:
        """(callers ahead, estimated wait in s) of a waiting caller; None when not waiting."""

        def status(f: Floor, _now: float) -> tuple[int, float | None] | None:
            if call_id not in f.router.waiting.by_id:
                return None
            return f.router.position(call_id), f.estimate_wait(call_id)

        return await self.read(status)
