"""A queued caller's wait: music, position and estimate announcements, the overflow ladder.

The caller hears music on hold while the FastAGI session is polled with short ``WAIT FOR DIGIT``
commands, so an offer is acted on within one poll. Between polls, when an announcement or the
next overflow rung is due (``acd.daemon.wait_policy`` decides), the floor is asked for the
caller's position and estimated wait. Rungs: widen the skills and move to another queue go
through the ACD owner task; a call-back keeps the caller's place as a stored due time; voicemail
ends the wait. Missing sound files answer ``200 result=-1 endpos=0`` and are logged once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from acd.asterisk.agi import commands as cmd
from acd.asterisk.agi.replies import AgiReply
from acd.asterisk.aio.agi_session import AgiSession, ChannelHungUp
from acd.daemon.calls import CallRecord
from acd.daemon.outputs import Outputs, utc
from acd.daemon.service import AcdService, Ticket
from acd.daemon.wait_policy import Announcement, WaitState, announcement, calling_hours, choose_rung
from acd.engine.estimate import plan_callback
from acd.engine.floor_effects import Offer
from acd.engine.model import OfferCallback, OverflowToQueue, QueueSpec, Voicemail, WidenSkills
from acd.logging import get_logger
from acd.settings import names
from acd.storage.commands import InsertCallback

log = get_logger(__name__)

# Every sound the waiting caller can hear, in one place (Asterisk's core queue sounds, as
# app_queue.c plays them for its own announcements, plus the hotline's own prompts).
SOUNDS: Mapping[str, str] = {
    "you_are": "queue-youarenext",
    "there_are": "queue-thereare",
    "calls_waiting": "queue-callswaiting",
    "hold_time": "queue-holdtime",
    "minutes": "queue-minutes",
    "thank_you": "queue-thankyou",
    "callback_offer": "hotline-callback-offer",  # "press 1 to be called back, keeping your place"
    "callback_booked": "hotline-callback-booked",
    "voicemail_closed": "hotline-voicemail-unavailable",
}
CALLBACK_KEY_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class WaitSettings:
    music_class: str = "default"
    poll_ms: int = 500  # offer latency bound while the caller listens to music
    announce_first_s: float = 10.0
    announce_every_s: float = 30.0  # <= 0: no announcements
    callback_hours: tuple[int, int] = (9, 20)  # polite local calling hours [start, end)
    callback_slot_capacity: int = 4  # call-backs agents can absorb per 15-minute slot
    timezone: str = "UTC"
    voicemail_box: str = "hotline@default"


@dataclass(frozen=True, slots=True)
class LeftQueue:
    """The caller left the queue on a rung of the ladder (the call is over)."""

    outcome: Literal["callback", "voicemail"]


@dataclass(frozen=True, slots=True)
class HandedBack:
    """The daemon is stopping: the caller goes back to the dialplan's plain ``Queue()``."""


