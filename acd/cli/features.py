"""The feature packages wired into the daemon: the one place the daemon meets ``ivr`` and
``recordings``.

The kernel defines what it needs (``acd.daemon.ivr_port``); the feature packages implement it;
this composition function connects the two for ``hotline run`` and ``hotline demo``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from acd.daemon.ivr_port import CallRecorder, CatalogueFailure, Features
from acd.logging import get_logger
from acd.settings.settings import Settings
from acd.storage.commands import InsertRecording

log = get_logger(__name__)


def hotline_features(settings: Settings, clock: Callable[[], float] = time.time) -> Features:
    from ivr.identify import TableCustomerLookup  # noqa: PLC0415 - the feature boundary
    from ivr.order_status import TableOrderStatusSource  # noqa: PLC0415
    from ivr.prompts import composed_sounds  # noqa: PLC0415
    from ivr.runner import MenuRunner  # noqa: PLC0415
    from ivr.survey import run_survey  # noqa: PLC0415
    from recordings import http_routes  # noqa: PLC0415
    from recordings.pause import RecordingPause  # noqa: PLC0415

    return Features(
        ivr=lambda sessions: MenuRunner.from_settings(
            settings, orders=TableOrderStatusSource(sessions), clock=clock
        ),
        callers=TableCustomerLookup,
        recorder=_recorder(settings),
        recording_pauses=RecordingPause,
        survey=run_survey,
        http_routers=(http_routes.router,),
        sounds=composed_sounds(settings.ivr.languages),
        playback_key=_playback_key(settings),
    )


def _playback_key(settings: Settings) -> bytes | None:
    """A broken key must not stop the daemon taking calls: playback is refused instead."""
    from recordings.crypto import RecordingKeyError  # noqa: PLC0415
    from recordings.http_routes import recording_key  # noqa: PLC0415

    try:
        return recording_key(settings)
    except RecordingKeyError as exc:
        log.error(
            "recording_playback_disabled",
            env_var=settings.recording.encryption.key_env,
            error=str(exc),
            why="encrypted recordings cannot be played",
        )
        return None


def _recorder(settings: Settings) -> CallRecorder:
    """The ``recordings`` package's file naming, MixMonitor headers and cataloguing; with
    encryption at rest on, files are encrypted as they are catalogued."""
    from recordings import catalogue  # noqa: PLC0415
    from recordings.crypto import parse_key  # noqa: PLC0415

    encryption = settings.recording.encryption
    if not encryption.enabled:
        return catalogue
    secret = encryption.key.get_secret_value() if encryption.key is not None else None
    return _EncryptingRecorder(parse_key(secret))  # refuses to start without a usable key


class _EncryptingRecorder:
    def __init__(self, key: bytes) -> None:
        from recordings import catalogue  # noqa: PLC0415

        self._key = key
        self._catalogue = catalogue
        self.recording_path = catalogue.recording_path
        self.mixmonitor_options = catalogue.mixmonitor_options

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
        return self._catalogue.catalogue_file(
            path,
            call_id=call_id,
            agent_id=agent_id,
            queue=queue,
            started_at=started_at,
            recording_id=recording_id,
            key=self._key,
        )
