"""Recording a call from the moment the agent answers, and cataloguing the file afterwards.

Not in the IVR and not while ringing: the call flow calls ``start`` when it learns the answer
(``DialEnd`` ANSWER on the caller's channel), which sends the AMI ``MixMonitor`` action and
returns the file's path (named by ``recording.layout``). The path is also set on the channel as
``HOTLINE_RECORDING`` (AMI ``Setvar``; the FastAGI session is busy in ``Dial``).

Asterisk closes the file only when the channel goes away (app_mixmonitor.c
``mixmonitor_thread`` finishes after the audiohook detaches), and the channel goes only after
our FastAGI session has ended (a soft hang-up waits for the AGI script). So the call flow ends
the session first, then calls ``catalogue`` in the same task: it waits for the file to be
closed, catalogues it off the event loop and returns the recording id, which the flow puts on
the call before writing the call's final row. A missing or broken file is logged, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from acd.asterisk.aio.ami_client import AmiClient
from acd.asterisk.aio.ami_session import AmiError
from acd.daemon.call_events import utc
from acd.daemon.call_state import CallState
from acd.daemon.ivr_port import CallRecorder
from acd.logging import get_logger
from acd.settings import names
from acd.storage.commands import InsertRecording, WriteCommand

log = get_logger(__name__)
FILE_POLL_S = 0.1
FILE_WAIT_S = 5.0  # how long a finished call's file may take to be closed by Asterisk


@dataclass(frozen=True, slots=True)
class RecordingSettings:
    root: Path  # absolute: a relative MixMonitor file lands in Asterisk's monitor spool
    layout: str = "{date}/{queue}/{call_id}"  # recording.yaml ``layout``
    dual_channel: bool = True


class CallRecording:
    def __init__(
        self,
        ami: Callable[[], AmiClient | None],
        recorder: CallRecorder,
        store: Callable[[WriteCommand], None],
        settings: RecordingSettings,
    ) -> None:
        self._ami = ami
        self._recorder = recorder
        self._store = store
        self._settings = settings

    async def start(self, call: CallState, answered_at: float) -> str | None:
        """MixMonitor on the caller's channel: the file's path, or None when the call goes on
        unrecorded (AMI away or refusing)."""
        ami = self._ami()
        if ami is None:
            return None
        s = self._settings
        channel = call.facts.channel
        path = self._recorder.recording_path(
            s.root,
            s.layout,
            call_id=call.call_id,
            queue=call.queue,
            agent_id=call.agent_id,
            started_at=utc(answered_at),
        )
        headers = self._recorder.mixmonitor_action_headers(
            channel, path, dual_channel=s.dual_channel
        )
        try:
            result = await ami.action("MixMonitor", headers)
            if not result.ok:
                log.warning("recording_not_started", call_id=call.call_id, why="MixMonitor refused")
                return None
            variable = [("Channel", channel), ("Variable", names.VAR_RECORDING)]
            await ami.action("Setvar", [*variable, ("Value", str(path))])
        except (AmiError, OSError) as exc:
            log.warning("recording_start_failed", call_id=call.call_id, error=str(exc))
            return None
        return str(path)

    async def catalogue(self, call: CallState) -> str | None:
        """Catalogue the finished call's file (its session is over); the recording id, or None
        when the file is missing or broken (logged for the recordings audit)."""
        if call.recording_path is None or call.answered_at is None:
            return None
        path = Path(call.recording_path)
        try:
            await _until_closed(path)
            found = await asyncio.to_thread(
                self._recorder.catalogue_file,
                path,
                call_id=call.call_id,
                agent_id=call.agent_id,
                queue=call.queue,
                started_at=utc(call.answered_at),
            )
        except Exception:  # one bad file (or a bug) must not lose the call's final row
            log.exception("recording_catalogue_failed", call_id=call.call_id, path=str(path))
            return None
        if isinstance(found, InsertRecording):
            self._store(found)  # the call row exists: written at the call's arrival
            return found.recording_id
        log.warning(
            "recording_not_catalogued",
            call_id=call.call_id,
            reason=found.reason,
            detail=found.detail,
        )
        return None


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
