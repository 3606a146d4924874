"""What the daemon needs from an IVR: the kernel's side of the ``ivr`` feature package.

The call flow hands the caller's FastAGI session to an ``IvrRunner`` and gets an ``IvrOutcome``
back: where the caller wants to go and the path that got them there (stored on the call row).
The ``ivr`` package implements the runner; the composition root wires it in. The same goes for
the post-call survey (``ivr``) and the recording files (``recordings``): the kernel names what it
needs here and never imports the feature packages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.asterisk.aio.agi_session import AgiSession
from acd.storage.commands import InsertRecording

OutcomeKind = Literal["queue", "self_service", "callback", "closed", "hangup"]


@dataclass(frozen=True, slots=True)
class IvrOutcome:
    kind: OutcomeKind
    queue: str | None = None  # for queue / callback
    priority: int | None = None  # overrides the queue's priority (complaints)
    reason: str | None = None  # after-sales reason / complaint category, for the screen pop
    order_number: str | None = None
    language: str | None = None
    # one entry per menu node visited, in order: {"node": id, "entered_at": epoch s,
    # "seconds": time spent, "keys": keys pressed there, "result": what happened}
    path: tuple[Mapping[str, Any], ...] = ()


class IvrRunner(Protocol):
    def language(self, session: AgiSession) -> str:
        """The caller's language for this session (its AGI query may ask for one): the call
        flow sets it on the channel with the call's own variables, before anything plays."""
        ...

    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool, language: str
    ) -> IvrOutcome: ...


class RecentCallView(Protocol):
    """One of the caller's last calls, as the agent's screen pop shows it."""

    @property
    def call_id(self) -> str: ...

    @property
    def arrived_at(self) -> datetime: ...

    @property
    def queue(self) -> str | None: ...

    @property
    def agent_id(self) -> str | None: ...

    @property
    def outcome(self) -> str | None: ...


class CallerProfile(Protocol):
    """What the ACD uses of an identified caller, and the last calls for the screen pop."""

    @property
    def recent_calls(self) -> Sequence[RecentCallView]: ...

    @property
    def name(self) -> str | None: ...

    @property
    def vip(self) -> bool: ...

    @property
    def last_agent_id(self) -> str | None: ...


class CallerLookup(Protocol):
    async def lookup(self, number: str) -> CallerProfile | None: ...


class SurveyAnswers(Protocol):
    @property
    def rating(self) -> int: ...

    @property
    def solved(self) -> bool | None: ...


class SurveyRunner(Protocol):
    """Ask the post-call survey; None when the caller hangs up or gives no valid rating."""

    async def __call__(self, session: AgiSession, *, language: str) -> SurveyAnswers | None: ...


class CatalogueFailure(Protocol):
    """Why a finished recording could not be catalogued (missing, unreadable, corrupt)."""

    @property
    def reason(self) -> str: ...

    @property
    def detail(self) -> str: ...


class CallRecorder(Protocol):
    """Names recording files, builds the ``MixMonitor`` application's options, catalogues."""

    def recording_path(
        self,
        root: Path,
        layout: str,
        *,
        call_id: str,
        queue: str | None,
        started_at: datetime,
        leg: int = 1,
    ) -> Path:
        """The file under ``root`` named by ``layout`` (``recording.yaml``: placeholders
        ``{date}``, ``{queue}``, ``{call_id}``) for the call's ``leg``-th answered leg."""
        ...

    def mixmonitor_options(self, path: Path, *, dual_channel: bool) -> str: ...

    def catalogue_file(
        self,
        path: Path,
        *,
        call_id: str,
        agent_id: str | None,
        queue: str | None,
        started_at: datetime,
        recording_id: str | None = None,
    ) -> InsertRecording | CatalogueFailure:
        """Blocking file I/O: the daemon runs it in a thread. ``recording_id``: the call id
        when None (the call's first recorded leg)."""
        ...


class FinishedPause(Protocol):
    """One finished pause of a call's recording, as the ``recording_pauses`` row keeps it."""

    @property
    def call_id(self) -> str: ...

    @property
    def channel(self) -> str: ...

    @property
    def paused_at(self) -> datetime: ...

    @property
    def resumed_at(self) -> datetime: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def requested_by(self) -> str | None: ...

    @property
    def auto_resumed(self) -> bool: ...


Unmute = tuple[list[tuple[str, str]], FinishedPause]  # MixMonitorMute headers + the pause


class PauseState(Protocol):
    """Pause policy of one call's recording: hands out the AMI ``MixMonitorMute`` headers."""

    @property
    def paused(self) -> bool: ...

    @property
    def resume_at(self) -> datetime | None: ...

    def pause(
        self, now: datetime, *, reason: str | None = None, by: str | None = None
    ) -> list[tuple[str, str]] | None: ...

    def resume(self, now: datetime) -> Unmute | None: ...

    def resume_due(self, now: datetime) -> Unmute | None: ...

    def call_ended(self, now: datetime) -> FinishedPause | None: ...


class RecordingPauses(Protocol):
    """Makes the pause state of a call's recording (``recordings.pause.RecordingPause``)."""

    def __call__(self, call_id: str, channel: str, *, max_pause_s: float) -> PauseState: ...


@dataclass(frozen=True)
class Features:
    """The feature packages' parts the daemon runs, built once the database exists."""

    ivr: Callable[[async_sessionmaker[AsyncSession]], IvrRunner]
    callers: Callable[[async_sessionmaker[AsyncSession]], CallerLookup] | None = None
    recorder: CallRecorder | None = None  # None: calls are not recorded
    recording_pauses: RecordingPauses | None = None  # None: recordings cannot be paused
    survey: SurveyRunner | None = None  # None: no post-call survey
    http_routers: tuple[APIRouter, ...] = ()  # feature endpoints mounted on the daemon's API
    sounds: tuple[str, ...] = ()  # sound names the features compose (studio list, simulator)
    playback_key: bytes | None = None  # decrypts recordings for audited playback
