"""Calls a previous daemon left open: closed by the next one (restarted, or the standby).

A daemon that dies (SIGKILL, a crash, a lost leadership) leaves rows without an outcome: its
callers were waiting, ringing or talking. Asterisk keeps them: a waiting caller is offered to a
daemon again by the dialplan (route ``resume``: that daemon continues the row itself, so this
module leaves it alone, ``resumed``) or goes to the fallback ``Queue()``; a bridged Dial outlives
the FastAGI session and the conversation goes on (RECORDED q2 d, c2). Once, at start, with AMI
logged in (``CoreShowChannels``):
- a row whose channel is still there is followed until Asterisk's ``Hangup`` of it: answered
  before the daemon died -> ``answered``, ended at the hang-up, its recording catalogued; never
  answered and not resumed -> ``fallback`` if it joined a ``Queue()``, else ``abandoned``;
- a row whose channel is already gone: ``answered`` (if it was) or ``abandoned``, ended now
  (the real end was not observed; logged);
- a row a stopping daemon wrote ``failed`` in conversation (hung up by ``system``) whose channel
  is still there is followed like the first kind (the conversation outlived that daemon);
- a row a stopping daemon wrote ``fallback`` (handed back) while the caller's Dial still rang:
  followed, and corrected to ``answered`` only if that Dial is answered (``DialEnd`` ANSWER; the
  Dial outlives the session, RECORDED q2 c2); a ring answered after a SIGKILL likewise, also
  when the answer came before this daemon was up (the caller's ``Dial`` is bridged in
  ``CoreShowChannels``: answered, at the time of that look, the real one being unseen);
- a row this daemon took again (``resumed``), or one handed back after a conversation (a
  transferred caller waiting again, by a daemon whose sessions were cancelled; within a day):
  its outcome is not written here, but the legs it holds are over and their recordings are
  catalogued (``LegsOver``): the resuming flow catalogues only its own legs.
Decisions are the pure ``closure``; the rest reads the rows, asks AMI and writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.asterisk.aio.ami_client import AmiClient, AmiError
from acd.asterisk.ami.message import Message
from acd.daemon.call_events import utc
from acd.daemon.call_state import CallState, Leg
from acd.daemon.call_steps import Arrival
from acd.daemon.calls import CallRegistry
from acd.daemon.recording import CallRecording
from acd.logging import get_logger
from acd.storage.agent_legs import LegRow, legs_of
from acd.storage.commands import UpsertCall, WriteCommand
from acd.storage.models.calls import Call as CallRow
from acd.storage.models.calls import Outcome

log = get_logger(__name__)

# A handed-back row's legs are looked at by the starts of this long after it: a leg whose file
# never came is not waited for (up to 5 s each) at every start for ever.
LEGS_OVER_WITHIN_S = 86_400.0


@dataclass(frozen=True, slots=True)
class OpenCall:
    call_id: str
    uniqueid: str | None
    answered_at: float | None
    queue: str | None
    agent_id: str | None
    # written "failed" by a daemon that stopped (or was cancelled) mid-conversation: corrected
    # only if the conversation is seen going on
    failed_at_stop: bool = False
    answer_seen: bool = False  # answered after its daemon died (the Dial outlives it: q2 c2)
    # written "fallback" by a daemon that stopped while the caller's Dial rang: corrected only
    # if that Dial is seen answered
    handed_back: bool = False
    legs: tuple[LegRow, ...] = ()  # the answered legs the row holds (calls.agent_legs)


@dataclass(frozen=True, slots=True)
class LegsOver:
    """A row whose answered legs are all over and whose outcome is not this module's to write:
    taken again by this daemon (route ``resume``: its flow writes the row now), or handed back
    after a conversation (a transferred caller, by a daemon whose sessions were cancelled).
    The caller came back through the dialplan, so the legs' Dials ended; their recordings are
    catalogued here, which the resuming flow (its own legs only) does not."""

    call: OpenCall
    resumed: bool  # False: handed back, its row then takes the first leg's recording id


@dataclass(frozen=True, slots=True)
class Closure:
    outcome: Outcome
    ended_at: float
    observed: bool  # the end was seen (AMI Hangup), not assumed


def closure(call: OpenCall, *, ended_at: float, observed: bool, queued: bool) -> Closure:
    """How a call another daemon left open ends: answered if it was; else the fallback
    ``Queue()`` took the caller (``queued``: seen joining it), or they left unanswered."""
    if call.answered_at is not None:
        return Closure("answered", ended_at, observed)
    return Closure("fallback" if queued else "abandoned", ended_at, observed)


def _legs(call_id: str, stored: Any) -> tuple[LegRow, ...]:
    """The row's answered legs; a malformed ``agent_legs`` is logged and read as none, so one
    bad row cannot stop the reconcile (nor the daemon, whose task it is)."""
    try:
        return tuple(legs_of(call_id, stored, None))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        log.error("call_legs_unreadable", call_id=call_id, error=repr(exc))
        return ()


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class CallReconcile:
    def __init__(
        self,
        db: AsyncEngine,
        registry: CallRegistry,
        store: Callable[[WriteCommand], None],
        *,
        recording: CallRecording | None,
        clock: Callable[[], float],
    ) -> None:
        self._db = db
        self._registry = registry
        self._store = store
        self._recording = recording
        self._clock = clock
        self._following: dict[str, OpenCall] = {}  # by channel Uniqueid
        self._queued: set[str] = set()  # Uniqueids seen joining a Queue()
        self._resumed: set[str] = set()  # call ids this daemon took again: never closed here
        self._finished = False
        # a followed call's hang-up, or a resumed row's legs to catalogue
        self._ended: asyncio.Queue[tuple[OpenCall, float] | LegsOver] = asyncio.Queue()
        self.closed = 0

    def resumed(self, call_id: str) -> None:
        """A daemon took this call again (route ``resume``): its flow writes the row now."""
        if self._finished:
            return
        self._resumed.add(call_id)  # also if its row is read after this (the writer's backlog)
        for uniqueid, call in list(self._following.items()):
            if call.call_id == call_id:
                del self._following[uniqueid]
                self._ended.put_nowait(LegsOver(call, resumed=True))

    async def run(self, ami: AmiClient, ami_up: asyncio.Event) -> None:
        """Once the first AMI login is done: close or follow every open row, then follow the
        live ones to their end (a task of the daemon's TaskGroup; cancelled at stop)."""
        await ami_up.wait()
        unsubscribe = ami.subscribe(self._on_event)
        try:
            if not await self._start(ami):
                return
            while self._following or not self._ended.empty():
                ended = await self._ended.get()
                if isinstance(ended, LegsOver):
                    await self._legs_over(ended)
                else:
                    await self._close(*ended, observed=True)
        finally:
            unsubscribe()
            self._finished, self._resumed, self._queued = True, set(), set()

    async def _start(self, ami: AmiClient) -> bool:
        rows, over = await self._open_rows()
        for call in over:
            self._ended.put_nowait(LegsOver(call, resumed=call.call_id in self._resumed))
        if not rows:
            return not self._ended.empty()
        try:
            channels = await ami.action("CoreShowChannels", timeout=10)
        except AmiError as exc:
            log.warning("call_reconcile_skipped", error=str(exc), open_rows=len(rows))
            return False
        live = {item.get("Uniqueid") for item in channels.events}
        # the caller's own Dial bridged: an agent answered while no daemon ran (its DialEnd went
        # by unseen); a fallback Queue()'s bridge is not this (its Application is Queue)
        talking = {
            item.get("Uniqueid")
            for item in channels.events
            if item.get("BridgeId") and item.get("Application") == "Dial"
        }
        now = self._clock()
        gone: list[OpenCall] = []
        for call in rows:  # all followed before the first await: no Hangup slips through
            if call.uniqueid is not None and call.uniqueid in live:
                followed = call
                if call.answered_at is None and call.agent_id and call.uniqueid in talking:
                    followed = replace(call, answered_at=now, answer_seen=True)
                    log.warning("call_answered_unseen", call_id=call.call_id, answered_by="now")
                self._following[call.uniqueid] = followed
            elif not (call.failed_at_stop or call.handed_back):
                gone.append(call)
        for call in gone:
            await self._close(call, now, False)
        log.info("call_reconcile", open_rows=len(rows), following=len(self._following))
        return bool(self._following) or not self._ended.empty()

    async def _open_rows(self) -> tuple[list[OpenCall], list[OpenCall]]:
        """(rows to close or follow, rows whose legs are over: ``LegsOver``)."""
        t = CallRow.__table__
        failed_talking = and_(
            t.c.outcome == "failed", t.c.answered_at.is_not(None), t.c.hung_up_by == "system"
        )
        handed_back = and_(
            t.c.outcome == "fallback", t.c.answered_at.is_(None), t.c.hung_up_by == "system"
        )
        handed_back_talked = and_(  # a transferred caller waiting again (legs only), once
            t.c.outcome == "fallback",
            t.c.answered_at.is_not(None),
            t.c.hung_up_by == "system",
            t.c.agent_legs.is_not(None),
            t.c.recording_id.is_(None),
            t.c.ended_at >= utc(self._clock() - LEGS_OVER_WITHIN_S),
        )
        query = select(
            t.c.id,
            t.c.uniqueid,
            t.c.answered_at,
            t.c.queue,
            t.c.agent_id,
            t.c.outcome,
            t.c.agent_legs,
        ).where(
            or_(t.c.outcome.is_(None), failed_talking, handed_back, handed_back_talked),
            t.c.handled_by == "daemon",
        )
        async with self._db.connect() as conn:
            result = await conn.execute(query)
            found = [
                OpenCall(
                    r.id,
                    r.uniqueid,
                    _epoch(r.answered_at),
                    r.queue,
                    r.agent_id,
                    failed_at_stop=r.outcome == "failed",
                    handed_back=r.outcome == "fallback",
                    legs=_legs(r.id, r.agent_legs),
                )
                for r in result
            ]
        over = [
            c
            for c in found
            if c.call_id in self._resumed or (c.handed_back and c.answered_at is not None)
        ]
        taken = {c.call_id for c in over}
        rows = [
            c for c in found if self._registry.get(c.call_id) is None and c.call_id not in taken
        ]
        return rows, over

    def _on_event(self, event: Message) -> None:
        uniqueid = event.get("Uniqueid") or ""
        if event.name == "QueueCallerJoin":
            self._queued.add(uniqueid)
        elif event.name == "DialEnd" and uniqueid in self._following:
            call = self._following[uniqueid]
            if event.get("DialStatus") == "ANSWER" and call.answered_at is None:
                # rung before its daemon died, answered after: the Dial went on (RECORDED q2 c2)
                answered = replace(call, answered_at=self._clock(), answer_seen=True)
                self._following[uniqueid] = answered
        elif event.name == "Hangup" and uniqueid in self._following:
            call = self._following.pop(uniqueid)
            self._ended.put_nowait((call, self._clock()))

    async def _close(self, call: OpenCall, at: float, observed: bool) -> None:
        if call.handed_back and not call.answer_seen:
            return  # the fallback Queue() or a resume had them: their row is right as it is
        queued = call.uniqueid in self._queued
        end = closure(call, ended_at=at, observed=observed, queued=queued)
        values: dict[str, object] = {"outcome": end.outcome, "ended_at": utc(end.ended_at)}
        if call.answer_seen and call.answered_at is not None:
            values["answered_at"] = utc(call.answered_at)
        recording_id = await self._catalogue(call) if end.outcome == "answered" else None
        if recording_id is not None:
            values["recording_id"] = recording_id
        key = f"{call.call_id}:reconciled"
        self._store(UpsertCall(idempotency_key=key, call_id=call.call_id, values=values))
        self.closed += 1
        log.warning(
            "call_closed_after_restart",
            call_id=call.call_id,
            outcome=end.outcome,
            end_observed=observed,  # False: ended "now", the real end was not seen
            recording_id=recording_id,
        )

    async def _legs_over(self, over: LegsOver) -> None:
        call = over.call
        recording_id = await self._catalogue(call) if call.legs else None
        if recording_id is not None and not over.resumed:  # read again at the next start if not
            key = f"{call.call_id}:reconciled-legs"
            values: dict[str, object] = {"recording_id": recording_id}
            self._store(UpsertCall(idempotency_key=key, call_id=call.call_id, values=values))
        log.info("call_legs_catalogued", call_id=call.call_id, recording_id=recording_id)

    async def _catalogue(self, call: OpenCall) -> str | None:
        if self._recording is None or call.answered_at is None:
            return None
        # No look for the files first: one may still be written as the Hangup arrives (the
        # catalogue waits for it to settle, and logs one that never comes). Each answered leg
        # the row holds, with the file its daemon ordered (rows of calls that daemon had
        # resumed hold none of that daemon's own legs: those are not catalogued here).
        recording = self._recording
        legs: list[Leg] = []
        for number, row in enumerate(call.legs, start=1):
            at = row.answered_at.timestamp()
            path = row.recording  # as the daemon ordered it; None: none started
            if not row.recording_stored:  # a row from before legs carried it
                path = recording.path_for(call.call_id, row.queue, at, number)
            legs.append(Leg(row.agent_id, row.queue, at, recording=path))
        if not call.legs:  # answered after its daemon died: the first leg's, as ordered
            path = recording.path_for(call.call_id, call.queue, call.answered_at)
            legs.append(Leg(call.agent_id or "", call.queue, call.answered_at, recording=path))
        facts = Arrival(call.call_id, call.uniqueid or "", "", "", None, call.answered_at)
        state = replace(
            CallState(facts),
            queue=call.queue,
            agent_id=call.agent_id,
            answered_at=call.answered_at,
            legs=tuple(legs),
        )
        return await recording.catalogue(state)
