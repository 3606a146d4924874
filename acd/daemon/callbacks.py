"""Placing booked call-backs: one owned task that dials customers back when their turn comes.

Every ``check_every_s`` (or sooner, when a dial ends) the scheduler reads the ``pending`` and
``dialing`` rows of ``callbacks`` (read-only), asks the floor how many agents are ready per queue,
and lets ``callback_policy.to_place`` choose. Each chosen call-back is originated asynchronously
(AMI ``Originate``: Channel from the ``callbacks.channel`` template, Context ``hotline-callback``,
Exten ``s``, Variables ``HOTLINE_CALLBACK_ID`` and ``HOTLINE_QUEUE``). As recorded
(transcripts/ami_login_and_actions.txt sections 22, 28b, 38b, 38c): ``Originate successfully
queued``, then an ``OriginateResponse`` with our ActionID: ``Reason: 4`` answered (and the Context
then runs on the answered channel), 0 no such extension, 3 no answer. Event order is not causal,
so a response seen before our action returned is kept a while.

The answered customer leg reaches the FastAGI ``callback`` route (``acd.daemon.callback_flow``),
which ``claim``s the booking and reports ``finished``. Rows change only through storage commands
(``UpdateCallback``); the scheduler's memory is the truth for rows it touched, since the writer
may apply its commands after the next read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.asterisk.ami.message import Message
from acd.daemon import callback_policy as policy
from acd.daemon.ami_port import LinkedAmi
from acd.daemon.callback_policy import Booking
from acd.daemon.clocks import Clocks
from acd.daemon.wait_policy import calling_hours
from acd.engine.floor import Floor
from acd.logging import get_logger
from acd.settings.schema_callbacks import CallbackSettings
from acd.storage.commands import WriteCommand
from acd.storage.models import Callback

log = get_logger(__name__)
ANSWERED = "4"  # OriginateResponse Reason: AST_CONTROL_ANSWER, as recorded
RESPONSE_GRACE_S = 30.0  # beyond the ring timeout, for the OriginateResponse to arrive
AGI_WITHIN_S = 30.0  # after the answer, for the customer's leg to reach the callback route
EARLY_KEPT = 256  # OriginateResponses seen before their action returned (or someone else's)


class Ready(Protocol):
    async def read(self, query: Callable[[Floor, float], dict[str, int]]) -> dict[str, int]: ...


@dataclass(slots=True)
class _Dial:
    booking: Booking
    stage: Literal["ringing", "answered", "connected"]
    deadline: float | None  # steady clock
    action_id: str | None = None


class CallbackScheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        ami: Callable[[], LinkedAmi],
        floor: Ready,
        store: Callable[[WriteCommand], None],
        settings: CallbackSettings,
        *,
        timezone: str,
        clocks: Clocks,
    ) -> None:
        self._sessions = sessions
        self._ami = ami
        self._floor = floor
        self._store = store
        self._settings = settings
        self._timezone = timezone
        self._clock = clocks.wall  # due times and retries: stored, so wall-clock time
        self._steady = clocks.steady  # how long a dial in progress may take
        self._known: dict[str, Booking] = {}  # rows we read or changed; ours win over the table
        self._closed: set[str] = set()  # done/failed by us, until the table says so too
        self._dials: dict[str, _Dial] = {}  # callback id -> dial in progress
        self._by_action: dict[str, str] = {}
        self._early: OrderedDict[str, Message] = OrderedDict()
        self._wake = asyncio.Event()
        self.placed = 0  # Originates sent (metrics, tests)
        self.rounds = 0  # checks completed

    @property
    def in_progress(self) -> int:
        """Call-backs being dialled or talking now."""
        return len(self._dials)

    # -- the owned task ---------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except (SQLAlchemyError, OSError) as exc:  # the database is away: try next round
                log.warning("callbacks_not_checked", error=str(exc))
            self.rounds += 1
            self._wake.clear()
            try:
                async with asyncio.timeout(self._next_wait()):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _next_wait(self) -> float:
        now = self._steady()
        deadlines = [d.deadline for d in self._dials.values() if d.deadline is not None]
        wait = self._settings.check_every_s
        if deadlines:
            wait = min(wait, max(0.0, min(deadlines) - now))
        return wait

    async def check(self) -> None:
        """One round: read the table, expire lost dials, place the call-backs now due."""
        rows = await self._load()
        now = self._clock()
        self._merge(rows)
        steady = self._steady()
        for dial in list(self._dials.values()):
            if dial.deadline is not None and dial.deadline <= steady:
                self._failed(dial.booking.callback_id, now, f"no outcome ({dial.stage})")
        for booking in list(self._known.values()):
            if booking.callback_id not in self._dials and policy.stale_dialing(booking, now):
                log.info("callback_stale_dial_recovered", callback_id=booking.callback_id)
                self._settle(policy.recovered(booking, max_attempts=self._settings.max_attempts))
        for booking in policy.undialable(self._known.values(), self._settings.number_allowed):
            # not a phone number, or not one callbacks.allowed_numbers lets us call (toll fraud)
            log.warning(
                "callback_number_not_dialled",
                callback_id=booking.callback_id,
                number=booking.number,
            )
            self._settle(replace(booking, state="failed"))
        ami = self._ami()
        if not ami.connected:  # no attempt is spent while Asterisk is unreachable
            return
        s = self._settings
        hours = calling_hours(now, self._timezone, s.calling_hours, days=1)
        in_progress: defaultdict[str, int] = defaultdict(int)
        for dial in self._dials.values():
            in_progress[dial.booking.queue] += 1
        chosen = policy.to_place(
            self._known.values(),
            now,
            calling_hours=hours,
            ready_agents=await self._floor.read(policy.ready_agents),
            in_progress=in_progress,
            allowed=s.number_allowed,
        )
        for booking in chosen:
            current = self._known.get(booking.callback_id)
            if current == booking and booking.callback_id not in self._dials:  # still as chosen
                await self._originate(ami, booking, self._clock())

    async def _load(self) -> list[Booking]:
        query = select(Callback).where(Callback.state.in_(("pending", "dialing")))
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [
            Booking(
                r.id,
                r.call_id,
                r.number,
                r.queue,
                r.requested_at.timestamp(),
                r.due_at.timestamp() if r.due_at is not None else None,
                r.attempts,
                r.state,  # type: ignore[arg-type]  # the column's Enum holds only State values
            )
            for r in rows
        ]

    def _merge(self, rows: list[Booking]) -> None:
        seen = {b.callback_id for b in rows}
        self._closed &= seen  # the table caught up with what we closed
        for booking in rows:
            if booking.callback_id not in self._known and booking.callback_id not in self._closed:
                self._known[booking.callback_id] = booking
        for cid in list(self._known):
            # Our own writes never take a row out of pending/dialing except through _settle, so
            # a row gone from the table was cancelled elsewhere: forget it unless it is ringing.
            if cid not in seen and cid not in self._dials:
                del self._known[cid]

    # -- dialling ---------------------------------------------------------------------------

    async def _originate(self, ami: LinkedAmi, booking: Booking, now: float) -> None:
        s = self._settings
        booking = policy.dialled(booking, now, s.retry_after_s)
        self._settle(booking)
        dial = _Dial(booking, "ringing", self._steady() + s.ring_timeout_s + RESPONSE_GRACE_S)
        self._dials[booking.callback_id] = dial
        headers = policy.originate_headers(
            booking, channel=s.channel, caller_id=s.caller_id, ring_timeout_s=s.ring_timeout_s
        )
        self.placed += 1
        log.info("callback_dialling", callback_id=booking.callback_id, attempt=booking.attempts)
        try:
            result = await ami.action("Originate", headers, timeout=10)
        except Exception as exc:  # AmiError, timeout, connection lost: this attempt failed
            self._failed(booking.callback_id, self._clock(), f"Originate: {exc}")
            return
        if not result.ok:
            self._failed(booking.callback_id, self._clock(), f"Originate: {result.message}")
            return
        if self._dials.get(booking.callback_id) is not dial:
            return  # finished meanwhile (the AGI came and went)
        dial.action_id = result.action_id
        self._by_action[result.action_id] = booking.callback_id
        early = self._early.pop(result.action_id, None)
        if early is not None:
            self.on_event(early)

    def on_event(self, event: Message) -> None:
        """AMI event callback: cheap, never blocks."""
        if event.name != "OriginateResponse":
            return
        action_id = event.get("ActionID") or ""
        cid = self._by_action.pop(action_id, None)
        if cid is None:
            self._early[action_id] = event
            while len(self._early) > EARLY_KEPT:
                self._early.popitem(last=False)
            return
        dial = self._dials.get(cid)
        if dial is None or dial.stage == "connected":
            return
        if event.get("Reason") == ANSWERED:
            dial.stage, dial.deadline = "answered", self._steady() + AGI_WITHIN_S
            return
        self._failed(cid, self._clock(), f"OriginateResponse Reason {event.get('Reason')}")

    # -- the customer's leg (callback_flow) -------------------------------------------------

    def claim(self, callback_id: str) -> Booking | None:
        """The answered leg reached the callback route: the booking, or None if not ours."""
        dial = self._dials.get(callback_id)
        if dial is None:
            return None
        dial.stage, dial.deadline = "connected", None
        return dial.booking

    def finished(self, callback_id: str, *, served: bool) -> None:
        """The customer's leg ended: talked to an agent (done) or left before (retry)."""
        dial = self._dials.get(callback_id)
        if dial is None:
            return
        if served:
            del self._dials[callback_id]
            self._settle(replace(dial.booking, state="done"))
            self._wake.set()
        else:
            self._failed(callback_id, self._clock(), "the customer left before an agent answered")

    # -- state changes ----------------------------------------------------------------------

    def _failed(self, callback_id: str, now: float, why: str) -> None:
        dial = self._dials.pop(callback_id, None)
        if dial is None:
            return
        if dial.action_id is not None:
            self._by_action.pop(dial.action_id, None)
        s = self._settings
        b = dial.booking
        after = policy.after_failure(
            b, now, max_attempts=s.max_attempts, retry_after_s=s.retry_after_s
        )
        log.info(
            "callback_attempt_failed",
            callback_id=b.callback_id,
            attempt=b.attempts,
            reason=why,
            state=after.state,
        )
        self._settle(after)
        self._wake.set()

    def _settle(self, booking: Booking) -> None:
        """Remember and write ``booking``; a done or failed one is forgotten (kept closed)."""
        if booking.state in ("done", "failed"):
            self._known.pop(booking.callback_id, None)
            self._closed.add(booking.callback_id)
        else:
            self._known[booking.callback_id] = booking
        self._store(policy.update_command(booking))
