"""The path of one customer call through the daemon (the FastAGI ``ivr`` route).

1. Mark the call as ours (``HOTLINE_HANDLED=1``: the dialplan falls back to plain ``Queue()``
   without it) and answer.
2. Identify the caller and run the IVR (the ``ivr`` feature package, through ``IvrRunner``).
3. Queue the caller with the ACD; while they wait (``acd.daemon.waiting``) they hear music,
   their position and estimated wait, and may be moved along the queue's overflow ladder
   (wider skills, another queue, a call-back keeping their place, voicemail).
4. Publish the screen pop to the offered agent, then ``EXEC Dial`` the agent with the queue's ring
   timeout. The Dial lasts the whole conversation, so the answer is learnt from AMI (``DialEnd``
   on the caller's channel, see ``ami_watch``), with ``ANSWEREDTIME`` after the Dial as the
   fallback when AMI is down. Recording starts at that answer (``acd.daemon.recording``).
5. A missed ring returns the caller to the queue (same place) and the next agent is tried.
6. Agent hung up first, caller still there: maybe the survey (sampled at ``survey_sample_rate``).
7. Whatever happens the ACD is told, so no agent stays reserved and no caller stays queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping

from acd.asterisk.aio.agi_session import AgiError, AgiSession, ChannelHungUp
from acd.daemon.calls import CallRecord, CallRegistry
from acd.daemon.dialling import AgentDialler, FlowSettings
from acd.daemon.ivr_port import CallerLookup, CallerProfile, IvrOutcome, IvrRunner, SurveyRunner
from acd.daemon.outputs import Outputs
from acd.daemon.recording import CallRecording
from acd.daemon.screen_pop import identify, screen_pop
from acd.daemon.service import AcdService
from acd.daemon.transfers import resume_after_transfer
from acd.daemon.waiting import HandedBack, LeftQueue, Waiter
from acd.engine.model import VIP_PRIORITY_BOOST, QueueSpec, WaitingCall
from acd.logging import bind_call, get_logger
from acd.settings import names

log = get_logger(__name__)
HAND_BACK_TIMEOUT_S = 1.0


class CallFlow:
    def __init__(
        self,
        acd: AcdService,
        registry: CallRegistry,
        outputs: Outputs,
        ivr: IvrRunner,
        settings: FlowSettings,
        *,
        clock: Callable[[], float],
        callers: CallerLookup | None = None,
        lookup_timeout_s: float = 1.0,
        queues: Mapping[str, QueueSpec] | None = None,
        recording: CallRecording | None = None,
        survey: SurveyRunner | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._queues = queues or {}
        self._waiter = Waiter(acd, outputs, self._queues, settings.waiting, clock=clock)
        self._dialler = AgentDialler(
            acd,
            registry,
            outputs,
            settings,
            clock=clock,
            recording=recording,
            survey=survey,
            draw=draw,
        )
        self._recording = recording
        self._acd = acd
        self._callers = callers
        self._lookup_timeout_s = lookup_timeout_s
        self._registry = registry
        self._outputs = outputs
        self._ivr = ivr
        self._settings = settings
        self._clock = clock

    async def __call__(self, session: AgiSession) -> None:
        env = session.env
        if self._waiter.draining:  # stopping: leave HOTLINE_HANDLED unset, the dialplan queues
            log.info("stopping_call_left_to_dialplan", channel=env.channel)
            return
        now = self._clock()
        # The call id is the caller channel's Uniqueid, as the dialplan sets HOTLINE_CALL_ID.
        call_id = env.uniqueid or uuid.uuid4().hex
        number = env.callerid or (env.args[1] if len(env.args) > 1 else "")
        call = CallRecord(call_id, env.uniqueid, env.channel, number, env.calleridname or None, now)
        await self.serve(session, call, self._handle)

    async def serve(
        self,
        session: AgiSession,
        call: CallRecord,
        handle: Callable[[AgiSession, CallRecord], Awaitable[None]],
    ) -> None:
        """One customer leg from taking it to its end, whatever happens in ``handle`` (the IVR
        path here, the call-back leg in ``acd.daemon.callback_flow``): the ACD, the timeline and
        the registry always hear how it ended."""
        call_id = call.call_id
        self._registry.open(call)
        with bind_call(call_id=call_id, uniqueid=call.uniqueid):
            try:
                await session.set_variable(names.VAR_HANDLED, "1")
                await session.set_variable(names.VAR_CALL_ID, call_id)
                await session.answer()
                self._outputs.call_event(call, "arrived", call.arrived_at)
                await handle(session, call)
            except ChannelHungUp:
                self._finish(call, "caller")
            except (AgiError, OSError) as exc:
                log.warning("fastagi_session_lost", call_id=call_id, error=str(exc))
                await self._to_dialplan(session, call)
                self._finish(call, "system", failed=True)
            except asyncio.CancelledError:
                await self._to_dialplan(session, call)
                self._finish(call, "system", failed=True)
                raise
            except Exception:
                log.exception("call_flow_failed", call_id=call_id)
                await self._to_dialplan(session, call)
                self._finish(call, "system", failed=True)
            else:
                self._finish(call, call.hung_up_by or "system")
            finally:
                # Whatever happened (a lost connection mid-talk, a bug, a cancelled session),
                # nothing may stay queued or engaged for this call: no agent left on_call.
                self._acd.caller_left(call_id)
                self._registry.close(call_id)
                if self._recording is not None:
                    self._recording.call_over(call)

    async def _to_dialplan(self, session: AgiSession, call: CallRecord) -> None:
        """Best effort, when the daemon gives up on a caller nobody answered yet (a bug, an
        error reply, a stop): clear HOTLINE_HANDLED so the dialplan queues the caller with its
        plain Queue() instead of hanging up. The command line is on the wire before any reply
        is awaited, so even a session being torn down still delivers it."""
        talking_or_over = call.leg_answered_at is not None or call.ended_at is not None
        if talking_or_over or session.closed or session.hung_up:
            return  # (a transferred caller waiting again is neither: it is handed back too)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            async with asyncio.timeout(HAND_BACK_TIMEOUT_S):
                await session.set_variable(names.VAR_HANDLED, "")
                call.outcome = call.outcome or "fallback"

    async def _handle(self, session: AgiSession, call: CallRecord) -> None:
        profile = await identify(self._callers, call, self._lookup_timeout_s)
        call.preferred_agent = profile.last_agent_id if profile is not None else None
        outcome = await self._ivr(session, caller_number=call.number, vip=call.vip)
        call.ivr_path = [dict(node) for node in outcome.path]
        call.reason = outcome.reason
        call.order_number = outcome.order_number
        call.language = outcome.language
        self._outputs.call_event(
            call, "ivr", self._clock(), result=outcome.kind, reason=outcome.reason
        )
        if outcome.kind == "hangup":
            call.outcome = "ivr_hangup"
            call.hung_up_by = "caller"
            return
        if outcome.kind == "self_service":
            call.outcome = "self_service"
            return
        if outcome.kind == "callback":  # asked for in the IVR (e.g. when closed): first slot
            call.queue, call.outcome = outcome.queue or self._settings.default_queue, "callback"
            if not self._waiter.book_callback(call, self._clock(), 0.0, None):
                log.warning("callback_no_slot", call_id=call.call_id, why="none in the coming days")
            return
        if outcome.kind == "closed":
            call.outcome = "closed"
            return
        await self._queue_and_connect(session, call, outcome, profile)
        if call.outcome == "answered" and call.hung_up_by == "agent":
            await self._dialler.maybe_survey(session, call)

    async def _queue_and_connect(
        self,
        session: AgiSession,
        call: CallRecord,
        outcome: IvrOutcome,
        profile: CallerProfile | None,
    ) -> None:
        queue = outcome.queue or self._settings.default_queue
        priority = outcome.priority
        if priority is None:
            priority = self._settings.queue_priority.get(queue, 0)
        if call.vip:
            priority += VIP_PRIORITY_BOOST
        await self.queue_and_connect(session, call, queue, priority, profile)

    async def queue_and_connect(
        self,
        session: AgiSession,
        call: CallRecord,
        queue: str,
        priority: int,
        profile: CallerProfile | None,
        *,
        place_since: float | None = None,
        overflow: bool = True,
        designated: str | None = None,
    ) -> None:
        """Queue the caller, wait (music, announcements, the overflow ladder unless
        ``overflow`` is False) and ring agents until one answers or the caller leaves.
        ``place_since``: the caller's place in the queue dates from then (a call-back keeps
        the place its caller held when booking it); ``designated``: kept for that agent (a
        transfer to a named agent). After a transfer the caller queues again (``transfers``)."""
        call.queue, call.priority = queue, priority
        await session.set_variable(names.VAR_QUEUE, queue)
        now = self._clock()
        if not call.transfers:  # KPIs (ASA, service level) count from the first queue entry
            call.queued_at = now
        arrived = now if place_since is None else place_since
        ticket = await self._acd.enqueue(
            WaitingCall(
                call.call_id,
                queue,
                arrived,
                priority,
                preferred_agent=call.preferred_agent,
                designated_agent=designated,
            )
        )
        self._outputs.call_event(call, "queued", now, priority=priority)
        state = self._waiter.state(now)
        if not overflow:
            spec = self._queues.get(queue)
            state.rungs_taken = len(spec.overflow) if spec is not None else 0
        try:
            while True:
                offer = await self._waiter.until_offer(session, call, ticket, state)
                if isinstance(offer, LeftQueue):
                    return
                if isinstance(offer, HandedBack):  # HOTLINE_HANDLED cleared: the dialplan queues
                    call.outcome, call.hung_up_by = "fallback", "system"
                    log.info("call_handed_back_to_dialplan", call_id=call.call_id)
                    return
                self._outputs.publish(
                    screen_pop(
                        self._settings.mqtt_prefix, offer.agent_id, self._clock(), call, profile
                    )
                )
                if await self._dialler.ring(
                    session, call, offer.agent_id, offer.endpoint, offer.ring_timeout_s
                ):
                    break
        finally:
            if call.answered_at is None:
                self._acd.caller_left(call.call_id)
        gone, now = session.hung_up, self._clock()
        to = resume_after_transfer(call, now, self._outputs, self._settings, caller_gone=gone)
        if to is not None:  # transferred: queue again; the last leg decides the outcome
            await self.queue_and_connect(
                session, call, to.queue, to.priority, profile, designated=to.designated_agent
            )

    def hand_back(self) -> None:
        """The daemon stops: callers still waiting (and new ones) go to the dialplan's Queue()."""
        self._waiter.draining = True

    @property
    def draining(self) -> bool:
        return self._waiter.draining

    @property
    def callers_waiting(self) -> int:
        return self._waiter.waiting

    async def no_callers_waiting(self) -> None:
        await self._waiter.none_waiting.wait()

    def _finish(self, call: CallRecord, hung_up_by: str, *, failed: bool = False) -> None:
        now = self._clock()
        if call.ended_at is None:
            call.ended_at = now
        if call.hung_up_by is None and hung_up_by in ("caller", "agent", "system"):
            call.hung_up_by = hung_up_by  # type: ignore[assignment]
        if call.outcome is None:
            if call.queued_at is not None and call.answered_at is None:
                call.outcome = "abandoned" if not failed else "failed"
            else:
                call.outcome = "failed" if failed else "ivr_hangup"
        if call.queued_at is not None and call.answered_at is None:
            self._acd.caller_left(call.call_id)
        kind = "abandoned" if call.outcome == "abandoned" else "ended"
        self._outputs.call_event(
            call,
            kind,
            call.ended_at,
            agent_id=call.agent_id,
            outcome=call.outcome,
            hung_up_by=call.hung_up_by,
        )
        self._outputs.call_finished(call)
