"""The customer's leg of a call-back (the FastAGI ``callback`` route).

The scheduler (``acd.daemon.callbacks``) originated the customer's number into the
``hotline-callback`` context; once they answer, the channel runs
``AGI(agi://.../callback,${HOTLINE_CALLBACK_ID})``. Here the customer is queued at the place they
held when booking (the router orders by priority then arrival, and the arrival is the booking
time), hears music like any waiting caller, and is put through by ``CallFlow``'s own waiting and
Dial path. No IVR and no overflow ladder: they were called back to talk to an agent. The booking
is ``done`` when an agent answered (or the stopping daemon handed the customer back to the
dialplan, which resumes them at a daemon or queues them with its ``Queue()``); otherwise the
scheduler counts a failed attempt. Like the IVR path, this task owns its call: it adds the
``CallbackLeg`` step, then ``CallFlow`` runs the rest in the same task.

The id is read from the channel variable the Originate set (``GET VARIABLE``): it is the value
the dialplan passes as the first argument too, and it does not depend on the dialplan's arguments.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping

from acd.asterisk.aio.agi_session import AgiError, AgiSession, ChannelHungUp
from acd.daemon.call_flow import CallFlow
from acd.daemon.call_steps import Arrival, CallbackLeg, Identified, Step
from acd.daemon.callback_policy import Booking
from acd.daemon.callbacks import CallbackScheduler
from acd.daemon.calls import Call
from acd.daemon.ivr_port import CallerLookup
from acd.daemon.outputs import Outputs
from acd.daemon.screen_pop import identify
from acd.engine.model import VIP_PRIORITY_BOOST
from acd.logging import get_logger
from acd.settings import names

log = get_logger(__name__)


class CallbackFlow:
    def __init__(
        self,
        flow: CallFlow,
        scheduler: CallbackScheduler,
        outputs: Outputs,
        queue_priority: Mapping[str, int],
        *,
        clock: Callable[[], float],
        callers: CallerLookup | None = None,
        lookup_timeout_s: float = 1.0,
    ) -> None:
        self._flow = flow
        self._scheduler = scheduler
        self._outputs = outputs
        self._queue_priority = queue_priority
        self._clock = clock
        self._callers = callers
        self._lookup_timeout_s = lookup_timeout_s

    async def __call__(self, session: AgiSession) -> None:
        env = session.env
        if self._flow.draining:  # stopping: the dialplan's fallback queues the customer
            log.info("stopping_callback_leg_left_to_dialplan", channel=env.channel)
            return
        try:
            callback_id = await session.get_variable(names.VAR_CALLBACK_ID) or ""
        except (AgiError, OSError) as exc:
            log.warning("callback_leg_fastagi_session_lost", channel=env.channel, error=str(exc))
            return
        booking = self._scheduler.claim(callback_id)
        if booking is None:
            # Not a dial of ours in progress (an earlier run's, or a stray channel): end it
            # rather than queue an unknown caller; HOTLINE_DONE=1 stops the resume and fallback.
            log.warning("callback_leg_unknown", channel=env.channel, callback_id=callback_id)
            with contextlib.suppress(AgiError, OSError, ChannelHungUp):
                await session.set_variable(names.VAR_DONE, "1")
                await session.hangup()
            return
        call = Call(
            Arrival(
                env.uniqueid or uuid.uuid4().hex,
                env.uniqueid,
                env.channel,
                booking.number,  # the leg's caller id is the hotline's own number
                None,
                self._clock(),
            )
        )
        try:
            await self._flow.serve(session, call, lambda s, c: self._connect(s, c, booking))
        finally:
            # Handed back to the dialplan's Queue() (the daemon stops): they wait there with
            # the booked queue's agents, so dialling them again later would be a second call.
            state = call.state
            served = state.answered_at is not None or state.outcome == "fallback"
            self._scheduler.finished(callback_id, served=served)

    async def _connect(self, session: AgiSession, call: Call, booking: Booking) -> None:
        leg = CallbackLeg(self._clock(), booking.callback_id, booking.call_id, booking.attempts)
        self._add(call, leg)
        profile = await identify(self._callers, booking.number, self._lookup_timeout_s)
        if profile is not None:
            found = Identified(self._clock(), profile.name, profile.vip, profile.last_agent_id)
            self._add(call, found)
        priority = self._queue_priority.get(booking.queue, 0)
        if call.state.vip:
            priority += VIP_PRIORITY_BOOST
        await self._flow.queue_and_connect(
            session,
            call,
            booking.queue,
            priority,
            profile,
            place_since=booking.requested_at,
            overflow=False,
        )

    def _add(self, call: Call, step: Step) -> None:
        """This task owns the call like ``CallFlow`` does: the same two effects of a step."""
        call.add_step(step)
        self._outputs.call_step(call, step)
