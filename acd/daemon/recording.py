"""Recording each answered leg of a call from the moment the agent answers, and cataloguing the
files afterwards.

Not in the IVR, not while ringing: every ``Dial`` to an agent carries the recording in its
``U()`` option (``CallRecording.order``, ``acd.daemon.predial``): when the agent answers,
Asterisk runs that Gosub on the agent's channel before the bridge, and the rendered
``[hotline-answer]`` runs ``MixMonitor(<file>,<options>)`` there. So the recording costs no
FastAGI command of its own, and nothing on the caller's way to the ring: MixMonitor's start took
0.4-0.5 ms of Asterisk before the ring when it ran in the caller's pre-dial handler
(docs/offer-delivery.md). Option ``b`` writes audio only while bridged. Not the AMI
``MixMonitor`` action: it needs the write class ``system``, which would let the AMI user run
shell commands on the PBX (docs/security.md).

One file per answered leg (``Leg.recording``): the MixMonitor lives on the agent's channel and
ends with it, so a transferred caller's next agent is recorded in a file of its own (the leg's
number after the name, ``recordings.catalogue.recording_path``), each catalogued with its own
agent and queue. An offer nobody answers starts nothing. A resumed call numbers its legs from
past any an earlier daemon answered (``CallState.leg_base``), so no file is opened twice.

The Gosub returns ``MIXMONITOR_FILENAME``, which app_dial copies to the caller as
``GOSUB_RETVAL``; the Dial's result reads it in the same ``GET FULL VARIABLE`` as
``DIALSTATUS``, so an answered leg whose recording did not start (a dialplan installed without
``[hotline-answer]``, a file Asterisk could not open) is known when the Dial returns
(``confirmed``).

Asterisk closes a file when the agent's channel goes away (``mixmonitor_thread`` finishes after
the audiohook detaches). The call flow catalogues the call's files when its session is over, in
the same task: it waits for each file to be closed, catalogues it off the event loop and puts
the first recorded leg's id on the call before the call's final row. A missing or broken file
is logged, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from acd.daemon.call_events import utc
from acd.daemon.call_state import CallState, Leg
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

    def path_for(self, call_id: str, queue: str | None, started_at: float, leg: int = 1) -> str:
        """Where ``order`` puts the file of a call's ``leg``-th answered leg offered at
        ``started_at`` (a call left open by a daemon that died: ``acd.daemon.call_reconcile``)."""
        s = self._settings
        path = self._recorder.recording_path(
            s.root, s.layout, call_id=call_id, queue=queue, started_at=utc(started_at), leg=leg
        )
        return str(path)

    def order(self, call: CallState, now: float) -> RecordingOrder | None:
        """The recording of a call about to be offered, started by the Dial's U() if the agent
        answers (the call's next answered leg); None when its file name cannot travel in that
        option (the leg goes unrecorded)."""
        s = self._settings
        rec = self._recorder
        path = rec.recording_path(
            s.root,
            s.layout,
            call_id=call.call_id,
            queue=call.queue,
            started_at=utc(now),
            leg=call.leg_base + len(call.legs) + 1,
        )
        name = str(path)
        if not travels(name):  # (the legs' names are made from it)
            log.error("recording_path_unusable", call_id=call.call_id, path=name)
            return None
        return RecordingOrder(name, rec.mixmonitor_options(path, dual_channel=s.dual_channel))

    @staticmethod
    def confirmed(order: RecordingOrder, started_file: str) -> bool:
        """Did the answered Dial's U() Gosub start the ordered recording? (``started_file``:
        the Gosub's return, ``MIXMONITOR_FILENAME`` on the agent's channel, which MixMonitor
        sets to its file, apps/app_mixmonitor.c ``mixmonitor_exec``.)"""
        return started_file == order.path

    async def catalogue(self, call: CallState) -> str | None:
        """Catalogue the finished call's files, one per recorded leg (its session is over); the
        recording id of the first recorded leg, or None (none recorded, or that one missing or
        broken: logged), so that the call's id and ``ClosedCall.recording_path`` name one file."""
        ids: list[str | None] = []
        for number, leg in enumerate(call.legs, start=call.leg_base + 1):
            if leg.recording is not None:
                ids.append(await self._catalogue_leg(call, leg, number))
        return ids[0] if ids else None

    async def _catalogue_leg(self, call: CallState, leg: Leg, number: int) -> str | None:
        assert leg.recording is not None
        path = Path(leg.recording)
        # leg 1's id is the call's (as before legs had files of their own)
        recording_id = call.call_id if number == 1 else f"{call.call_id}-{number}"
        try:
            await _until_closed(path)
            found = await asyncio.to_thread(
                self._recorder.catalogue_file,
                path,
                call_id=call.call_id,
                agent_id=leg.agent_id or None,  # (a reconciled call may not say)
                queue=leg.queue,
                started_at=utc(leg.answered_at),
                recording_id=recording_id,
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


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1
