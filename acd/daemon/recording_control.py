"""Pausing a call's recording while the caller gives sensitive data (card number, passwords).

The agent (feature code ``*16``) or the API asks; the recording of the agent's current answered
call is muted with AMI ``MixMonitorMute`` on the agent's leg, which carries the MixMonitor (started
at the answer, ``acd.daemon.recording``; the leg's channel is AMI's ``DialEnd`` DestChannel).
The pause policy (when to resume on its own, the headers) is the ``recordings`` package's
``PauseState``, reached through ``acd.daemon.ivr_port``. ``run`` is the one owned timer task: it
sleeps (on the steady clock) until the next automatic resume and is woken when a pause starts.
Each finished pause becomes a ``recording_pauses`` row. The call itself is never touched here:
each pause and resume is sent to the call as a ``RecordingNote`` and the call flow adds the
``recording_paused`` / ``recording_resumed`` step; when the conversation ends the flow closes a
pause still open (``leg_over``) and gets the note back as a value.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from acd.asterisk.aio.ami_client import AmiClient
from acd.asterisk.aio.ami_session import AmiError
from acd.daemon.call_events import utc
from acd.daemon.calls import Call, CallRegistry, RecordingNote
from acd.daemon.clocks import Clocks
from acd.daemon.ivr_port import FinishedPause, PauseState, RecordingPauses
from acd.logging import get_logger
from acd.storage.commands import InsertRecordingPause, WriteCommand

log = get_logger(__name__)
RETRY_S = 1.0  # an automatic resume the PBX refused is tried again after this long


class RecordingRefused(Exception):
    """Nothing to pause or resume (no recorded call in progress), or the PBX said no."""


@dataclass(slots=True)
class _Paused:
    call: Call
    state: PauseState
    due: float  # steady-clock time of the automatic resume


class RecordingControl:
    def __init__(
        self,
        registry: CallRegistry,
        ami: Callable[[], AmiClient | None],
        store: Callable[[WriteCommand], None],
        pauses: RecordingPauses,
        *,
        max_pause_s: float,
        clocks: Clocks,
    ) -> None:
        self._registry = registry
        self._ami = ami
        self._store = store
        self._new_state = pauses
        self._max_pause_s = max_pause_s
        self._clocks = clocks
        self._paused: dict[str, _Paused] = {}  # call id -> its recording's pause
        self._wake = asyncio.Event()

    def recorded_call(self, *, agent_id: str | None = None, call_id: str | None = None) -> Call:
        """The answered, recorded call in progress (the agent's, or by id), else refused."""
        for call in self._registry:
            state = call.state
            if call_id is not None and call.call_id != call_id:
                continue
            if agent_id is not None and state.agent_id != agent_id:
                continue
            # the MixMonitor is on the agent's leg (started at its answer): its channel needed
            if state.talking and state.legs[-1].recording and state.agent_channel is not None:
                return call
        who = f"agent {agent_id}" if agent_id is not None else f"call {call_id}"
        raise RecordingRefused(f"{who}: no recorded call in progress")

    def paused_calls(self) -> list[str]:
        return list(self._paused)

    async def pause(
        self,
        *,
        agent_id: str | None = None,
        call_id: str | None = None,
        reason: str | None = None,
        by: str | None = None,
    ) -> tuple[Call, datetime]:
        """Mute the recording; returns the call and when it resumes on its own."""
        call = self.recorded_call(agent_id=agent_id, call_id=call_id)
        if call.call_id in self._paused:
            raise RecordingRefused(f"call {call.call_id}: the recording is already paused")
        channel = call.state.agent_channel
        assert channel is not None  # (recorded_call)
        state = self._new_state(call.call_id, channel, max_pause_s=self._max_pause_s)
        now = self._clocks.wall()
        headers = state.pause(utc(now), reason=reason, by=by)
        resume_at = state.resume_at
        if headers is None or resume_at is None:  # a fresh state is never paused already
            raise RecordingRefused(f"call {call.call_id}: the recording is already paused")
        paused = _Paused(call, state, self._clocks.steady() + self._max_pause_s)
        self._paused[call.call_id] = paused  # taken while AMI answers
        muted = await self._mute(call, headers)
        if self._paused.get(call.call_id) is not paused:
            raise RecordingRefused(f"call {call.call_id}: the conversation ended")
        if not muted:
            del self._paused[call.call_id]
            raise RecordingRefused(f"call {call.call_id}: the PBX did not pause the recording")
        note = RecordingNote(now, True, reason=reason, by=by, resume_at=resume_at.timestamp())
        call.signals.requests.put_nowait(note)
        self._wake.set()
        log.info("recording_paused", call_id=call.call_id, by=by, reason=reason)
        return call, resume_at

    async def resume(
        self, *, agent_id: str | None = None, call_id: str | None = None, by: str | None = None
    ) -> Call:
        """Unmute now (the agent or a supervisor asked)."""
        call = self.recorded_call(agent_id=agent_id, call_id=call_id)
        paused = self._paused.get(call.call_id)
        if paused is None:
            raise RecordingRefused(f"call {call.call_id}: the recording is not paused")
        if not await self._unmute(paused, auto=False, by=by):
            raise RecordingRefused(f"call {call.call_id}: the PBX did not resume the recording")
        return call

    def leg_over(self, call_id: str, at: float) -> RecordingNote | None:
        """The call flow: the conversation ended. A pause still open closes now, with no action
        (the channel is going); its row is stored and its note returned for the timeline."""
        paused = self._paused.pop(call_id, None)
        if paused is None:
            return None
        record = paused.state.call_ended(utc(at))
        if record is None:
            return None
        self._store_pause(record)
        return _resumed_note(record, at, by=None)

    async def run(self) -> None:
        """The timer task (one per daemon): automatic resumes."""
        try:
            while True:
                self._wake.clear()
                wait = await self._sweep(self._clocks.steady())
                try:
                    async with asyncio.timeout(None if math.isinf(wait) else wait):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            # The daemon stops: a pause still open ends now (the channel goes with Asterisk's
            # own hang-up or stays muted until its call ends; either way the row is kept).
            now = self._clocks.wall()
            for paused in list(self._paused.values()):
                record = paused.state.call_ended(utc(now))
                if record is not None:
                    self._store_pause(record)
            self._paused.clear()

    async def _sweep(self, now: float) -> float:
        """Resume what is due; seconds until the next one is (inf: none paused)."""
        next_due = math.inf
        for paused in list(self._paused.values()):
            if paused.due <= now and not await self._unmute(paused, auto=True, by=None):
                paused.due = now + RETRY_S
            if self._paused.get(paused.call.call_id) is paused:
                next_due = min(next_due, max(0.0, paused.due - now))
        return next_due

    async def _unmute(self, paused: _Paused, *, auto: bool, by: str | None) -> bool:
        wall = utc(self._clocks.wall())
        if auto:
            # Due by the steady clock; stamped no earlier than the policy's own resume time
            # (a wall clock set back must not make the policy refuse a due resume).
            due = paused.state.resume_at
            finished = paused.state.resume_due(max(wall, due) if due is not None else wall)
        else:
            finished = paused.state.resume(wall)
        if finished is None:
            return True  # not paused any more: nothing to send
        headers, record = finished
        call = paused.call
        muted_off = await self._mute(call, headers)
        if self._paused.get(call.call_id) is not paused:  # the conversation ended meanwhile
            self._store_pause(record)
            return True
        if not muted_off:
            # Still muted in the PBX: keep the pause open exactly as it was.
            paused.state.pause(record.paused_at, reason=record.reason, by=record.requested_by)
            return False
        del self._paused[call.call_id]
        self._store_pause(record)
        at = record.resumed_at.timestamp()
        call.signals.requests.put_nowait(_resumed_note(record, at, by=by))
        log.info("recording_resumed", call_id=call.call_id, auto=record.auto_resumed)
        return True

    def _store_pause(self, record: FinishedPause) -> None:
        self._store(
            InsertRecordingPause(
                idempotency_key=f"{record.call_id}:rp:{record.paused_at.timestamp():.6f}",
                call_id=record.call_id,
                channel=record.channel,
                paused_at=record.paused_at,
                resumed_at=record.resumed_at,
                reason=record.reason,
                requested_by=record.requested_by,
                auto_resumed=record.auto_resumed,
            )
        )

    async def _mute(self, call: Call, headers: list[tuple[str, str]]) -> bool:
        ami = self._ami()
        if ami is None:
            return False
        try:
            result = await ami.action("MixMonitorMute", headers)
        except (AmiError, OSError) as exc:
            log.warning("mixmonitor_mute_failed", call_id=call.call_id, error=str(exc))
            return False
        if not result.ok:
            log.warning("mixmonitor_mute_refused", call_id=call.call_id, error=result.message)
        return result.ok


def _resumed_note(record: FinishedPause, at: float, *, by: str | None) -> RecordingNote:
    paused_s = (record.resumed_at - record.paused_at).total_seconds()
    return RecordingNote(at, False, by=by, auto=record.auto_resumed, paused_s=paused_s)
