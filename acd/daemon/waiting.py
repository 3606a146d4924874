"""A queued caller's wait: music, position and estimate announcements, the overflow ladder.

The caller stays inside one long blocking AGI command at a time: ``WAIT FOR DIGIT`` under the
queue's music on hold (until the next announcement or overflow rung is due), each piece of an
announcement (``STREAM FILE`` / ``SAY NUMBER`` with the interrupt digit among its escape
digits), the call-back prompt's ``GET DATA``. Asterisk plays the media; the daemon sends nothing
meanwhile. When an offer, a request for the call or the daemon's hand-back arrives, the running
command is ended at once with AMI ``PlayDTMF`` (``acd.daemon.offer_interrupt``) and the flow goes
on to ring the agent: no offer waits behind an announcement, a prompt or the music
(docs/offer-delivery.md). While AMI is down the waits are ``poll_ms`` long (the old polling
path), and an offer made during an announcement piece waits for that piece to end.

When an announcement or the next overflow rung is due (``acd.daemon.wait_policy`` decides, on
the steady clock), the floor is asked for the caller's position and estimated wait. Rungs: widen
the skills and move to another queue go through the ACD owner task; a call-back keeps the
caller's place as a stored due time (``acd.daemon.callback_book``). Missing sound files answer
``200 result=-1 endpos=0`` and are logged once each.

The waiter never changes the call: ``Waiter.next`` returns what happened (``Waited``: steps for
the call flow to add to the call's timeline, and how the wait ended, if it did) and the flow
calls it again. It also returns, with nothing to say, when a request for the call arrived
(``CallSignals.requests``), so the flow answers it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from acd.asterisk.agi import commands as cmd
from acd.asterisk.agi.replies import CODE_SUCCESS, AgiReply
from acd.asterisk.aio.agi_session import AgiCommandError, AgiSession, ChannelHungUp
from acd.daemon.call_steps import Announced, CallbackBooked, Overflowed, Step
from acd.daemon.callback_book import CallbackBook
from acd.daemon.calls import Call
from acd.daemon.clocks import Clocks
from acd.daemon.offer_interrupt import INTERRUPT_DIGIT, Interrupter, hold
from acd.daemon.service import AcdService
from acd.daemon.sound_names import WAITING_SOUNDS
from acd.daemon.wait_policy import (
    Announcement,
    Announcements,
    WaitState,
    announcement,
    choose_rung,
    music_wait_ms,
)
from acd.engine.floor_effects import Offer
from acd.engine.model import OfferCallback, OverflowToQueue, QueueSpec, WidenSkills
from acd.logging import get_logger
from acd.settings import names

log = get_logger(__name__)

SOUNDS = WAITING_SOUNDS  # every sound the waiting caller can hear
CALLBACK_KEY_TIMEOUT_MS = 5000


@dataclass(frozen=True, slots=True)
class QueueWaiting:
    """What a caller waiting in one queue hears (``queues.yaml``: music, announcements)."""

    music_class: str = "default"
    announcements: Announcements = field(default_factory=Announcements)


@dataclass(frozen=True, slots=True)
class WaitSettings:
    poll_ms: int = 500  # the music's WAIT FOR DIGIT while AMI is down (offer latency bound)
    hold_ms: int = 10_000  # the longest WAIT FOR DIGIT while AMI can interrupt it
    queues: Mapping[str, QueueWaiting] = field(default_factory=dict)

    def of(self, queue: str) -> QueueWaiting:
        return self.queues.get(queue) or QueueWaiting()


@dataclass(frozen=True, slots=True)
class LeftQueue:
    """The caller left the queue on a rung of the ladder (a call-back was booked)."""

    outcome: Literal["callback"]


@dataclass(frozen=True, slots=True)
class ToDialplan:
    """The daemon is stopping: the caller goes back to the dialplan's plain ``Queue()``."""


@dataclass(frozen=True, slots=True)
class Waited:
    """What one ``Waiter.next`` saw: steps for the call's timeline, and the end of the wait."""

    steps: tuple[Step, ...] = ()
    end: Offer | LeftQueue | ToDialplan | None = None


@dataclass(slots=True)
class Wait:
    """One caller's wait in one queue entry (owned by the call's task, never shared)."""

    schedule: WaitState
    ladder: QueueSpec  # the first queue's ladder, climbed even after a move
    music_class: str
    music_on: bool = False
    leaving: bool = False  # a call-back was booked: say goodbye and hang up


