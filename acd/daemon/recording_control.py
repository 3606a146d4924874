"""Pausing a call's recording while the caller gives sensitive data (card number, passwords).

The agent (feature code ``*16``) or the API asks; the recording of the agent's current answered
call is muted with AMI ``MixMonitorMute`` on the caller's channel, which carries the MixMonitor.
The pause policy (when to resume on its own, the headers) is the ``recordings`` package's
``PauseState``, reached through ``acd.daemon.ivr_port``. ``run`` is the one owned timer task:
it sleeps until the next automatic resume and is woken whenever a pause starts or a paused
caller's channel hangs up. Each finished pause becomes a ``recording_pauses`` row and the call's
timeline gets ``recording_paused`` / ``recording_resumed`` (stored only, not published).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from acd.asterisk.aio.ami_client import AmiClient
from acd.asterisk.aio.ami_session import AmiError
from acd.asterisk.ami.message import Message
from acd.daemon.calls import CallRecord, CallRegistry
from acd.daemon.ivr_port import FinishedPause, PauseState, RecordingPauses
from acd.daemon.outputs import Outputs, utc
from acd.logging import get_logger
from acd.storage.commands import InsertRecordingPause

log = get_logger(__name__)
RETRY_S = 1.0  # an automatic resume the PBX refused is tried again after this long


class RecordingRefused(Exception):
    """Nothing to pause or resume (no recorded call in progress), or the PBX said no."""


@dataclass(slots=True)
class _Paused:
    call: CallRecord
    state: PauseState
    gone_at: float | None = None  # the caller's channel hung up: nothing left to unmute


class RecordingControl:
    def __init__(
        self,
        registry: CallRegistry,
        ami: Callable[[], AmiClient | None],
        outputs: Outputs,
        pauses: RecordingPauses,
        *,
        max_pause_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._registry = registry
        self._ami = ami
        self._outputs = outputs
        self._new_state = pauses
        self._max_pause_s = max_pause_s
        self._clock = clock
        self._paused: dict[str, _Paused] = {}  # call id -> its recording's pause
        self._wake = asyncio.Event()

    def recorded_call(
        self, *, agent_id: str | None = None, call_id: str | None = None
    ) -> CallRecord:
        """The answered, recorded call in progress (the agent's, or by id), else refused."""
        for call in self._registry:
            if call_id is not None and call.call_id != call_id:
                continue
            if agent_id is not None and call.agent_id != agent_id:
                continue
            if call.answered_at is None or call.ended_at is not None:
                continue
            if call.recording_path is None:
                continue
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
    ) -> tuple[CallRecord, datetime]:
        """Mute the recording; returns the call and when it resumes on its own."""
        call = self.recorded_call(agent_id=agent_id, call_id=call_id)
        if call.call_id in self._paused:
            raise RecordingRefused(f"call {call.call_id}: the recording is already paused")
        state = self._new_state(call.call_id, call.channel, max_pause_s=self._max_pause_s)
        now = self._clock()
        headers = state.pause(utc(now), reason=reason, by=by)
        resume_at = state.resume_at
        if headers is None or resume_at is None:  # a fresh state is never paused already
            raise RecordingRefused(f"call {call.call_id}: the recording is already paused")
        self._paused[call.call_id] = _Paused(call, state)  # taken while AMI answers
        if not await self._mute(call, headers):
            self._paused.pop(call.call_id, None)
            raise RecordingRefused(f"call {call.call_id}: the PBX did not pause the recording")
        self._outputs.call_event(
            call,
            "recording_paused",
            now,
            call.agent_id,
            reason=reason,
            by=by,
            resume_at=resume_at.isoformat(),
        )
        self._wake.set()
        log.info("recording_paused", call_id=call.call_id, by=by, reason=reason)
        return call, resume_at

    async def resume(
        self, *, agent_id: str | None = None, call_id: str | None = None, by: str | None = None
    ) -> CallRecord:
        """Unmute now (the agent or a supervisor asked)."""
        call = self.recorded_call(agent_id=agent_id, call_id=call_id)
        paused = self._paused.get(call.call_id)
        if paused is None:
            raise RecordingRefused(f"call {call.call_id}: the recording is not paused")
        if not await self._unmute(paused, self._clock(), auto=False, by=by):
            raise RecordingRefused(f"call {call.call_id}: the PBX did not resume the recording")
        return call

    def on_event(self, event: Message) -> None:
        """AMI event callback: a paused caller's channel hung up (cheap, never blocks)."""
        if event.name != "Hangup":
            return
        channel = event.get("Channel")
        for paused in self._paused.values():
            if paused.call.channel == channel and paused.gone_at is None:
                paused.gone_at = self._clock()
                self._wake.set()

    async def run(self) -> None:
        """The timer task (one per daemon): automatic resumes and pauses of ended calls."""
        try:
            while True:
                self._wake.clear()
                wait = await self._sweep(self._clock())
                try:
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            # The daemon stops: a pause still open ends now (the channel goes with Asterisk's
            # own hang-up or stays muted until its call ends; either way the row is kept).
            now = self._clock()
            for paused in list(self._paused.values()):
                self._ended(paused, now)

    async def _sweep(self, now: float) -> float | None:
        """Resume what is due, close pauses of ended calls; seconds until the next due one."""
        next_due: float | None = None
        for paused in list(self._paused.values()):
            call = paused.call
            if paused.gone_at is not None or call.ended_at is not None:
                self._ended(paused, paused.gone_at or call.ended_at or now)
                continue
            resume_at = paused.state.resume_at
            if resume_at is None:
                continue
            due_in = resume_at.timestamp() - now
            if due_in <= 0 and not await self._unmute(paused, now, auto=True, by=None):
                due_in = RETRY_S
            if due_in > 0:
                next_due = due_in if next_due is None else min(next_due, due_in)
        return next_due

    async def _unmute(self, paused: _Paused, now: float, *, auto: bool, by: str | None) -> bool:
        at = utc(now)
        finished = paused.state.resume_due(at) if auto else paused.state.resume(at)
        if finished is None:
            return True  # not paused any more: nothing to send
        headers, record = finished
        if not await self._mute(paused.call, headers):
            # Still muted in the PBX: keep the pause open exactly as it was.
            paused.state.pause(record.paused_at, reason=record.reason, by=record.requested_by)
            return False
        self._paused.pop(paused.call.call_id, None)
        self._store(paused.call, record, now, by=by)
        return True

    def _ended(self, paused: _Paused, at: float) -> None:
        """The call ended while paused: close the pause with no action (no channel left)."""
        self._paused.pop(paused.call.call_id, None)
        record = paused.state.call_ended(utc(at))
        if record is not None:
            self._store(paused.call, record, at, by=None)

    def _store(self, call: CallRecord, record: FinishedPause, at: float, *, by: str | None) -> None:
        self._outputs.store(
            InsertRecordingPause(
                idempotency_key=f"{call.call_id}:rp:{record.paused_at.timestamp():.6f}",
                call_id=record.call_id,
                channel=record.channel,
                paused_at=record.paused_at,
                resumed_at=record.resumed_at,
                reason=record.reason,
                requested_by=record.requested_by,
                auto_resumed=record.auto_resumed,
            )
        )
        self._outputs.call_event(
            call,
            "recording_resumed",
            at,
            call.agent_id,
            auto=record.auto_resumed,
            by=by,
            paused_s=round((record.resumed_at - record.paused_at).total_seconds(), 3),
        )
        log.info("recording_resumed", call_id=call.call_id, auto=record.auto_resumed)

    async def _mute(self, call: CallRecord, headers: list[tuple[str, str]]) -> bool:
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
