"""The ACD owner task: the only code that touches the floor.

Call handlers, the AMI watcher, agent controls and supervisors never touch the floor directly;
they put a request in the inbox and (when they need an answer) await its future. One task applies
requests in arrival order with the time read once per request, fires the floor's timers, and
hands the effects to the outputs. So the floor needs no locks and its decisions are reproducible.
The daemon gives it the steady clock (``acd.daemon.clocks``): a wall-clock step must not fire or
delay a wrap-up timer. Offers go to the waiting call's own inbox (``enqueue``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from acd.engine.agent_fsm import AgentInput
from acd.engine.floor import Floor
from acd.engine.floor_effects import AgentChanged, FloorEffect, Offer
from acd.engine.model import OverflowToQueue, WaitingCall, WidenSkills
from acd.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class FloorOutputs(Protocol):
    """Where effects go besides the waiting caller: MQTT, storage, the wallboard."""

    def agent_changed(self, change: AgentChanged) -> None: ...

    def floor_changed(self, floor: Floor, now: float) -> None: ...


@dataclass(frozen=True, slots=True)
class _Request:
    apply: Callable[[Floor, float], object]
    reply: asyncio.Future[object] | None


class AcdService:
    def __init__(self, floor: Floor, outputs: FloorOutputs, *, clock: Callable[[], float]) -> None:
        self._floor = floor
        self._outputs = outputs
        self._clock = clock
        self._inbox: asyncio.Queue[_Request] = asyncio.Queue()
        # call id -> the call's own offer inbox, from enqueue until caller_left is applied
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
                    request = await self._inbox.get()
            except TimeoutError:
                request = None
            now = self._clock()
            effects: list[FloorEffect] = []
            if request is not None:
                effects += self._apply(request, now)
            try:
                deadline = floor.next_deadline()
                if deadline is not None and deadline <= now:
                    effects += floor.tick(now)
                self._dispatch(effects, now)
            except Exception:  # a bug must not end the task that every call depends on
                log.exception("owner_task_step_failed", why="timers or outputs failed; carrying on")

    def _apply(self, request: _Request, now: float) -> list[FloorEffect]:
        self.requests_applied += 1
        try:
            result = request.apply(self._floor, now)
        except Exception as exc:
            if request.reply is not None and not request.reply.done():
                request.reply.set_exception(exc)
            else:
                log.warning("floor_request_failed", error=repr(exc))
            return []
        if request.reply is not None and not request.reply.done():
            request.reply.set_result(result)
        if isinstance(result, list):
            return [e for e in result if isinstance(e, Offer | AgentChanged)]
        return []

    def _dispatch(self, effects: list[FloorEffect], now: float) -> None:
        for effect in effects:
            if isinstance(effect, Offer):
                inbox = self._offers.get(effect.call_id)
                if inbox is None:  # cannot happen: caller_left removes the caller from the floor
                    log.error("offer_without_caller", call_id=effect.call_id)
                    self._post(functools.partial(_release, effect.call_id))
                else:
                    inbox.put_nowait(effect)
            else:
                self._outputs.agent_changed(effect)
        self._outputs.floor_changed(self._floor, now)

    # -- requests ---------------------------------------------------------------------------

    def _post(self, apply: Callable[[Floor, float], object]) -> None:
        self._inbox.put_nowait(_Request(apply, None))

    async def _ask(self, apply: Callable[[Floor, float], T]) -> T:
        reply: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(_Request(apply, reply))
        result: T = await reply  # type: ignore[assignment]
        return result

    async def enqueue(self, call: WaitingCall, offers: asyncio.Queue[Offer]) -> None:
        """Queue the caller; the floor's offers for it go to ``offers`` (the call's own inbox,
        ``acd.daemon.calls.CallSignals``) until ``caller_left``."""
        self._offers[call.call_id] = offers
        await self._ask(lambda f, now: f.caller_arrived(call, now))

    def offer_answered(self, call_id: str) -> None:
        self._post(lambda f, now: f.offer_answered(call_id, now))

    def offer_failed(self, call_id: str) -> None:
        self._post(lambda f, now: f.offer_failed(call_id, now))

    def call_ended(self, call_id: str) -> None:
        self._post(lambda f, now: f.call_ended(call_id, now))

    def caller_left(self, call_id: str) -> None:
        """The daemon is done with the caller (the call flow says so once, at the end of every
        call): release the caller, any ringing agent, an agent still talking. Offers made before
        this is applied go to the call's inbox and are released by it; none can come after."""

        def left(floor: Floor, now: float) -> list[FloorEffect]:
            self._offers.pop(call_id, None)
            return floor.caller_left(call_id, now)

        self._post(left)

    async def agent_input(
        self, agent_id: str, event: AgentInput, reason: str | None = None
    ) -> None:
        if agent_id not in self._floor.specs:
            raise KeyError(f"unknown agent {agent_id!r}")
        await self._ask(lambda f, now: f.agent_input(agent_id, event, now, reason))

    def device_state(self, endpoint: str, reachable: bool) -> None:
        self._post(lambda f, now: f.device_state(endpoint, reachable, now))

    async def designate(self, call_id: str, agent_id: str | None) -> None:
        """Supervisor: keep a waiting caller for one agent; ``AssignmentError`` with the reason."""
        await self._ask(lambda f, now: f.designate(call_id, agent_id, now))

    async def assign(self, call_id: str, agent_id: str) -> None:
        """Supervisor hand-off; raises ``AssignmentError`` with the reason."""
        await self._ask(lambda f, now: f.assign(call_id, agent_id, now))

    async def estimate_wait(self, call_id: str) -> float | None:
        return await self._ask(lambda f, _now: f.estimate_wait(call_id))

    async def wait_status(self, call_id: str) -> tuple[int, float | None] | None:
        """(callers ahead, estimated wait in s) of a waiting caller; None when not waiting."""

        def status(f: Floor, _now: float) -> tuple[int, float | None] | None:
            if call_id not in f.router.waiting.by_id:
                return None
            return f.router.position(call_id), f.estimate_wait(call_id)

        return await self._ask(status)

    async def overflow(self, call_id: str, step: WidenSkills | OverflowToQueue) -> None:
        """Widen the waiting caller's skills or move it to the overflow queue (same place)."""
        await self._ask(lambda f, now: f.overflow(call_id, step, now))

    async def read(self, query: Callable[[Floor, float], T]) -> T:
        """Run a read-only query in the owner task (snapshots for the wallboard, the CLI)."""
        return await self._ask(query)


def _release(call_id: str, floor: Floor, now: float) -> list[FloorEffect]:
    return floor.caller_left(call_id, now)
