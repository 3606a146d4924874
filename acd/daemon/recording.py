"""Recording a call from the moment the agent answers, and cataloguing the file afterwards.

Not in the IVR and not while ringing: the AMI ``MixMonitor`` action goes out when the answer is
learnt (``DialEnd`` ANSWER on the caller's channel). Its path is set on the channel as
``HOTLINE_RECORDING`` (AMI ``Setvar``; the FastAGI session is busy in ``Dial``). Asterisk closes
the file when the channel goes away (app_mixmonitor.c ``mixmonitor_thread`` finishes after the
audiohook detaches), and the channel goes only after our FastAGI session has ended (a soft
hang-up waits for the AGI script), so the call flow hands the finished call over
(``call_over``) and the ``run`` task awaits the file, catalogues it off the event loop and
stores the recording id on the call row. A missing or broken file is logged, never raised.
Calls still being catalogued when the daemon stops are left to the recordings audit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from acd.asterisk.aio.ami_client import AmiClient
from acd.asterisk.aio.ami_session import AmiError
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
        ami: Callable[[], AmiClient | None],
        recorder: CallRecorder,
        outputs: Outputs,
        settings: RecordingSettings,
    ) -> None:
        self._ami = ami
        self._recorder = recorder
        self._outputs = outputs
        self._settings = settings
        self._finished: asyncio.Queue[CallRecord] = asyncio.Queue()

    async def start_on_answer(self, call: CallRecord, answered: asyncio.Event) -> None:
        """Beside the Dial (it blocks the FastAGI session for the whole talk)."""
        await answered.wait()
        if call.answered_at is not None:
            await self.start(call, call.answered_at)

    async def start(self, call: CallRecord, answered_at: float) -> None:
        """MixMonitor on the caller's channel; the call goes on unrecorded if AMI refuses."""
        ami = self._ami()
        if ami is None:
            return
        rec = self._recorder
        path = rec.recording_path(self._settings.root, call.call_id, call.queue, utc(answered_at))
        headers = rec.mixmonitor_action_headers(
            call.channel, path, dual_channel=self._settings.dual_channel
        )
        try:
            result = await ami.action("MixMonitor", headers)
            if not result.ok:
                log.warning("recording_not_started", call_id=call.call_id, why="MixMonitor refused")
                return
            call.recording_path = str(path)
            variable = [("Channel", call.channel), ("Variable", names.VAR_RECORDING)]
            await ami.action("Setvar", [*variable, ("Value", str(path))])
        except (AmiError, OSError) as exc:
            log.warning("recording_start_failed", call_id=call.call_id, error=str(exc))

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
        if call.recording_path is None or call.answered_at is None:
            return
        path = Path(call.recording_path)
        await _until_closed(path)
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1
