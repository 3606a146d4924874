"""Recording a call from the moment the agent answers, and cataloguing the file afterwards.

Not in the IVR and not while ringing: just before the caller's first ``Dial`` the call flow
runs ``EXEC MixMonitor(<file>,b...)`` over its FastAGI session, and option ``b`` writes audio
only while the caller is bridged, i.e. from the answer on (apps/app_mixmonitor.c
``mixmonitor_thread``). Over FastAGI, not AMI: the AMI ``MixMonitor`` action needs the write
class ``system``, which would let the AMI user run shell commands on the PBX (docs/security.md).
The path is also set on the channel as ``HOTLINE_RECORDING``. One MixMonitor per call: it stays
on the caller's channel through ring-no-answers and transfers.

Asterisk closes the file when the channel goes away (``mixmonitor_thread`` finishes after the
audiohook detaches), and the channel goes only after our FastAGI session has ended (a soft
hang-up waits for the AGI script), so the call flow hands the finished call over
(``call_over``) and the ``run`` task awaits the file, catalogues it off the event loop and
stores the recording id on the call row. A call nobody answered leaves only a WAV header
(mixmonitor_save_prep opens the files at once): it is deleted. A missing or broken file is
logged, never raised. Calls still being catalogued when the daemon stops are left to the
recordings audit.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from acd.asterisk.aio.agi_session import AgiError, AgiSession, ChannelHungUp
from acd.daemon.calls import CallRecord
from acd.daemon.ivr_port import CallRecorder
from acd.daemon.outputs import Outputs, utc
from acd.logging import get_logger
from acd.settings import names
from acd.storage.commands import InsertRecording

log = get_logger(__name__)
FILE_POLL_S = 0.1
FILE_WAIT_S = 5.0  # how long a finished call's file may take to be closed by Asterisk


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    root: Path  # absolute: a relative MixMonitor file lands in Asterisk's monitor spool
    dual_channel: bool = True


class CallRecording:
    def __init__(
        self,
        recorder: CallRecorder,
        outputs: Outputs,
        settings: RecordingSettings,
    ) -> None:
        self._recorder = recorder
        self._outputs = outputs
        self._settings = settings
        self._finished: asyncio.Queue[CallRecord] = asyncio.Queue()

    async def start(self, session: AgiSession, call: CallRecord, now: float) -> None:
        """Before the caller's first Dial: MixMonitor on the caller's channel over FastAGI.
        The call goes on unrecorded if Asterisk refuses; a hang-up is the caller's to report."""
        if call.recording_path is not None:
            return  # one recording per call, through re-dials and transfers
        rec = self._recorder
        path = rec.recording_path(self._settings.root, call.call_id, call.queue, utc(now))
        options = rec.mixmonitor_options(path, dual_channel=self._settings.dual_channel)
        try:
            reply = await session.exec_("MixMonitor", str(path), options)
        except ChannelHungUp:
            return
        except AgiError as exc:
            log.warning("recording_start_failed", call_id=call.call_id, error=str(exc))
            return
        if not reply.ok:  # -2 no such application, -1 failed (res_agi.c handle_exec)
            log.warning("recording_not_started", call_id=call.call_id, result=reply.result)
            return
        call.recording_path = str(path)
        with contextlib.suppress(AgiError):
            await session.set_variable(names.VAR_RECORDING, str(path))

    def call_over(self, call: CallRecord) -> None:
        """The call flow is done with the call: catalogue its recording, if there is one."""
        if call.recording_path is not None:
            self._finished.put_nowait(call)

    async def run(self) -> None:
        """The cataloguing task (one per daemon): every finished call's file, concurrently."""
        async with asyncio.TaskGroup() as tasks:
            while True:
                call = await self._finished.get()
                tasks.create_task(self._catalogue_safely(call), name=f"catalogue-{call.call_id}")

    async def _catalogue_safely(self, call: CallRecord) -> None:
        # One bad file (or a bug) must not end the cataloguing of every other call, nor the
        # daemon's task group with it: it is logged for the recordings audit instead.
        try:
            await self.catalogue(call)
        except Exception:
            log.exception(
                "recording_catalogue_failed", call_id=call.call_id, path=call.recording_path
            )

    async def catalogue(self, call: CallRecord) -> None:
        """Catalogue the finished file, set ``call.recording_id`` and rewrite the call row."""
        if call.recording_path is None:
            return
        path = Path(call.recording_path)
        await _until_closed(path)
        if call.answered_at is None:
            # never bridged: the files hold a WAV header and no audio
            await asyncio.to_thread(_discard, path, self._recorder)
            return
        found = await asyncio.to_thread(
            self._recorder.catalogue_file,
            path,
            call_id=call.call_id,
            agent_id=call.agent_id,
            queue=call.queue,
            started_at=utc(call.answered_at),
        )
        if isinstance(found, InsertRecording):
            self._outputs.store(found)  # the call row exists: written at the call's arrival
            call.recording_id = found.recording_id
            self._outputs.call_row(call, call.ended_at or call.answered_at)
        else:
            log.warning(
                "recording_not_catalogued",
                call_id=call.call_id,
                reason=found.reason,
                detail=found.detail,
            )


async def _until_closed(path: Path) -> None:
    """Wait until the file exists with a size that stopped changing, or give up (missing)."""
    last = -1
    for _ in range(round(FILE_WAIT_S / FILE_POLL_S)):
        size = await asyncio.to_thread(_size, path)
        if size > 0 and size == last:
            return
        last = size
        await asyncio.sleep(FILE_POLL_S)


def _discard(path: Path, recorder: CallRecorder) -> None:
    for file in (path, *recorder.dual_channel_paths(path)):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1
