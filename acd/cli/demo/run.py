"""Running the demo: simulator up, daemon up against it, seeded calls placed, the floor watched.

Who may look is settled first (``acd.cli.demo.access``: keys and addresses, handed to
``on_ready`` as soon as the daemon serves). Calls arrive for ``duration_s / time_scale``
seconds; then calls in progress get at most ``drain_s`` to end, and any still in progress at
that limit are hung up by their callers (their talk ends there), so the demo ends within the
arrival time plus the drain. Its summary is ``hotline report`` over its own database for the
demo's period (``acd.reports``, computed after the daemon stopped and flushed every row): the
two cannot disagree, whatever a call was doing when the demo ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from acd.app.daemon import Daemon, RunOptions
from acd.cli.demo.access import RETURNING_NUMBERS, DemoAccess, prepare_database
from acd.cli.demo.plan import DemoCall, DemoParams, demo_calls, sim_plan
from acd.daemon.ivr_port import Features
from acd.daemon.specs import kpi_settings
from acd.engine.agent import AUTO_PAUSE_REASON, AgentState, InvalidTransition
from acd.engine.floor import Floor
from acd.engine.floor_inputs import AgentAction
from acd.kpi import KpiSummary, summarize
from acd.logging import get_logger
from acd.reports.build import build_report
from acd.reports.config import report_config
from acd.reports.render import to_dict
from acd.settings import names
from acd.settings.settings import Settings
from acd.sim.runtime import Simulator
from acd.storage.engine import create_engine, session_factory
from acd.storage.models import Call

log = get_logger(__name__)
TICK_S = 0.5
DRAIN_S = 60.0  # after the last arrival, how long calls in progress may take to end
HANG_UP_WAIT_S = 5.0  # after hanging up at the drain limit, for the daemon to finish them


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
    summary: dict[str, Any]  # the ``total`` of ``hotline report`` over the demo's period
    db_url: str
    placed: int
    start: datetime
    end: datetime
    outcomes: Counter[str] = field(default_factory=Counter)  # from the call rows
    ami_port: int = 0
    agi_port: int = 0
    access: DemoAccess | None = None
    drained_s: float = 0.0  # how long the drain took
    cut_at_drain_limit: int = 0  # calls still in progress at the limit, hung up there

    @property
    def wallboard_url(self) -> str:
        return self.access.wallboard_url if self.access is not None else ""


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
    drain_s: float = DRAIN_S,
    on_ready: Callable[[DemoAccess], None] | None = None,
    on_tick: Callable[[DemoSnapshot], None] | None = None,
    stop_arrivals: asyncio.Event | None = None,
) -> DemoResult:
    """The demo; ``stop_arrivals`` ends the arrivals early (the drain follows as usual)."""
    host = settings.system.fastagi.host
    agi_port = _free_port(host)
    secret = secrets.token_hex(8)  # a throw-away AMI secret between daemon and simulator
    url = db_url or f"sqlite+aiosqlite:///{workdir / 'hotline.db'}"
    keys = await prepare_database(url, settings.agents[0])
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
    calls = demo_calls(params, RETURNING_NUMBERS)
    sim = Simulator(
        plan,
        seed=params.seed,
        ami_username=settings.system.ami.username,
        ami_secret=secret,
        auth_failure_delay=0.0,
        time_scale=params.time_scale,
    )
    # The period the report covers, in whole seconds (as printed and typed again): from just
    # before the first call to just after the stop.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    await sim.start()
    ami_port = sim.ami_port
    arrivals_s = params.duration_s / params.time_scale
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
            access = DemoAccess(daemon.http.url, keys, arrivals_s, drain_s)
            if on_ready is not None:
                on_ready(access)
            placing = tasks.create_task(
                _place(sim, calls, params.time_scale, stop_arrivals or asyncio.Event()),
                name="demo-traffic",
            )
            drained_s, cut = await _watch(
                daemon, sim, placing, len(calls), on_tick, wallboard=access.wallboard_url,
                drain_s=drain_s, back_after_s=params.back_from_auto_pause_s / params.time_scale,
            )  # fmt: skip
            daemon.stop()
    finally:
        await sim.close()
    # The next whole second, once it has passed: a report run later (as of now, at most its
    # end) then counts open intervals, such as a wrap-up still running, up to the same instant.
    stopped = datetime.now(UTC)
    end = stopped.replace(microsecond=0) + timedelta(seconds=1)
    await asyncio.sleep((end - stopped).total_seconds())
    summary, outcomes = await _report(settings, url, start, end)
    return DemoResult(
        summary,
        url,
        sim.calls_placed,
        start,
        end,
        outcomes,
        ami_port,
        agi_port,
        access,
        drained_s,
        cut,
    )


async def _report(
    settings: Settings, url: str, start: datetime, end: datetime
) -> tuple[dict[str, Any], Counter[str]]:
    """``hotline report --from START --to END`` over the demo's database, and the outcomes of
    its call rows (a call without one is counted as ``in progress``)."""
    config = report_config(settings)
    report = await build_report(
        url,
        start=start,
        end=end,
        settings=config.kpi,
        ring_limits=config.ring_limits,
        tz=config.tz,
        as_of=end,
    )
    engine = create_engine(url, read_only=True)
    try:
        async with session_factory(engine)() as session:
            query = (
                select(Call.outcome, func.count())
                .where(Call.arrived_at >= start, Call.arrived_at < end)
                .group_by(Call.outcome)
            )
            rows = await session.execute(query)
            outcomes = Counter({str(o or "in progress"): int(n) for o, n in rows})
    finally:
        await engine.dispose()
    return to_dict(report)["total"], outcomes


async def _place(
    sim: Simulator, calls: list[DemoCall], time_scale: float, stop: asyncio.Event
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for call in calls:
        delay = start + call.at / time_scale - loop.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return
        await sim.place_call(call.caller)


async def _watch(
    daemon: Daemon,
    sim: Simulator,
    placing: asyncio.Task[None],
    planned: int,
    on_tick: Callable[[DemoSnapshot], None] | None,
    *,
    wallboard: str = "",
    drain_s: float = DRAIN_S,
    back_after_s: float,
) -> tuple[float, int]:
    """Until every call ended after the last arrival, or the drain limit: (drain seconds,
    calls still in progress at the limit, hung up there)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    kpis = kpi_settings(daemon.settings.targets)
    drain_started: float | None = None
    while True:
        await _back_at_their_desks(daemon, back_after_s)
        waiting, longest, agents = await daemon.acd.read(_floor_view)
        in_progress = len(daemon.registry)
        if on_tick is not None:
            summary = summarize(daemon.outputs.completed, kpis)  # live view only: "so far"
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
        if placing.done():
            if drain_started is None:
                drain_started = loop.time()
            if in_progress == 0 and not sim.pbx.channels():
                return loop.time() - drain_started, 0
            if loop.time() - drain_started >= drain_s:
                return drain_s, await _hang_up_the_rest(daemon, sim)
        await asyncio.sleep(TICK_S)


