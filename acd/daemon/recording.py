"""Recording a call from the moment the agent answers, and cataloguing the file afterwards.

Not in the IVR and not while ringing: the caller's first ``Dial`` carries the recording in its
pre-dial handler (``CallRecording.order``, ``acd.daemon.predial``): Asterisk runs that Gosub on
the caller's channel before it rings the agent, and the rendered ``[hotline-predial]`` runs
``MixMonitor(<file>,<options>)`` there. So the recording costs no FastAGI command of its own:
each one before the Dial is a round trip the caller waits through before the agent's phone rings
(an ``EXEC MixMonitor`` was ~0.4 ms of Asterisk and ~0.7 ms of the daemon on a real Asterisk,
docs/offer-delivery.md). Option ``b`` writes audio only while the caller is bridged, i.e. from
the answer on (apps/app_mixmonitor.c ``mixmonitor_thread``). Not the AMI ``MixMonitor`` action:
it needs the write class ``system``, which would let the AMI user run shell commands on the PBX
(docs/security.md). One MixMonitor per call: it stays on the caller's channel through
ring-no-answers and transfers.

MixMonitor puts the file on the channel (``MIXMONITOR_FILENAME``, RECORDED in the shared
transcripts); the Dial's result reads it in the same ``GET FULL VARIABLE`` as ``DIALSTATUS``,
so a recording that did not start (a dialplan installed without ``[hotline-predial]``, a file
Asterisk could not open) is known when the Dial returns (``confirmed``), and the next Dial asks
again.

Asterisk closes the file when the channel goes away (``mixmonitor_thread`` finishes after the
audiohook detaches), and the channel goes only after our FastAGI session has ended (a soft
hang-up waits for the AGI script). So the call flow ends the session first, then calls
``catalogue`` in the same task: it waits for the file to be closed, catalogues it off the event
loop and returns the recording id, which the flow puts on the call before the call's final row.
A call nobody answered leaves only a WAV header (mixmonitor_save_prep opens the files at once):
it is deleted. A missing or broken file is logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from acd.daemon.call_events import utc
from acd.daemon.call_state import CallState
from acd.daemon.ivr_port import CallRecorder
from acd.daemon.predial import RecordingOrder, travels
from acd.logging import get_logger
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
        recorder: CallRecorder,
        store: Callable[[WriteCommand], None],
        settings: RecordingSettings,
    ) -> None:
        self._recorder = recorder
        self._store = store
        self._settings = settings

    def path_for(self, call_id: str, queue: str | None, started_at: float) -> str:
        """Where ``start`` puts the file of a call whose recording began at ``started_at`` (a
        call left open by a daemon that died: ``acd.daemon.call_reconcile``)."""
        s = self._settings
        path = self._recorder.recording_path(
            s.root, s.layout, call_id=call_id, queue=queue, started_at=utc(started_at)
        )
        return str(path)

    def order(self, call: CallState, now: float) -> RecordingOrder | None:
        """The recording of a call about to be offered, as the first Dial's pre-dial handler;
        None when its file name cannot travel in that option (the call goes unrecorded)."""
        s = self._settings
        rec = self._recorder
        path = rec.recording_path(
            s.root, s.layout, call_id=call.call_id, queue=call.queue, started_at=utc(now)
        )
        name = str(path)
        if not travels(name):  # (the legs' names are made from it)
            log.error("recording_path_unusable", call_id=call.call_id, path=name)
            return None
        return RecordingOrder(name, rec.mixmonitor_options(path, dual_channel=s.dual_channel))

    @staticmethod
    def confirmed(order: RecordingOrder, mixmonitor_filename: str) -> bool:
        """Did the Dial's pre-dial handler start the ordered recording? (MixMonitor sets
        ``MIXMONITOR_FILENAME`` to its file, apps/app_mixmonitor.c ``mixmonitor_exec``.)"""
        return mixmonitor_filename == order.path

    async def catalogue(self, call: CallState) -> str | None:
        """Catalogue the finished call's file (its session is over); the recording id, or None
        (never answered: the header-only files are deleted; missing or broken: logged)."""
        if call.recording_path is None:
            return None
        path = Path(call.recording_path)
        try:
            await _until_closed(path)
            if call.answered_at is None:
                # never bridged: the files hold a WAV header and no audio
                await asyncio.to_thread(_discard, path, self._recorder)
                return None
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
        why, detail = found.reason, found.detail
        log.warning("recording_not_catalogued", call_id=call.call_id, reason=why, detail=detail)
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


def _discard(path: Path, recorder: CallRecorder) -> None:
    for file in (path, *recorder.dual_channel_paths(path)):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1