class Waiter:
    def __init__(
        self,
        acd: AcdService,
        outputs: Outputs,
        queues: Mapping[str, QueueSpec],
        settings: WaitSettings,
        *,
        clock: Callable[[], float],
    ) -> None:
        self._acd = acd
        self._outputs = outputs
        self._queues = queues
        self._settings = settings
        self._clock = clock
        self._booked: list[float] = []  # due times of call-backs booked by this daemon
        self._missing_sounds: set[str] = set()
        #: set by ``hand_back()`` when the daemon stops: waiting callers leave at the next poll
        self.draining = False
        self.waiting = 0  # callers in ``until_offer`` now
        self.none_waiting = asyncio.Event()
        self.none_waiting.set()

    def state(self, queued_at: float) -> WaitState:
        s = self._settings
        return WaitState(queued_at, s.announce_first_s, s.announce_every_s)

    async def until_offer(
        self, session: AgiSession, call: CallRecord, ticket: Ticket, state: WaitState
    ) -> Offer | LeftQueue | HandedBack:
        """Music on hold until an offer arrives (music stopped), a rung ended the call, or the
        daemon is stopping and hands the caller back to the dialplan."""
        self.waiting += 1
        self.none_waiting.clear()
        try:
            return await self._until_offer(session, call, ticket, state)
        finally:
            self.waiting -= 1
            if not self.waiting:
                self.none_waiting.set()

    async def _until_offer(
        self, session: AgiSession, call: CallRecord, ticket: Ticket, state: WaitState
    ) -> Offer | LeftQueue | HandedBack:
        queue = call.queue or ""
        ladder = self._queues.get(queue) or QueueSpec(queue, "")  # the first queue's ladder
        await self._music(session, on=True)
        while ticket.offers.empty():
            if self.draining:
                await self._music(session, on=False)
                # Not "0": the shipped dialplan falls back unless the variable is exactly "1",
                # and empty is what Asterisk shows for a session the daemon never took.
                await session.set_variable(names.VAR_HANDLED, "")
                return HandedBack()
            now = self._clock()
            announce = state.announce_due(now)
            if announce or state.rung_may_be_due(ladder, now):
                status = await self._acd.wait_status(call.call_id)
                if status is not None:
                    ahead, estimate = status
                    step = choose_rung(ladder, now - state.queued_at, estimate, state.rungs_taken)
                    if step is not None:
                        state.rungs_taken += 1
                        left = await self._take(session, call, step, ahead, estimate)
                        if left is not None:
                            await self._leave(session, call, left)
                            return left
                    elif announce:
                        state.announced(now)
                        said = announcement(ahead, estimate)
                        self._outputs.call_event(
                            call, "announced", now, position=said.position, minutes=said.minutes
                        )
                        await self._announce(session, said)
            await session.wait_for_digit(self._settings.poll_ms)
        await self._music(session, on=False)
        return ticket.offers.get_nowait()

    async def _leave(self, session: AgiSession, call: CallRecord, left: LeftQueue) -> None:
        """A call-back was booked or a message left: the daemon ends the call."""
        call.outcome = left.outcome
        call.hung_up_by = "system"
        call.ended_at = self._clock()
        with contextlib.suppress(ChannelHungUp):
            await session.hangup()

    async def _music(self, session: AgiSession, *, on: bool) -> None:
        if on:
            await session.command(cmd.exec_("StartMusicOnHold", self._settings.music_class))
        else:
            await session.command(cmd.exec_("StopMusicOnHold"))

    async def _announce(self, session: AgiSession, said: Announcement) -> None:
        await self._music(session, on=False)
        if said.position == 1:
            await self._play(session, "you_are")
        else:
            await self._play(session, "there_are")
            await session.say_number(said.position - 1)
            await self._play(session, "calls_waiting")
        if said.minutes is not None:
            await self._play(session, "hold_time")
            await session.say_number(said.minutes)
            await self._play(session, "minutes")
        await self._play(session, "thank_you")
        await self._music(session, on=True)

    async def _play(self, session: AgiSession, sound: str) -> AgiReply:
        name = SOUNDS[sound]
        reply = await session.stream_file(name)
        if reply.result == "-1":
            if session.hung_up:
                raise ChannelHungUp(f"STREAM FILE {name}: the caller hung up")
            if reply.endpos == 0 and name not in self._missing_sounds:
                self._missing_sounds.add(name)  # once: every waiting caller would repeat it
                log.warning("sound_not_played", sound=name, why="missing file?")
        return reply

    async def _take(
        self,
        session: AgiSession,
        call: CallRecord,
        step: WidenSkills | OverflowToQueue | OfferCallback | Voicemail,
        ahead: int,
        estimate: float | None,
    ) -> LeftQueue | None:
        now = self._clock()
        if isinstance(step, WidenSkills):
            await self._acd.overflow(call.call_id, step)
            skills = [s.skill for s in step.skills]
            self._outputs.call_event(call, "overflow", now, action="widen_skills", skills=skills)
            return None
        if isinstance(step, OverflowToQueue):
            await self._acd.overflow(call.call_id, step)
            self._outputs.call_event(call, "overflow", now, action="overflow_queue", to=step.queue)
            call.queue = step.queue
            await session.set_variable(names.VAR_QUEUE, step.queue)  # for the fallback Queue()
            return None
        if isinstance(step, OfferCallback):
            return await self._offer_callback(session, call, ahead, estimate)
        return await self._voicemail(session, call)

    async def _offer_callback(
        self, session: AgiSession, call: CallRecord, ahead: int, estimate: float | None
    ) -> LeftQueue | None:
        await self._music(session, on=False)
        keys = await self._get_key(session, SOUNDS["callback_offer"])
        now = self._clock()
        booked = keys == "1" and self.book_callback(call, now, estimate, ahead)
        self._outputs.call_event(call, "overflow", now, action="offer_callback", accepted=booked)
        if not booked:  # declined, or no slot: back to the music, same place
            await self._music(session, on=True)
            return None
        # Booked: the call's outcome is a call-back even if the caller hangs up during the
        # confirmation (it must not count as an abandon).
        call.outcome = "callback"
        await self._play(session, "callback_booked")
        return LeftQueue("callback")

    def book_callback(
        self, call: CallRecord, now: float, estimate: float | None, position: int | None
    ) -> bool:
        """Store a call-back due when the caller would have reached the head of the queue, in
        polite calling hours and a slot with room; False when there is no such time."""
        s = self._settings
        plan = plan_callback(
            now,
            estimate,
            calling_hours=calling_hours(now, s.timezone, s.callback_hours),
            booked=self._booked,
            capacity_per_slot=s.callback_slot_capacity,
        )
        if plan is None:
            return False
        self._booked.append(plan.at)
        callback_id = uuid.uuid4().hex
        self._outputs.store(
            InsertCallback(
                idempotency_key=f"{call.call_id}:cb:{callback_id}",
                callback_id=callback_id,
                call_id=call.call_id,
                number=call.number,
                queue=call.queue or "",
                requested_at=utc(now),
                due_at=utc(plan.at),
                position=position,
            )
        )
        return True

    async def _voicemail(self, session: AgiSession, call: CallRecord) -> LeftQueue:
        await self._music(session, on=False)
        self._outputs.call_event(call, "overflow", self._clock(), action="voicemail")
        reply = await session.command(cmd.exec_("VoiceMail", self._settings.voicemail_box, "u"))
        if reply.result == "-2":  # res_agi.c handle_exec: no such application (app_voicemail)
            await self._play(session, "voicemail_closed")
        return LeftQueue("voicemail")

    async def _get_key(self, session: AgiSession, prompt: str) -> str:
        """One key after ``prompt``; a prompt that cannot be played is logged, the key still read
        (GET DATA answers -1 before reading any key then: main/app.c ast_app_getdata_full)."""
        reply = await session.get_data(prompt, CALLBACK_KEY_TIMEOUT_MS, 1)
        if reply.result == "-1":
            if session.hung_up:
                raise ChannelHungUp(f"GET DATA {prompt}: the caller hung up")
            if prompt not in self._missing_sounds:
                self._missing_sounds.add(prompt)
                log.warning("sound_not_played", sound=prompt, why="missing file?")
            reply = await session.get_data("", CALLBACK_KEY_TIMEOUT_MS, 1)
            if reply.result == "-1":
                raise ChannelHungUp("GET DATA: the caller hung up")
        return reply.digits