def _auto_paused_for(floor: Floor, now: float, after_s: float) -> list[str]:
    return [
        a.agent_id
        for a in floor.agents.values()
        if a.state is AgentState.PAUSED
        and a.pause_reason == AUTO_PAUSE_REASON
        and a.since is not None
        and now - a.since >= after_s
    ]


async def _back_at_their_desks(daemon: Daemon, after_s: float) -> None:
    """The demo's agents are people: one paused for missed rings notices and unpauses, as at a
    real desk. Without it, a queue whose every agent once missed a ring waited for ever."""
    for agent_id in await daemon.acd.read(lambda f, now: _auto_paused_for(f, now, after_s)):
        with contextlib.suppress(InvalidTransition):  # changed since the look: theirs to decide
            await daemon.acd.agent_input(agent_id, AgentAction.UNPAUSE)


async def _hang_up_the_rest(daemon: Daemon, sim: Simulator) -> int:
    """The drain limit: every caller still on the line hangs up now (a talking call ends
    normally, its talk time stops here), so the report and the summary count them alike."""
    customer = (names.CONTEXT_HOTLINE, names.CONTEXT_CALLBACK, names.CONTEXT_FALLBACK)
    callers = [c.name for c in sim.pbx.channels() if c.context in customer]
    count = len(daemon.registry)
    log.info("demo_drain_limit", in_progress=count, callers_hung_up=len(callers))
    sim.catch_up()
    for channel in callers:
        sim.pbx.hangup(sim.now(), channel)
    sim.flush()
    for _ in range(round(HANG_UP_WAIT_S / TICK_S * 10)):
        if not len(daemon.registry):
            break
        await asyncio.sleep(TICK_S / 10)  # the daemon ends them at once; a bounded look
    return count
