"""The FastAGI ``ivr`` route: a new customer call, through the IVR, then queued and connected.

Part of the call flow (the call's own task, the only writer of its call): it takes the call,
identifies the caller, runs the IVR (the ``ivr`` feature package, through ``IvrRunner``) and
acts on its outcome: self-service, closed, a call-back booked in the first slot with room, or a
queue, where ``CallFlow`` waits, rings and connects; the survey follows when the agent hung up.
"""

from __future__ import annotations

import uuid
from types import MappingProxyType

from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.call_flow.flow import CallFlow
from acd.daemon.call_steps import Arrival, CallbackBooked, Identified, IvrFinished, Step
from acd.daemon.callback_book import CallbackBook
from acd.daemon.calls import Call
from acd.daemon.clocks import Clocks
from acd.daemon.dialling import FlowSettings
from acd.daemon.ivr_port import CallerLookup, IvrRunner
from acd.daemon.outputs import Outputs
from acd.daemon.screen_pop import identify
from acd.engine.model import VIP_PRIORITY_BOOST
from acd.logging import get_logger

log = get_logger(__name__)


class IvrRoute:
    def __init__(
        self,
        flow: CallFlow,
        outputs: Outputs,
        ivr: IvrRunner,
        settings: FlowSettings,
        *,
        book: CallbackBook,
        clocks: Clocks,
        callers: CallerLookup | None = None,
        lookup_timeout_s: float = 1.0,
    ) -> None:
        self._flow = flow
        self._outputs = outputs
        self._ivr = ivr
        self._settings = settings
        self._book = book
        self._clocks = clocks
        self._callers = callers
        self._lookup_timeout_s = lookup_timeout_s

    async def __call__(self, session: AgiSession) -> None:
        env = session.env
        if self._flow.draining:  # stopping: HOTLINE_DONE unset, the dialplan resumes or queues
            log.info("stopping_call_left_to_dialplan", channel=env.channel)
            return
        number = env.callerid or (env.args[1] if len(env.args) > 1 else "")
        await self.take(session, number=number, arrived_at=self._clocks.wall())

    async def take(
        self, session: AgiSession, *, number: str, arrived_at: float, first_seq: int = 0
    ) -> None:
        """The IVR path for this channel's caller; ``first_seq`` > 0: a caller resumed before
        any queue (their daemon died in the IVR), continuing the same call's row."""
        env = session.env
        # The call id is the caller channel's Uniqueid, as the dialplan sets HOTLINE_CALL_ID.
        call_id = env.uniqueid or uuid.uuid4().hex
        name = env.calleridname or None
        arrival = Arrival(call_id, env.uniqueid, env.channel, number, name, arrived_at)
        language = self._ivr.language(session)

        async def handle(session: AgiSession, call: Call) -> None:
            await self._handle(session, call, language)

        await self._flow.serve(
            session, Call(arrival, first_seq=first_seq), handle, language=language
        )

    async def _handle(self, session: AgiSession, call: Call, language: str) -> None:
        wall = self._clocks.wall
        profile = await identify(self._callers, call.facts.number, self._lookup_timeout_s)
        if profile is not None:
            self._add(call, Identified(wall(), profile.name, profile.vip, profile.last_agent_id))
        outcome = await self._ivr(
            session, caller_number=call.facts.number, vip=call.state.vip, language=language
        )
        queue = outcome.queue or self._settings.default_queue
        if outcome.kind == "queue":  # on the way to the ring: its outputs after the Dial
            self._outputs.hold_steps(call)
        path = tuple(MappingProxyType(dict(node)) for node in outcome.path)
        self._add(
            call,
            IvrFinished(
                wall(),
                outcome.kind,
                queue,
                path,
                reason=outcome.reason,
                order_number=outcome.order_number,
                language=outcome.language,
            ),
        )
        if outcome.kind in ("hangup", "self_service", "closed"):
            return
        if outcome.kind == "callback":  # asked for in the IVR (e.g. when closed): first slot
            slot = await self._book.book(wall(), 0.0)
            if slot is None:
                log.warning("callback_no_slot", call_id=call.call_id, why="none in coming days")
            else:
                self._add(call, CallbackBooked(wall(), slot.callback_id, queue, slot.due_at, None))
            return
        priority = outcome.priority
        if priority is None:
            priority = self._settings.queue_priority.get(queue, 0)
        if call.state.vip:
            priority += VIP_PRIORITY_BOOST
        await self._flow.queue_and_connect(session, call, queue, priority, profile)
        await self._flow.survey(session, call)

    def _add(self, call: Call, step: Step) -> None:
        """This task owns the call like ``CallFlow`` does: the same two effects of a step."""
        call.add_step(step)
        self._outputs.call_step(call, step)
