"""The caller and an agent: ringing the offered agent, the conversation, and requests for the
call while it lasts (a transfer, recording pause notes, the channel gone).

Part of the call flow (``acd.daemon.call_flow``): it runs in the call's own task and is one of
the few places that add steps to the call.

The screen pop goes to the agent's MQTT topic first, and the flow waits (briefly) until the
broker has it, so the desktop shows the caller before the phone rings. Then ``EXEC Dial`` rings
the agent; it lasts the whole conversation, so this task waits on three things at once: the
Dial, the answer future (resolved by the AMI watcher on ``DialEnd`` ``ANSWER``; ``ANSWEREDTIME``
after the Dial is the fallback when AMI is down) and the call's requests. The recording is
started by each Dial on the agent's channel when the agent answers (its ``U()`` Gosub) and holds
audio from the answer on (MixMonitor option ``b``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from acd.asterisk.aio.agi_session import AgiSession, ChannelHungUp
from acd.daemon.call_steps import (
    Answered,
    LegEnded,
    Offered,
    RecordingNotStarted,
    RecordingPaused,
    RecordingResumed,
    RecordingStarted,
    RingMissed,
    Step,
    TransferAsked,
)
from acd.daemon.calls import (
    AnswerSeen,
    Call,
    CallRequest,
    ChannelGone,
    RecordingNote,
    TransferAccepted,
    TransferAsk,
)
from acd.daemon.clocks import Clocks
from acd.daemon.dialling import AgentDialler, DialResult, FlowSettings
from acd.daemon.ivr_port import CallerProfile
from acd.daemon.outputs import Outputs
from acd.daemon.predial import Place, RecordingOrder, answer_option, predial_option
from acd.daemon.recording import CallRecording
from acd.daemon.recording_control import RecordingControl
from acd.daemon.screen_pop import screen_pop
from acd.daemon.service import AcdService
from acd.daemon.side_task import beside
from acd.daemon.transfers import AgentLeg, NotInConversation, refusal
from acd.engine.floor_effects import Offer
from acd.logging import get_logger

log = get_logger(__name__)


class Conversation:
    def __init__(
        self,
        acd: AcdService,
        outputs: Outputs,
        dialler: AgentDialler,
        settings: FlowSettings,
        *,
        clocks: Clocks,
        recording: CallRecording | None = None,
        recording_control: RecordingControl | None = None,
        agent_leg: AgentLeg | None = None,
    ) -> None:
        self._acd = acd
        self._outputs = outputs
        self._dialler = dialler
        self._settings = settings
        self._clocks = clocks
        self._recording = recording
        self._recording_control = recording_control
        self._agent_leg = agent_leg

    def _add(self, call: Call, step: Step) -> None:
        call.add_step(step)
        self._outputs.call_step(call, step)

    async def ring(
        self,
        session: AgiSession,
        call: Call,
        offer: Offer,
        profile: CallerProfile | None,
        place: Place | None = None,
    ) -> bool:
        """Ring the offered agent; True when they answered (and the conversation is over).
        ``place``: the caller's place, not on the channel yet: the Dial stores it first."""
        agent = offer.agent_id
        if self._outputs.publisher is None:  # no broker: no screen pop to wait for, no task
            order = self._offered(call, offer)
        else:
            pop = screen_pop(
                self._settings.mqtt_prefix, agent, self._clocks.wall(), call.state, profile
            )
            delivery = self._outputs.deliver(pop, self._settings.screen_pop_wait_s)
            async with beside(delivery, f"screen-pop-{call.call_id}") as popped:
                order = self._offered(call, offer)
                if not await popped:
                    log.warning("screen_pop_unconfirmed", call_id=call.call_id, agent_id=agent)
        options = predial_option(place) + answer_option(order)  # before expecting the answer
        answer = call.signals.expect_answer()
        dial = asyncio.create_task(
            self._dialler.dial(session, offer.endpoint, offer.ring_timeout_s, options),
            name=f"dial-{call.call_id}",
        )
        try:
            # Let the Dial's task write its command (its first step) before this one sets up
            # the waits (a task for the call's requests, asyncio.wait): they cost the caller
            # ~30 µs of the way to the ring when they go first.
            await asyncio.sleep(0)
            self._outputs.send_held_steps(call)  # the offer's steps and the ones before it
            result = await self._converse(call, dial, answer)
        finally:
            call.signals.stop_expecting_answer()
            dial.cancel()  # done already unless this task was cancelled or the channel is gone
            await asyncio.gather(dial, return_exceptions=True)
        if (
            order is not None
            and result.status == "ANSWER"
            and not CallRecording.confirmed(order, result.recording_file)
        ):
            # the agent answered and the leg went unrecorded (no ring started one: the next
            # answered Dial carries its own)
            log.error(
                "recording_not_started",
                call_id=call.call_id,
                path=order.path,
                found=result.recording_file,
                hint="is the rendered [hotline-answer] in the installed dialplan?",
            )
            self._add(call, RecordingNotStarted(result.ended_at))
        if result.status != "ANSWER":
            self._add(call, RingMissed(result.ended_at, agent, result.status, result.caller_gone))
            if result.caller_gone:
                raise ChannelHungUp(f"caller hung up while agent {agent} rang")
            self._acd.offer_failed(call.call_id, result.status)
            return False
        if not call.state.talking:  # AMI did not say: work the answer out from the Dial
            self._add(call, Answered(result.answered_at(), agent, None))
            self._acd.offer_answered(call.call_id)
        self._add(call, LegEnded(result.ended_at, "caller" if session.hung_up else "agent"))
        self._acd.call_ended(call.call_id)
        self.close_leg(call, result.ended_at)
        return True

    def _offered(self, call: Call, offer: Offer) -> RecordingOrder | None:
        """The offer's steps before the Dial, and the recording the Dial starts (if any)."""
        wall = self._clocks.wall
        self._add(call, Offered(wall(), offer.agent_id, offer.endpoint))
        if self._recording is None:
            return None
        # One recording per answered leg, started on the agent's channel by the Dial's U()
        # when the agent answers (acd.daemon.recording); every offer carries it.
        order = self._recording.order(call.state, wall())
        if order is not None and order.path != call.state.recording_path:
            self._add(call, RecordingStarted(wall(), order.path))
        return order

    async def _converse(
        self, call: Call, dial: asyncio.Task[DialResult], answer: asyncio.Future[AnswerSeen]
    ) -> DialResult:
        """While the Dial runs: the answer, and requests for the call, as they come."""
        requests = call.signals.requests
        getter: asyncio.Task[CallRequest] | None = None
        try:
            while True:
                if getter is None:
                    getter = asyncio.create_task(requests.get())
                waits: set[asyncio.Future[Any]] = {dial, getter}
                if not call.state.talking and not answer.done():
                    waits.add(answer)
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                if answer in done and not call.state.talking:
                    self._answered(call, answer.result())
                if getter in done:
                    request, getter = getter.result(), None
                    await self._request(call, request)
                if dial in done:
                    return dial.result()
        finally:
            if getter is not None:
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    requests.put_nowait(await getter)  # taken just before the cancel: keep it

    def _answered(self, call: Call, seen: AnswerSeen) -> None:
        self._add(call, Answered(seen.at, call.state.agent_id or "", seen.agent_channel))
        self._acd.offer_answered(call.call_id)

    # -- requests for the call --------------------------------------------------------------

    async def _request(self, call: Call, request: CallRequest) -> None:
        if isinstance(request, TransferAsk):
            await self._transfer(call, request)
        elif isinstance(request, RecordingNote):
            self._add(call, _note_step(request))
        elif isinstance(request, ChannelGone):
            raise ChannelHungUp("Asterisk no longer has the caller's channel")

    async def _transfer(self, call: Call, ask: TransferAsk) -> None:
        state = call.state
        refused: Exception | None = refusal(state, ask)
        if refused is None and self._agent_leg is None:
            refused = ConnectionError("no AMI connection: calls cannot be transferred")
        if refused is None and self._agent_leg is not None:
            call.transfer_marked = True
            try:
                await self._agent_leg.hang_up(state)
            except Exception as exc:  # the caller's HTTP request gets it
                refused = exc
        if refused is not None:
            if not ask.reply.done():
                ask.reply.set_exception(refused)
            return
        self._add(call, TransferAsked(self._clocks.wall(), ask.target, ask.reason, ask.by))
        if not ask.reply.done():
            ask.reply.set_result(TransferAccepted(state.agent_id, ask.target))

    def drain_requests(self, call: Call, *, talking: bool) -> None:
        """Requests that came while not in a conversation: notes are kept, transfers refused;
        a channel gone ends the call (raised) unless it is over already."""
        requests = call.signals.requests
        while not requests.empty():
            request = requests.get_nowait()
            if isinstance(request, RecordingNote):
                if not call.state.over:
                    self._add(call, _note_step(request))
            elif isinstance(request, TransferAsk):
                if not request.reply.done():
                    why = f"call {call.call_id} is not in a conversation with an agent"
                    request.reply.set_exception(NotInConversation(why))
            elif not talking and not call.state.over:
                raise ChannelHungUp("Asterisk no longer has the caller's channel")

    def close_leg(self, call: Call, at: float) -> None:
        """The conversation is over (or the call): pause notes become steps, and a pause still
        open is closed with the leg."""
        if call.state.over:
            return
        requests = call.signals.requests
        kept: list[CallRequest] = []
        while not requests.empty():
            request = requests.get_nowait()
            if isinstance(request, RecordingNote):
                self._add(call, _note_step(request))
            else:
                kept.append(request)
        for request in kept:
            requests.put_nowait(request)
        if self._recording_control is not None:
            note = self._recording_control.leg_over(call.call_id, at)
            if note is not None:
                self._add(call, _note_step(note))


def _note_step(note: RecordingNote) -> RecordingPaused | RecordingResumed:
    if note.paused:
        return RecordingPaused(note.at, note.reason, note.by, note.resume_at or note.at)
    return RecordingResumed(note.at, note.auto, note.by, note.paused_s)
