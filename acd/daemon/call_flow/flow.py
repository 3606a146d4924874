"""The path of one customer leg through the daemon, from taking it to its end: the call's owner.

This task is the only writer of its call: it adds every step to the call's timeline
(``Call.add_step``); the other parts return values or send the call signals (``CallSignals``).

1. Store the call id and arrival on the channel (a resuming daemon reads them), with the
   caller's language when the route has one (the IVR's), in one command; then answer, unless
   the dialplan did (``?answered=1``, the rendered one).
2. Run the route's part (``IvrRoute``: identify the caller, the IVR; ``CallbackFlow``: the
   call-back's customer leg).
3. Queue the caller with the ACD and store their place on the channel (``EXEC MSet``) before
   they wait (``acd.daemon.waiting``): music, their position and estimated wait, maybe the
   queue's overflow ladder (wider skills, another queue, a call-back keeping their place).
4. Publish the screen pop to the offered agent and wait (briefly) until the broker has it; then
   ``EXEC Dial`` the agent with the queue's ring timeout. Its options (``acd.daemon.predial``)
   start the leg's recording on the agent's channel when it answers (``U()``: MixMonitor, option
   ``b``) and, when an agent was free at queue entry, store the place before the ring instead of
   the ``MSet`` (``B()``). The Dial lasts the whole conversation: meanwhile this task waits for
   the answer (AMI ``DialEnd``, see ``ami_watch``; ``ANSWEREDTIME`` after the Dial when AMI is
   down) and answers requests (a transfer, recording pause notes).
5. A missed ring returns the caller to the queue (same place) and the next agent is tried; a
   transfer ends the leg and the caller queues again.
6. Agent hung up first, caller still there: maybe the survey (the queue's sample rate).
7. Finished with the caller (self-served, call-back booked, closed): set ``HOTLINE_DONE=1``.
   After an answered last Dial the rendered dialplan needs none (``DIALSTATUS=ANSWER`` ends the
   caller there; a transfer clears it when the caller queues again). Without either (the
   daemon died, gave up or stops) the dialplan offers the caller to a daemon again (route
   ``resume``, ``resume_route.py``), then to its plain ``Queue()``.
8. Whatever happens, the ACD is told once that the caller left (no agent stays reserved, no
   caller stays queued); the FastAGI session ends, the recording is catalogued, and the call's
   final row is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping

from acd.asterisk.aio.agi_session import AgiError, AgiSession, ChannelHungUp
from acd.daemon.call_flow.conversation import Conversation
from acd.daemon.call_steps import (
    Catalogued,
    Ended,
    HandedBack,
    Queued,
    Step,
    Transferred,
)
from acd.daemon.callback_book import CallbackBook
from acd.daemon.calls import (
    Call,
    CallRegistry,
)
from acd.daemon.clocks import Clocks
from acd.daemon.dialling import AgentDialler, FlowSettings
from acd.daemon.ivr_port import CallerProfile, SurveyRunner
from acd.daemon.offer_interrupt import Interrupter
from acd.daemon.outputs import Outputs
from acd.daemon.predial import Place
from acd.daemon.recording import CallRecording
from acd.daemon.recording_control import RecordingControl
from acd.daemon.service import AcdService
from acd.daemon.transfers import AgentLeg, Requeue, requeue_for
from acd.daemon.waiting import LeftQueue, ToDialplan, Waiter
from acd.engine.floor_effects import Offer
from acd.engine.model import QueueSpec, WaitingCall
from acd.logging import bind_call, get_logger
from acd.settings import names
from acd.storage.models.calls import HungUpBy

_ANSWERED_KEY, _, _ANSWERED_VALUE = names.QUERY_ANSWERED.partition("=")
log = get_logger(__name__)
SESSION_END_S = 5.0  # how long Asterisk may take to close a session we ended


class CallFlow:
    def __init__(
        self,
        acd: AcdService,
        registry: CallRegistry,
        outputs: Outputs,
        settings: FlowSettings,
        *,
        book: CallbackBook,
        clocks: Clocks,
        queues: Mapping[str, QueueSpec] | None = None,
        recording: CallRecording | None = None,
        recording_control: RecordingControl | None = None,
        agent_leg: AgentLeg | None = None,
        survey: SurveyRunner | None = None,
        draw: Callable[[], float] = random.random,
        interrupter: Interrupter | None = None,
    ) -> None:
        self._waiter = Waiter(
            acd, queues or {}, settings.waiting, book, clocks=clocks, interrupter=interrupter
        )
        self._dialler = AgentDialler(settings, clock=clocks.wall, survey=survey, draw=draw)
        self._talk = Conversation(
            acd,
            outputs,
            self._dialler,
            settings,
            clocks=clocks,
            recording=recording,
            recording_control=recording_control,
            agent_leg=agent_leg,
        )
        self._recording = recording
        self._acd = acd
        self._registry = registry
        self._outputs = outputs
        self._settings = settings
        self._clocks = clocks

    def _add(self, call: Call, step: Step) -> None:
        """Add a step to the call's timeline and send what it means (``outputs``)."""
        call.add_step(step)
        self._outputs.call_step(call, step)

    async def serve(
        self,
        session: AgiSession,
        call: Call,
        handle: Callable[[AgiSession, Call], Awaitable[None]],
        *,
        language: str | None = None,
    ) -> None:
        """One customer leg from taking it to its end, whatever happens in ``handle`` (the IVR
        path of ``IvrRoute``, the call-back leg of ``acd.daemon.callback_flow``); ``language``:
        set on the channel before ``handle`` plays anything."""
        call_id = call.call_id
        self._registry.open(call)
        hung_up_by: HungUpBy = "system"
        failed = cancelled = False
        with bind_call(call_id=call_id, uniqueid=call.facts.uniqueid):
            try:
                arrived = f"{call.facts.arrived_at:.3f}"
                pairs = [(names.VAR_CALL_ID, call_id), (names.VAR_ARRIVED, arrived)]
                if language is not None:  # no round trip of its own before the first prompt
                    pairs.append((names.CHANNEL_LANGUAGE, language))
                await session.set_variables(*pairs)
                if not _rendered_dialplan(session):  # a dialplan of one's own may not have
                    await session.answer()
                self._outputs.call_opened(call)
                await handle(session, call)
                if not call.state.handed_back and not self._over_for_the_dialplan(session, call):
                    await session.set_variable(names.VAR_DONE, "1")  # through with the caller
            except ChannelHungUp:
                hung_up_by = "caller"
            except (AgiError, OSError) as exc:
                log.warning("fastagi_session_lost", call_id=call_id, error=str(exc))
                failed = True
                await self._to_dialplan(session, call)
            except asyncio.CancelledError:
                failed = cancelled = True
                await self._to_dialplan(session, call)
                raise
            except Exception:
                log.exception("call_flow_failed", call_id=call_id)
                failed = True
                await self._to_dialplan(session, call)
            finally:
                await self._end(session, call, hung_up_by, failed=failed, cancelled=cancelled)

    async def _end(
        self,
        session: AgiSession,
        call: Call,
        hung_up_by: HungUpBy,
        *,
        failed: bool,
        cancelled: bool,
    ) -> None:
        # The one release per call: a lost connection mid-talk, a bug or a cancelled session
        # leaves nothing queued, ringing or engaged on the floor, and no agent on_call.
        self._acd.caller_left(call.call_id)
        self._talk.close_leg(call, self._clocks.wall())
        self._add(call, Ended(self._clocks.wall(), hung_up_by, failed))
        try:
            if not cancelled:  # a stopping daemon leaves unfinished files to the recordings audit
                # Asterisk closes a recording when its agent's channel goes.
                with contextlib.suppress(Exception):
                    await session.finish(SESSION_END_S)
                await self._catalogue(call)
        finally:  # also when the daemon stops meanwhile: the call's row is complete
            self._outputs.call_final(call)
            self._registry.close(call.call_id)
            self._talk.drain_requests(call, talking=False)  # a transfer asked too late: refused

    async def _catalogue(self, call: Call) -> None:
        if self._recording is None or not any(leg.recording for leg in call.state.legs):
            return
        recording_id = await self._recording.catalogue(call.state)
        if recording_id is not None:
            self._add(call, Catalogued(self._clocks.wall(), recording_id))

    async def _to_dialplan(self, session: AgiSession, call: Call) -> None:
        """The daemon gives up on a caller nobody answered yet (a bug, an error reply, a stop):
        HOTLINE_DONE stays unset, so the dialplan resumes the caller at a daemon or queues them
        with its plain Queue(); the row says so until a resuming daemon continues it."""
        state = call.state
        if state.talking or state.last_leg is not None or session.hung_up:
            return  # (a transferred caller waiting again is neither: it is handed back too)
        self._add(call, HandedBack(self._clocks.wall()))

    async def survey(self, session: AgiSession, call: Call) -> None:
        """The conversation ended with the agent hanging up: maybe the post-call survey."""
        last = call.state.last_leg
        if last is not None and last[1] == "agent":
            survey = await self._dialler.survey(session, call.state)
            if survey is not None:
                self._add(call, survey)

    # -- queue, wait, ring, talk ------------------------------------------------------------

    async def queue_and_connect(
        self,
        session: AgiSession,
        call: Call,
        queue: str,
        priority: int,
        profile: CallerProfile | None,
        *,
        place_since: float | None = None,
        queued_at: float | None = None,
        overflow: bool = True,
        designated: str | None = None,
    ) -> None:
        """Queue the caller, wait (music, announcements, the overflow ladder unless
        ``overflow`` is False) and ring agents until one answers or the caller leaves.
        ``place_since``: the caller's place in the queue dates from then (a call-back keeps
        the place its caller held when booking it); ``queued_at``: when the caller was first
        queued (a resumed caller, by a daemon that died); ``designated``: kept for that agent (a
        transfer to a named agent). After a transfer the caller queues again."""
        entry: Requeue | None = Requeue(queue, priority, designated)
        while entry is not None:
            if not await self._queue_once(
                session,
                call,
                entry,
                profile,
                place_since=place_since,
                queued_at=queued_at,
                overflow=overflow,
            ):
                return
            entry = self._after_leg(session, call)
            place_since, queued_at, overflow = None, None, True

    async def _queue_once(
        self,
        session: AgiSession,
        call: Call,
        entry: Requeue,
        profile: CallerProfile | None,
        *,
        place_since: float | None,
        queued_at: float | None,
        overflow: bool,
    ) -> bool:
        """One queue entry until a conversation took place (True) or the wait ended (False)."""
        clocks = self._clocks
        since = clocks.wall() if place_since is None else place_since
        at = clocks.wall() if queued_at is None else queued_at
        arrived = clocks.steady() if place_since is None else clocks.to_steady(place_since)
        waiting = WaitingCall(
            call.call_id,
            entry.queue,
            arrived,
            entry.priority,
            preferred_agent=call.state.preferred_agent,
            designated_agent=entry.designated_agent,
        )
        # An agent free now: the ring first, what the steps up to it mean right after its Dial
        # (the conversation sends them); waiting: before the wait.
        self._outputs.hold_steps(call)
        try:
            try:
                await self._acd.enqueue(waiting, call.signals.offers)
            finally:
                self._add(call, Queued(at, entry.queue, entry.priority, entry.designated_agent))
            return await self._wait_and_ring(
                session, call, entry, profile, since=since, overflow=overflow
            )
        finally:  # also a refused entry: sent now, not after the session's end
            self._outputs.send_held_steps(call)

    async def _wait_and_ring(
        self,
        session: AgiSession,
        call: Call,
        entry: Requeue,
        profile: CallerProfile | None,
        *,
        since: float,
        overflow: bool,
    ) -> bool:
        """Wait in the queue just entered (an offer may be here already) and ring the offered
        agents until one answers (True) or the wait ends (False)."""
        # The caller's place must be on the channel before they wait: a daemon dying later
        # leaves what a resume and the fallback Queue() need. With an agent free the offer is
        # already here (the owner routed the caller before answering): the Dial that follows
        # stores the place in its pre-dial handler, one command fewer before the ring.
        entered = Place(entry.queue, entry.priority, since)
        offered = not call.signals.offers.empty()
        talked = call.state.legs_done > 0  # the channel's DIALSTATUS may still say ANSWER
        place = entered if offered and not talked and entered.travels() else None
        if not offered:
            self._outputs.send_held_steps(call)
        if place is None:
            await self._store_place(session, call, entered)
        wait = self._waiter.start(entry.queue, overflow=overflow)
        while True:
            waited = await self._waiter.next(session, call, wait)
            for step in waited.steps:
                self._add(call, step)
            self._talk.drain_requests(call, talking=False)
            end = waited.end
            if isinstance(end, LeftQueue):
                return False
            if isinstance(end, ToDialplan):  # HOTLINE_DONE unset: the dialplan resumes/queues
                self._add(call, HandedBack(self._clocks.wall()))
                log.info("call_handed_back_to_dialplan", call_id=call.call_id)
                return False
            if isinstance(end, Offer):
                self._outputs.hold_steps(call)  # sent once the Dial is written
                try:
                    answered = await self._talk.ring(session, call, end, profile, place)
                except (ChannelHungUp, AgiError):
                    raise
                except Exception:
                    if place is not None:  # a bug before the Dial ran must not cost the place
                        with contextlib.suppress(AgiError, OSError):
                            await session.set_variables(*place.pairs())
                    raise
                if answered:
                    return True
                if place is not None:  # not answered: the place for the wait, for certain
                    await self._store_place(session, call, place)
                    place = None

    async def _store_place(self, session: AgiSession, call: Call, place: Place) -> None:
        """What a daemon resuming this caller needs (and the fallback Queue()'s QUEUE_PRIO)."""
        pairs = place.pairs()
        if call.state.legs_done > 0:
            # queued again after a conversation (a transfer): the earlier Dial's ANSWER must
            # not tell a dialplan rendered before HOTLINE_TRANSFERRED that this caller is
            # finished should the daemon die now (the Transferred step has already cleared
            # last_leg: this asks whether one took place). Same MSet, no command of its own.
            pairs = (*pairs, (names.ASTERISK_DIALSTATUS, ""))
        await session.set_variables(*pairs)

    def _after_leg(self, session: AgiSession, call: Call) -> Requeue | None:
        """A conversation ended: the caller's next queue entry if a transfer was asked for
        (and the caller is still there), else None."""
        state = call.state
        asked = state.transfer_asked
        if asked is None or session.hung_up:
            return None
        nxt = requeue_for(state, asked.target, self._settings)
        moved = Transferred(
            self._clocks.wall(), state.agent_id, asked.target, asked.reason, asked.by
        )
        self._add(call, moved)
        return nxt

    # -- stopping ---------------------------------------------------------------------------

    def hand_back(self) -> None:
        """The daemon stops: callers still waiting (and new ones) go to the dialplan's Queue()."""
        self._waiter.draining = True

    @property
    def draining(self) -> bool:
        return self._waiter.draining

    @property
    def interrupter(self) -> Interrupter:
        """What ends waiting callers' blocking commands (its counters show it working)."""
        return self._waiter.interrupter

    @property
    def callers_waiting(self) -> int:
        return self._waiter.waiting

    @staticmethod
    def _over_for_the_dialplan(session: AgiSession, call: Call) -> bool:
        """The rendered [hotline-resume] (``?answered=1``) ends this caller without
        ``HOTLINE_DONE``: the caller hung up (``AGISTATUS=HANGUP``), or the last Dial was
        answered (``DIALSTATUS=ANSWER``: a leg ends only after an answered Dial; a transfer
        clears ``last_leg``, and ``_store_place`` the channel's DIALSTATUS). A dialplan of
        one's own may test ``HOTLINE_DONE`` alone: it still gets it. One FastAGI command fewer
        on nearly every call (issue 13). Not after a transfer was tried: its mark
        (``HOTLINE_TRANSFERRED``) may name the last leg, which [hotline-resume] reads as "not
        finished"."""
        if not _rendered_dialplan(session):
            return False
        return session.hung_up or (call.state.last_leg is not None and not call.transfer_marked)

    async def no_callers_waiting(self) -> None:
        await self._waiter.none_waiting.wait()


def _rendered_dialplan(session: AgiSession) -> bool:
    """``?answered=1``: the rendered dialplan's AGI(), on a channel it answered, whose
    [hotline-resume] ends a caller on ``DIALSTATUS=ANSWER`` (names.QUERY_ANSWERED)."""
    return session.params.get(_ANSWERED_KEY) == _ANSWERED_VALUE
