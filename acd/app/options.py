"""What may differ from the configuration at run time (``RunOptions``), and the call flow's
settings built from both (``flow_settings``: per queue from queues.yaml, with the overrides)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acd.daemon.dialling import FlowSettings
from acd.daemon.wait_policy import Announcements
from acd.daemon.waiting import QueueWaiting, WaitSettings
from acd.settings.settings import Settings


@dataclass(frozen=True)
class RunOptions:
    """What may differ from the config files at run time (the demo and tests override these)."""

    ami_secret: str
    db_url: str | None = None  # default: settings.database.url
    spool_dir: Path | None = None
    ami_host: str | None = None
    ami_port: int | None = None
    agi_port: int | None = None  # 0 = any free port (the demo)
    agi_host: str | None = None  # default fastagi.host (``hotline run --standby``: standby_host)
    mqtt: bool = True
    login_agents: tuple[str, ...] = ()  # log these agents in at start (demo, load tests)
    # after start-up, gc.freeze(): the floor, settings and code built at start are never
    # walked by a full collection again (10,000 agents: a 150 ms pause), and full collections
    # spaced out (Daemon._freeze_start_up). Process-wide, so only where one process runs one
    # daemon (``hotline run``, the benchmarks), not in tests.
    freeze_gc: bool = False
    # once a minute, glibc's malloc_trim(0): heap pages freed after a busy spell go back to the
    # system instead of staying resident (acd.app.memory). Process-wide, as freeze_gc.
    trim_heap: bool = False
    http_port: int | None = None  # HTTP API + wallboard: None = not served, 0 = any free port
    poll_ms: int = 500
    # None: each queue's own setting in queues.yaml (tests and the demo shorten or fix them)
    announce_first_s: float | None = None
    announce_every_s: float | None = None
    survey_sample_rate: float | None = None
    # import the calls the fallback Queue() handled (fallback_import in hotline.yaml)
    fallback_import: bool = True
    clock: Callable[[], float] = field(default=time.time)  # wall clock: stored, shown
    steady_clock: Callable[[], float] = field(default=time.monotonic)  # deadlines, timers


def flow_settings(settings: Settings, options: RunOptions) -> FlowSettings:
    """The call flow's settings: per queue from queues.yaml, with the run options' overrides."""
    waiting: dict[str, QueueWaiting] = {}
    for q in settings.queues:
        a = q.announcements
        rules = Announcements(
            options.announce_first_s if options.announce_first_s is not None else a.first_after_s,
            options.announce_every_s if options.announce_every_s is not None else a.every_s,
            a.position,
            a.wait_time,
        )
        waiting[q.name] = QueueWaiting(q.music_class, rules)
    rate = options.survey_sample_rate
    return FlowSettings(
        settings.default_queue,
        {q.name: q.priority for q in settings.queues},
        waiting=WaitSettings(poll_ms=options.poll_ms, queues=waiting),
        survey_sample_rate={
            q.name: q.survey_sample_rate if rate is None else rate for q in settings.queues
        },
        language=settings.ivr.default_language,
        mqtt_prefix=settings.system.mqtt.topic_prefix,
        transfer_priority_boost={q.name: q.transfers.priority_boost for q in settings.queues},
    )