class Waiter:
    def __init__(
        self,
        acd: AcdService,
        queues: Mapping[str, QueueSpec],
        settings: WaitSettings,
        book: CallbackBook,
        *,
        clocks: Clocks,
        interrupter: Interrupter | None = None,
    ) -> None:
        self._acd = acd
        self._queues = queues
        self._settings = settings
        self._book = book
        self._clocks = clocks
        self.interrupter = interrupter or Interrupter(lambda: None)
        self._missing_sounds: set[str] = set()
        self._draining = False
        self._waiting_calls: dict[str, Call] = {}
        self.waiting = 0  # callers in ``next`` now
        self.none_waiting = asyncio.Event()
        self.none_waiting.set()

    @property
    def draining(self) -> bool:
        """Set by ``hand_back()`` when the daemon stops: waiting callers leave at once."""
        return self._draining

    @draining.setter
    def draining(self, value: bool) -> None:
        self._draining = value
        if value:
            for call in self._waiting_calls.values():
                call.signals.wake.set()  # end their long waits now

    def start(self, queue: str, *, overflow: bool = True) -> Wait:
        """A caller's wait begins now (the ladder applies unless ``overflow`` is False)."""
        rules = self._settings.of(queue)
        ladder = self._queues.get(queue) or QueueSpec(queue, "")
        schedule = WaitState(self._clocks.steady(), rules.announcements)
        if not overflow:
            schedule.rungs_taken = len(ladder.overflow)
        return Wait(schedule, ladder, rules.music_class)

    async def next(self, session: AgiSession, call: Call, wait: Wait) -> Waited:
        """Music on hold until something happens: an offer (music stopped), a step for the
        call's timeline, the end of the wait, or a request for the call to answer."""
        self.waiting += 1
        self.none_waiting.clear()
        self._waiting_calls[call.call_id] = call
        try:
            return await self._next(session, call, wait)
        finally:
            self.waiting -= 1
            self._waiting_calls.pop(call.call_id, None)
            if not self.waiting:
                self.none_waiting.set()

    async def _next(self, session: AgiSession, call: Call, wait: Wait) -> Waited:
        signals = call.signals
        if wait.leaving:
            return await self._goodbye(session)
        if not self._woken(call):  # an offer that cut an announcement short rings at once
            await self._music(session, wait, on=True)
        while signals.offers.empty() and signals.requests.empty():
            if self.draining:
                await self._music(session, wait, on=False)
                # HOTLINE_DONE stays unset: the dialplan offers the caller to the other daemon
                # (route resume), then to its plain Queue() with their priority
                return Waited(end=ToDialplan())
            now = self._clocks.steady()
            schedule = wait.schedule
            announce = schedule.announce_due(now)
            if announce or schedule.rung_may_be_due(wait.ladder, now):
                status = await self._acd.wait_status(call.call_id)
                if status is not None:
                    ahead, estimate = status
                    waited = now - schedule.queued_at
                    rung = choose_rung(wait.ladder, waited, estimate, schedule.rungs_taken)
                    if isinstance(rung, WidenSkills | OverflowToQueue | OfferCallback):
                        schedule.rungs_taken += 1
                        return await self._take(
                            session, call, wait, rung, ahead=ahead, estimate=estimate
                        )
                    if announce:
                        schedule.announced(now)
                        said = announcement(ahead, estimate, schedule.rules)
                        step = Announced(self._clocks.wall(), said.position, said.minutes)
                        await self._announce(session, call, wait, said)
                        return Waited((step,))
            # caller keys under the music are not for us: only the call's signals end the wait
            await self._hold(session, call, cmd.wait_for_digit(self._music_ms(wait, now)))
        if signals.offers.empty():
            return Waited()  # a request for the call: the flow answers it, then calls again
        await self._music(session, wait, on=False)
        return Waited(end=signals.offers.get_nowait())

    def _woken(self, call: Call) -> bool:
        signals = call.signals
        return self._draining or not (signals.offers.empty() and signals.requests.empty())

    def _music_ms(self, wait: Wait, now: float) -> int:
        settings = self._settings
        cap = settings.hold_ms if self.interrupter.available else settings.poll_ms
        return music_wait_ms(wait.schedule, wait.ladder, now, cap, settings.poll_ms)

    async def _hold(self, session: AgiSession, call: Call, line: str) -> AgiReply | None:
        """One blocking command the call's signals interrupt; None: not sent, they already had
        something (the caller goes straight on)."""
        if self._woken(call):
            return None
        call.signals.wake.clear()
        reply = await hold(session, line, call.signals.wake, self.interrupter)
        if reply.code != CODE_SUCCESS:
            raise AgiCommandError(line, reply)
        return reply

    async def _goodbye(self, session: AgiSession) -> Waited:
        """A call-back was booked: confirm it and end the call (the daemon hangs up)."""
        await self._play(session, "callback_booked")
        with contextlib.suppress(ChannelHungUp):
            await session.hangup()
        return Waited(end=LeftQueue("callback"))

    async def _music(self, session: AgiSession, wait: Wait, *, on: bool) -> None:
        if on == wait.music_on:
            return
        if on:
            await session.command(cmd.exec_("StartMusicOnHold", wait.music_class))
        else:
            await session.command(cmd.exec_("StopMusicOnHold"))
        wait.music_on = on

    async def _announce(
        self, session: AgiSession, call: Call, wait: Wait, said: Announcement
    ) -> None:
        """Piece by piece; an offer (or a request) ends the piece playing and skips the rest."""
        await self._music(session, wait, on=False)
        pieces: list[str | int] = []
        if said.position == 1:
            pieces.append("you_are")
        elif said.position is not None:
            pieces += ["there_are", said.position - 1, "calls_waiting"]
        if said.minutes is not None:
            pieces += ["hold_time", said.minutes, "minutes"]
        pieces.append("thank_you")
        for piece in pieces:
            if isinstance(piece, int):
                await self._hold(session, call, cmd.say_number(piece, INTERRUPT_DIGIT))
            else:
                await self._play(session, piece, call)
            if self._woken(call):
                return  # straight to the offer: the music stays off
        await self._music(session, wait, on=True)

    async def _play(self, session: AgiSession, sound: str, call: Call | None = None) -> None:
        """Play ``sound``; with ``call``, the call's signals interrupt it (not for a goodbye)."""
        name = SOUNDS[sound]
        if call is None:
            reply: AgiReply | None = await session.stream_file(name)
        else:
            reply = await self._hold(session, call, cmd.stream_file(name, INTERRUPT_DIGIT))
        if reply is not None and reply.result == "-1":
            if session.hung_up:
                raise ChannelHungUp(f"STREAM FILE {name}: the caller hung up")
            if reply.endpos == 0 and name not in self._missing_sounds:
                self._missing_sounds.add(name)  # once: every waiting caller would repeat it
                log.warning("sound_not_played", sound=name, why="missing file?")

    async def _take(
        self,
        session: AgiSession,
        call: Call,
        wait: Wait,
        step: WidenSkills | OverflowToQueue | OfferCallback,
        *,
        ahead: int,
        estimate: float | None,
    ) -> Waited:
        at = self._clocks.wall()
        if isinstance(step, WidenSkills):
            await self._acd.overflow(call.call_id, step)
            skills = tuple(s.skill for s in step.skills)
            return Waited((Overflowed(at, "widen_skills", skills=skills),))
        if isinstance(step, OverflowToQueue):
            await self._acd.overflow(call.call_id, step)
            await session.set_variable(names.VAR_QUEUE, step.queue)  # for the fallback Queue()
            return Waited((Overflowed(at, "overflow_queue", to_queue=step.queue),))
        return await self._offer_callback(session, call, wait, ahead, estimate)

    async def _offer_callback(
        self, session: AgiSession, call: Call, wait: Wait, ahead: int, estimate: float | None
    ) -> Waited:
        await self._music(session, wait, on=False)
        keys = await self._get_key(session, call, SOUNDS["callback_offer"])
        if keys is None:  # an offer cut the prompt short: the agent, not a call-back
            return Waited()
        now = self._clocks.wall()
        slot = await self._book.book(now, estimate) if keys == "1" else None
        offered = Overflowed(now, "offer_callback", accepted=slot is not None)
        if slot is None:  # declined, or no slot: back to the music, same place
            return Waited((offered,))
        # Booked: the steps go to the call now, so that a caller hanging up during the
        # confirmation still counts as a call-back, not an abandon.
        wait.leaving = True
        queue = call.state.queue or wait.ladder.name
        return Waited((offered, CallbackBooked(now, slot.callback_id, queue, slot.due_at, ahead)))

    async def _get_key(self, session: AgiSession, call: Call, prompt: str) -> str | None:
        """One key after ``prompt``; a prompt that cannot be played is logged, the key still read
        (GET DATA answers -1 before reading any key then: main/app.c ast_app_getdata_full).
        None: the call's signals interrupted it (RECORDED q1 d: GET DATA answers ``result=D``)
        or came first; the caller's own keys are read as before."""
        reply = await self._hold(session, call, cmd.get_data(prompt, CALLBACK_KEY_TIMEOUT_MS, 1))
        if reply is not None and reply.result == "-1":
            if session.hung_up:
                raise ChannelHungUp(f"GET DATA {prompt}: the caller hung up")
            if prompt not in self._missing_sounds:
                self._missing_sounds.add(prompt)
                log.warning("sound_not_played", sound=prompt, why="missing file?")
            reply = await self._hold(session, call, cmd.get_data("", CALLBACK_KEY_TIMEOUT_MS, 1))
            if reply is not None and reply.result == "-1":
                raise ChannelHungUp("GET DATA: the caller hung up")
        if reply is None or (reply.digits in ("", INTERRUPT_DIGIT) and self._woken(call)):
            return None  # a key the caller pressed first still counts
        return reply.digits
