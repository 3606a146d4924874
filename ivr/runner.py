"""``MenuRunner``: the ``IvrRunner`` the daemon calls for each customer call.

It walks the caller through the menus (``ivr.menu.MenuMachine``) over the FastAGI session, runs
order-status self-service, and checks business hours (``ivr.hours``): when every queue is closed
the caller hears the closed message at once; when the picked queue is closed, after choosing.
Either way a call-back may be requested. A hang-up anywhere gives outcome ``hangup`` with the
path so far. Times come from injected clocks: ``clock`` (monotonic seconds, for the path) and
``wall_clock`` (an aware datetime, for opening hours).

The caller's language is the configured default unless the dialplan asks for another with the
AGI query (``agi://host/ivr?lang=en``), e.g. from a separate DID per language (``language``).
The call flow sets it on the channel (``CHANNEL(language)``) in the same command as the call's
own variables, before anything plays, so what Asterisk composes itself (digits, numbers) and the
sounds played by plain name come in that language too (and the caller hears the welcome one
round trip sooner).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from acd.asterisk.aio.agi_session import AgiSession, ChannelHungUp
from acd.daemon.ivr_port import IvrOutcome, OutcomeKind
from acd.logging import get_logger
from acd.settings.schema_ivr import IvrFile
from acd.settings.schema_service import Calendar
from acd.settings.settings import Settings
from ivr.agi_io import collect, play
from ivr.hours import (
    CALLBACK_OFFER_TIMEOUT_S,
    ClosedChoice,
    QueueHours,
    after_offer,
    closed_at_start,
    closed_plan,
    reachable_queues,
)
from ivr.menu import Collect, Done, MenuMachine
from ivr.order_status import OrderStatusSource, run_order_status
from ivr.prompts import choose_language

log = get_logger(__name__)

LANGUAGE_PARAM = "lang"
ORDER_QUEUE = "orders"  # where order self-service hands a caller over
ORDER_REASON = "order_status"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MenuRunner:
    def __init__(
        self,
        ivr: IvrFile,
        *,
        default_queue: str,
        hours: QueueHours,
        orders: OrderStatusSource | None,
        clock: Callable[[], float],
        wall_clock: Callable[[], dt.datetime] = _utc_now,
        order_queue: str = ORDER_QUEUE,
    ) -> None:
        self._ivr = ivr
        self._default_queue = default_queue
        self._hours = hours
        self._orders = orders
        self._clock = clock
        self._wall_clock = wall_clock
        self._order_queue = order_queue
        self._queues = reachable_queues(ivr, default_queue, order_queue)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        orders: OrderStatusSource | None,
        clock: Callable[[], float],
        wall_clock: Callable[[], dt.datetime] = _utc_now,
    ) -> MenuRunner:
        return cls(
            settings.ivr,
            default_queue=settings.default_queue,
            hours=QueueHours.from_settings(settings),
            orders=orders,
            clock=clock,
            wall_clock=wall_clock,
        )

    def language(self, session: AgiSession) -> str:
        return choose_language(
            session.params.get(LANGUAGE_PARAM), self._ivr.languages, self._ivr.default_language
        )

    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool, language: str
    ) -> IvrOutcome:
        """The IVR in ``language``, already on the channel: SAY NUMBER / SAY DIGITS and plain
        sound names (the queue-* announcements) follow the channel's language, which stays
        "en" unless set (shared README gotcha)."""
        # VIP priority is the daemon's (engine caller_priority); the menus are the same for all.
        call = _Call(MenuMachine(self._ivr, language=language,
                                 default_queue=self._default_queue), language)  # fmt: skip
        try:
            return await self._run(session, call)
        except ChannelHungUp:
            now = self._clock()
            if call.machine.result is None and call.started:
                call.machine.hangup(now)
            log.info("ivr_caller_hung_up", number=caller_number)
            return call.outcome("hangup", now)

    async def _run(self, session: AgiSession, call: _Call) -> IvrOutcome:
        closed = closed_at_start(self._hours, self._queues, self._default_queue, self._wall_clock())
        if closed is not None:
            return await self._closed(session, call, closed, self._default_queue)
        call.started = True
        command: Collect | Done = call.machine.start(self._clock())
        while isinstance(command, Collect):
            keys = await collect(session, command.prompts, timeout_s=command.timeout_s,
                                 max_digits=command.max_digits)  # fmt: skip
            now = self._clock()
            if keys.timed_out and not keys.digits:
                command = call.machine.timeout(now)
            else:
                command = call.machine.key(keys.digits, now)
        return await self._chosen(session, call, command)

    async def _chosen(self, session: AgiSession, call: _Call, done: Done) -> IvrOutcome:
        now = self._clock()
        if done.kind == "self_service":
            return await self._self_service(session, call)
        if done.kind == "callback":
            return call.outcome("callback", now, queue=done.queue)
        queue = done.queue or self._default_queue
        return await self._to_queue(session, call, queue, priority=done.priority,
                                    reason=done.reason)  # fmt: skip

    async def _to_queue(
        self,
        session: AgiSession,
        call: _Call,
        queue: str,
        *,
        priority: int | None = None,
        reason: str | None = None,
        order_number: str | None = None,
    ) -> IvrOutcome:
        closed = self._hours.closed_calendar(queue, self._wall_clock())
        if closed is not None:
            return await self._closed(session, call, closed, queue)
        return call.outcome("queue", self._clock(), queue=queue, priority=priority,
                            reason=reason, order_number=order_number)  # fmt: skip

    async def _self_service(self, session: AgiSession, call: _Call) -> IvrOutcome:
        if self._orders is None:  # no order source configured: a person can look it up
            return await self._to_queue(session, call, self._order_queue, reason=ORDER_REASON)
        entered = self._clock()
        try:
            result = await run_order_status(session, self._orders, language=call.language)
        except ChannelHungUp:
            call.step("order_status", entered, self._clock(), "hangup")
            raise
        call.step("order_status", entered, self._clock(), result.kind, attempts=result.attempts,
                  order_number=result.order_number, status=result.status)  # fmt: skip
        if result.kind == "told":
            return call.outcome("self_service", self._clock(), order_number=result.order_number)
        return await self._to_queue(session, call, self._order_queue, reason=ORDER_REASON,
                                    order_number=result.order_number)  # fmt: skip

    async def _closed(
        self, session: AgiSession, call: _Call, calendar: Calendar, queue: str
    ) -> IvrOutcome:
        plan = closed_plan(calendar, call.language, self._ivr.default_language)
        entered = self._clock()
        keyed: list[str] = []
        choice: ClosedChoice = "closed"
        try:
            if plan.offer:
                keys = await collect(session, plan.message + plan.offer,
                                     timeout_s=CALLBACK_OFFER_TIMEOUT_S, max_digits=1)  # fmt: skip
                keyed.append(keys.digits)
                choice = after_offer(keys.digits)
            else:
                await play(session, plan.message)
        except ChannelHungUp:
            call.step("closed", entered, self._clock(), "hangup", calendar=calendar.name)
            raise
        now = self._clock()
        call.step("closed", entered, now, choice, keyed, calendar=calendar.name, queue=queue)
        return call.outcome(choice, now, queue=queue)


class _Call:
    """Per-call state of the runner: the menu walk and the steps after it (self-service, closed)."""

    def __init__(self, machine: MenuMachine, language: str) -> None:
        self.machine = machine
        self.language = language
        self.started = False
        self.steps: list[dict[str, Any]] = []

    def step(
        self, node: str, entered_at: float, now: float, result: str,
        keys: list[str] | None = None, **data: Any,
    ) -> None:  # fmt: skip
        """A path entry for a step that is not a menu, shaped like the menu nodes."""
        seconds = round(max(0.0, now - entered_at), 3)
        entry = {"node": node, "entered_at": entered_at, "seconds": seconds,
                 "keys": keys or [], "result": result}  # fmt: skip
        self.steps.append(entry | data)

    def outcome(self, kind: OutcomeKind, now: float, **fields: Any) -> IvrOutcome:
        menus = self.machine.path(now) if self.started else ()
        return IvrOutcome(kind, language=self.language, path=(*menus, *self.steps), **fields)
