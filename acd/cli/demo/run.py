"""Running the demo: simulator up, daemon up against it, seeded calls placed, the floor watched.

``run_demo`` returns the KPI summary of every call that ended, computed by ``acd.kpi`` from the
daemon's own call records, so ``hotline report`` over the demo's database must agree with it.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from acd.app.daemon import Daemon, RunOptions
from acd.cli.demo.plan import DemoCall, DemoParams, demo_calls, sim_plan
from acd.daemon.ivr_port import Features
from acd.daemon.specs import kpi_settings
from acd.engine.floor import Floor
from acd.kpi import KpiSummary, summarize
from acd.logging import get_logger
from acd.settings.schema_system import ApiToken
from acd.settings.settings import Settings
from acd.sim.runtime import Simulator

log = get_logger(__name__)
TICK_S = 0.5
DRAIN_LIMIT_S = 120.0  # after the last arrival, how long calls in progress may take to end


@dataclass(frozen=True, slots=True)
class DemoSnapshot:
    elapsed_s: float
    placed: int
    planned: int
    in_progress: int
    waiting: dict[str, int]
    longest_wait_s: float
    agents: dict[str, int]
    summary: KpiSummary
    wallboard_url: str = ""


@dataclass
class DemoResult:
    summary: KpiSummary
    db_url: str
    placed: int
    outcomes: Counter[str] = field(default_factory=Counter)
    ami_port: int = 0
    agi_port: int = 0
    wallboard_url: str = ""


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _floor_view(floor: Floor, now: float) -> tuple[dict[str, int], float, dict[str, int]]:
    waiting = floor.router.waiting_calls()
    by_queue = Counter(c.queue for c in waiting)
    longest = max((now - c.arrived_at for c in waiting), default=0.0)
    agents = Counter(s.state.value for s in floor.agents.values())
    return dict(by_queue), longest, dict(agents)


async def run_demo(
    settings: Settings,
    params: DemoParams,
    features: Features,
    *,
    workdir: Path,
    db_url: str | None = None,
    mqtt: bool = False,
    on_tick: Callable[[DemoSnapshot], None] | None = None,
) -> DemoResult:
    host = settings.system.fastagi.host
    agi_port = _free_port(host)
    secret = secrets.token_hex(8)  # a throw-away AMI secret between daemon and simulator
    url = db_url or f"sqlite+aiosqlite:///{workdir / 'hotline.db'}"
    settings, api_token = _with_demo_token(settings)
    recordings = workdir / "recordings"  # the simulated Asterisk writes where the daemon looks
    recording = settings.recording.model_copy(update={"directory": str(recordings.resolve())})
    settings = settings.model_copy(update={"recording": recording})
    plan = sim_plan(
        settings,
        params,
        agi_port=agi_port,
        recordings_dir=str(recordings),
        extra_sounds=features.sounds,
    )
    calls = demo_calls(params)
    sim = Simulator(
        plan,
        seed=params.seed,
        ami_username=settings.system.ami.username,
        ami_secret=secret,
        auth_failure_delay=0.0,
        time_scale=params.time_scale,
    )
    await sim.start()
    ami_port = sim.ami_port
    try:
        daemon = Daemon(
            settings,
            RunOptions(
                ami_secret=secret,
                db_url=url,
                spool_dir=workdir / "spool",
                ami_host=host,
                ami_port=ami_port,
                agi_port=agi_port,
                mqtt=mqtt,
                login_agents=tuple(a.id for a in settings.agents),
                http_port=0,
                fallback_import=False,  # the simulated PBX writes no Asterisk logs here
            ),
            features,
        )
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(daemon.run(), name="daemon")
            await daemon.started.wait()
            assert daemon.http is not None
            # sign in once with the throw-away viewer key: no key ever goes in a URL
            wallboard = f"{daemon.http.url}/signin (viewer key: {api_token})"
            placing = tasks.create_task(_place(sim, calls, params.time_scale), name="demo-traffic")
            await _watch(daemon, sim, placing, len(calls), on_tick, wallboard=wallboard)
            daemon.stop()
    finally:
        await sim.close()
    targets = settings.targets
    summary = summarize(daemon.outputs.completed, kpi_settings(targets))
    return DemoResult(
        summary, url, sim.calls_placed, daemon.outputs.outcomes, ami_port, agi_port, wallboard
    )


def _with_demo_token(settings: Settings) -> tuple[Settings, str]:
    """A throw-away viewer token, so the demo's wallboard can be watched at once."""
    token = secrets.token_urlsafe(24)
    demo = ApiToken(name="demo", role="viewer", token_env="HOTLINE_TOKEN_DEMO")
    demo = demo.model_copy(update={"token": SecretStr(token)})
    http = settings.system.http.model_copy(update={"tokens": (*settings.system.http.tokens, demo)})
    system = settings.system.model_copy(update={"http": http})
    return settings.model_copy(update={"system": system}), token


async def _place(sim: Simulator, calls: list[DemoCall], time_scale: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for call in calls:
        delay = start + call.at / time_scale - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await sim.place_call(call.caller)


async def _watch(
    daemon: Daemon,
    sim: Simulator,
    placing: asyncio.Task[None],
    planned: int,
    on_tick: Callable[[DemoSnapshot], None] | None,
    *,
    wallboard: str = "",
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    kpis = kpi_settings(daemon.settings.targets)
    drain_deadline: float | None = None
    while True:
        await asyncio.sleep(TICK_S)
        waiting, longest, agents = await daemon.acd.read(_floor_view)
        in_progress = len(daemon.registry)
        if on_tick is not None:
            summary = summarize(daemon.outputs.completed, kpis)
            on_tick(
                DemoSnapshot(
                    loop.time() - start,
                    sim.calls_placed,
                    planned,
                    in_progress,
                    waiting,
                    longest,
                    agents,
                    summary,
                    wallboard,
                )
            )
        if not placing.done():
            continue
        if drain_deadline is None:
            drain_deadline = loop.time() + DRAIN_LIMIT_S
        if in_progress == 0 and not sim.pbx.channels():
            return
        if loop.time() > drain_deadline:
            log.warning("demo_calls_in_progress_after_drain_limit", count=in_progress)
            return
