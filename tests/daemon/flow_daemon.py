"""The daemon with the call flow's features (recorder, survey, caller lookup) on the harness's
simulator, with test timings: announcements and overflow rungs in fractions of a second.

``tests/daemon/harness.py`` starts the simulator; this module starts the daemon itself because
the call-flow tests set run options the harness does not (announcement times, survey rate, MQTT).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.app.daemon import Daemon, RunOptions
from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.ivr_port import CallerProfile, Features, IvrOutcome
from acd.settings.schema_routing import OverflowStep
from acd.settings.settings import Settings
from ivr.survey import run_survey
from recordings import catalogue
from tests.daemon.harness import Harness, floor_settings

STOP_LIMIT_S = 8.0


@dataclass(frozen=True)
class PastCall:
    call_id: str
    arrived_at: dt.datetime
    queue: str | None
    agent_id: str | None
    outcome: str | None


@dataclass(frozen=True)
class Profile:
    name: str | None = None
    vip: bool = False
    last_agent_id: str | None = None
    recent_calls: tuple[PastCall, ...] = ()


class Lookup:
    def __init__(self, profiles: dict[str, Profile]) -> None:
        self.profiles = profiles

    async def lookup(self, number: str) -> CallerProfile | None:
        return self.profiles.get(number)


@dataclass(frozen=True)
class FixedIvr:
    """The caller "chose" ``outcome`` (no prompts played)."""

    outcome: IvrOutcome

    def language(self, session: AgiSession) -> str:
        return "zh"

    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool, language: str
    ) -> IvrOutcome:
        return self.outcome


@dataclass
class FlowSetup:
    queue: str = "enquiries"
    ivr: IvrOutcome | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)


def flow_features(setup: FlowSetup) -> Features:
    ivr = FixedIvr(setup.ivr or IvrOutcome("queue", queue=setup.queue))
    lookup = Lookup(setup.profiles)
    return Features(
        ivr=lambda _sessions: ivr,
        callers=lambda _sessions: lookup,
        recorder=catalogue,
        survey=run_survey,
    )


def flow_settings(
    workdir: Path,
    agents: int,
    *,
    overflow: Mapping[str, Sequence[OverflowStep]] | None = None,
    mqtt_prefix: str | None = None,
    queues: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Harness settings, recordings where the simulator writes them, test overflow ladders,
    and ``queues``: per queue name, settings to change (music_class, announcements...)."""
    settings = floor_settings(agents)
    ladders = overflow or {}
    changes = queues or {}
    queues_ = tuple(
        q.model_copy(update={"overflow": tuple(ladders.get(q.name, ())), **changes.get(q.name, {})})
        for q in settings.queues
    )
    recording = settings.recording.model_copy(update={"directory": str(workdir / "recordings")})
    update: dict[str, Any] = {"queues": queues_, "recording": recording}
    if mqtt_prefix is not None:
        mqtt = settings.system.mqtt.model_copy(
            update={"topic_prefix": mqtt_prefix, "client_id": f"{mqtt_prefix}-daemon"}
        )
        update["system"] = settings.system.model_copy(update={"mqtt": mqtt})
    return settings.model_copy(update=update)


@asynccontextmanager
async def flow_daemon(
    h: Harness,
    setup: FlowSetup,
    *,
    login: Sequence[str] | None = None,
    survey_rate: float | None = 0.0,  # None: each queue's survey_sample_rate
    mqtt: bool = False,
) -> AsyncIterator[Daemon]:
    """The daemon on the harness's simulator (``floor_harness(start=False)``); stopped
    gracefully at the end so every storage write is flushed before the rows are read."""
    settings = h.settings
    host = settings.system.fastagi.host
    daemon = Daemon(
        settings,
        RunOptions(
            ami_secret=h.sim.secrets[settings.system.ami.username],
            db_url=f"sqlite+aiosqlite:///{h.db_path}",
            spool_dir=h.workdir / "spool",
            ami_host=host,
            ami_port=h.sim.ami_port,
            agi_port=h.sim.plan.dialplan.agi_port,
            mqtt=mqtt,
            login_agents=tuple(a.id for a in settings.agents) if login is None else tuple(login),
            poll_ms=50,
            announce_first_s=0.2,
            announce_every_s=0.5,
            survey_sample_rate=survey_rate,
        ),
        flow_features(setup),
    )
    run = asyncio.create_task(daemon.run(), name="flow-daemon")
    try:
        started = asyncio.create_task(daemon.started.wait())
        await asyncio.wait({started, run}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            await run  # raises why the daemon did not start
        await h.wait_for(lambda: daemon.watcher.resyncs > 0, "the daemon's first AMI login")
        yield daemon
    finally:
        daemon.stop()
        async with asyncio.timeout(STOP_LIMIT_S):
            await run
