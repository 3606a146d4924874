"""The real daemon against the PBX simulator over loopback sockets, for end-to-end tests.

``floor_harness(tmp_path, ...)`` starts a ``Simulator`` (AMI server + FastAGI client) and a
``Daemon`` on a temporary SQLite file, as ``acd.cli.demo.run`` does, and hands back a
``Harness`` that can place and hang up calls, stop or restart the daemon on the same database,
read the floor in the daemon's owner task, and read the database once the daemon has stopped.

Test defaults keep a call short: an IVR that queues at once (``queue_at_once``), wrap-up and
ring times of a fraction of a second, and a simulator running ``time_scale`` times real time.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from acd.app.daemon import Daemon, RunOptions
from acd.asterisk.aio.agi_session import AgiSession
from acd.asterisk.ami.message import Message
from acd.cli.demo.plan import DemoParams, demo_settings, sim_plan
from acd.daemon.ivr_port import Features, IvrOutcome
from acd.engine.floor import Floor
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from acd.sim.faults import FaultPlan
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from acd.sim.runtime import Simulator

T = TypeVar("T")
CONFIG = Path(__file__).resolve().parents[2] / "config"
FAST_AGENT = AgentBehaviour(answer_after=0.5, talk_time=2.0, hangs_up="agent")
WAIT_LIMIT_S = 8.0
# Each agent's latest interval: its stored session (acd.storage.agent_sessions).
SESSIONS_SQL = (
    "SELECT agent_id, state, reason FROM agent_state_log AS l WHERE id = (SELECT id FROM "
    "agent_state_log AS m WHERE m.agent_id = l.agent_id ORDER BY started_at DESC, id DESC "
    "LIMIT 1)"
)


class QueueAtOnce:
    """An IVR that sends every caller straight to one queue (no prompts)."""

    def __init__(self, queue: str) -> None:
        self.queue = queue

    def language(self, session: AgiSession) -> str:
        return "zh"

    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool, language: str
    ) -> IvrOutcome:
        return IvrOutcome("queue", queue=self.queue)


def queue_at_once(queue: str) -> Features:
    runner = QueueAtOnce(queue)
    return Features(ivr=lambda _sessions: runner)


def floor_settings(
    agents: int,
    *,
    wrap_up_s: float = 0.2,
    ring_timeout_s: float = 1.0,
    ping_interval_s: float | None = None,
) -> Settings:
    """Generated agents, always-open queues, short wrap-up and ring limit (one ring cadence)."""
    base = load_settings(CONFIG, require_secrets=False)
    settings = demo_settings(base, DemoParams(agents=agents))
    queues = tuple(
        q.model_copy(
            update={
                "wrapup_s": wrap_up_s,
                "ring_timeout_rings": 1,
                "ring_cadence_s": ring_timeout_s,
            }
        )
        for q in settings.queues
    )
    update: dict[str, Any] = {"queues": queues}
    if ping_interval_s is not None:
        ami = settings.system.ami.model_copy(update={"ping_interval_s": ping_interval_s})
        update["system"] = settings.system.model_copy(update={"ami": ami})
    return settings.model_copy(update=update)


class Harness:
    def __init__(
        self, settings: Settings, sim: Simulator, workdir: Path, secret: str, features: Features
    ) -> None:
        self.settings = settings
        self.sim = sim
        self.workdir = workdir
        self.db_path = workdir / "hotline.db"
        self._secret = secret
        self._features = features
        self._daemon: Daemon | None = None
        self._run: asyncio.Task[None] | None = None
        self.daemons_started = 0

    # -- the daemon -------------------------------------------------------------------------

    @property
    def daemon(self) -> Daemon:
        if self._daemon is None:
            raise RuntimeError("the daemon is not running")
        return self._daemon

    async def start_daemon(self, *, login: bool = True, agi_port: int | None = None) -> Daemon:
        """``agi_port``: listen there instead of the dialplan's address (a standby's)."""
        host = self.settings.system.fastagi.host
        daemon = Daemon(
            self.settings,
            RunOptions(
                ami_secret=self._secret,
                db_url=f"sqlite+aiosqlite:///{self.db_path}",
                spool_dir=self.workdir / "spool",
                ami_host=host,
                ami_port=self.sim.ami_port,
                agi_port=self.sim.plan.dialplan.agi_port if agi_port is None else agi_port,
                mqtt=False,
                login_agents=tuple(a.id for a in self.settings.agents) if login else (),
                poll_ms=50,
                fallback_import=self.sim.plan.asterisk_log_dir is not None,
            ),
            self._features,
        )
        self._daemon = daemon
        self._run = asyncio.create_task(daemon.run(), name="daemon-under-test")
        started = asyncio.create_task(daemon.started.wait())
        await asyncio.wait({started, self._run}, return_when=asyncio.FIRST_COMPLETED)
        if not started.done():
            started.cancel()
            await self._run  # raises why the daemon did not start
        await self.wait_for(lambda: daemon.watcher.resyncs > 0, "the daemon's first AMI login")
        self.daemons_started += 1
        return daemon

    async def stop_daemon(self) -> None:
        """Graceful stop (``Daemon.stop``): waits until every task and the writer are done."""
        run, self._run = self._run, None
        if run is None:
            return
        self.daemon.stop()
        async with asyncio.timeout(WAIT_LIMIT_S):
            await run

    async def kill_daemon(self) -> None:
        """The daemon process dies: its tasks are cancelled with no orderly hand-back."""
        run, self._run = self._run, None
        if run is None:
            return
        run.cancel()
        with suppress(asyncio.CancelledError):
            await run
        # A dead process's sockets close with it; the cancelled run() leaves them to us.
        await self.daemon.agi.close()
        await self.daemon.ami.close()

    def detach(self) -> tuple[Daemon, asyncio.Task[None]]:
        """Hand the running daemon to the test, to start another one next to it (a standby
        taking over); end it with ``sigkill``."""
        daemon, run = self.daemon, self._run
        assert run is not None
        self._daemon, self._run = None, None
        return daemon, run

    async def sigkill(self, daemon: Daemon, run: asyncio.Task[None]) -> None:
        """SIGKILL of a detached daemon (see ``sigkill_daemon``)."""
        # a dead process's port refuses at once: the callers' resume attempts must not meet
        # a listener being torn down in this process
        await daemon.agi.stop_listening()
        self.sim.faults.cut_agi()
        run.cancel()
        with suppress(asyncio.CancelledError):
            await run
        await daemon.agi.close()
        await daemon.ami.close()

    async def sigkill_daemon(self) -> None:
        """SIGKILL: the daemon's FastAGI connections vanish before it could write anything more
        (``kill_daemon`` alone lets cancelled tasks clean up on their sockets first)."""
        if self._daemon is not None:
            await self._daemon.agi.stop_listening()  # see ``sigkill``
        self.sim.faults.cut_agi()
        await self.kill_daemon()

    # -- calls ------------------------------------------------------------------------------

    async def place(self, caller: CallerBehaviour | None = None) -> None:
        await self.sim.place_call(caller or CallerBehaviour(hangup_after=None))

    def hang_up(self, channel: str) -> bool:
        """The caller (or anything on the PBX) hangs ``channel`` up now."""
        self.sim.catch_up()
        done = self.sim.pbx.hangup(self.sim.now(), channel)
        self.sim.flush()
        return done

    def sim_events(self, name: str) -> list[Message]:
        """AMI events the simulator emitted with this name (needs ``keep_events=True``)."""
        return [m for m in self.sim.emitted or () if m.name == name]

    def caller_channels(self) -> list[str]:
        """Caller channels still in the ``hotline`` context (the ``;2`` side of caller-sim)."""
        context = self.sim.plan.dialplan.context
        return [c.name for c in self.sim.pbx.channels() if c.context == context]

    # -- observing --------------------------------------------------------------------------

    async def floor(self, query: Callable[[Floor, float], T]) -> T:
        return await self.daemon.acd.read(query)

    async def agent_states(self) -> dict[str, str]:
        return await self.floor(lambda f, _now: {a: s.state.value for a, s in f.agents.items()})

    async def wait_for(
        self, check: Callable[[], bool | Awaitable[bool]], what: str, limit_s: float = WAIT_LIMIT_S
    ) -> None:
        """Poll ``check`` until true; fail with ``what`` after ``limit_s`` (a safety net only)."""
        try:
            async with asyncio.timeout(limit_s):
                while True:
                    result = check()
                    if not isinstance(result, bool):
                        result = await result
                    if result:
                        return
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None

    async def quiet(self) -> bool:
        """No call anywhere: no channel in the PBX, none in the registry, none engaged."""
        if self.sim.pbx.channels() or len(self.daemon.registry):
            return False
        busy = await self.floor(
            lambda f, _now: bool(f.engaged_calls()) or bool(f.router.waiting_calls())
        )
        return not busy

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the daemon's SQLite file (after ``stop_daemon``: every write is flushed)."""
        with sqlite3.connect(self.db_path) as db:
            return list(db.execute(sql, params))

    def sessions(self) -> list[tuple[Any, ...]]:
        """(agent, state, reason) of each agent's stored session (its latest interval), sorted."""
        return sorted(self.rows(SESSIONS_SQL))

    def timeline(self, call_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored timeline step (``calls.timeline``; ``call_id`` and ``number`` added),
        by call id and ``seq``: what a ``call_events`` row would have held."""
        query = "SELECT id, caller_number, timeline FROM calls"
        found = self.rows(query + " WHERE id = ?", (call_id,)) if call_id else self.rows(query)
        steps: list[dict[str, Any]] = []
        for cid, number, timeline in sorted(found, key=lambda r: r[0]):
            for step in json.loads(timeline) if timeline else []:
                steps.append({**step, "call_id": cid, "number": number})
        return steps


@asynccontextmanager
async def floor_harness(
    workdir: Path,
    *,
    agents: int = 3,
    behaviour: AgentBehaviour | Mapping[str, AgentBehaviour] = FAST_AGENT,
    settings: Settings | None = None,
    features: Features | None = None,
    faults: FaultPlan | None = None,
    time_scale: float = 10.0,
    seed: int = 1,
    start: bool = True,
    keep_events: bool = False,
    asterisk_log_dir: Path | None = None,
    installed_dialplan: Callable[[str], str] | None = None,
) -> AsyncIterator[Harness]:
    """Simulator + daemon; ``behaviour`` is one for every phone or one per endpoint;
    ``installed_dialplan`` changes the rendered extensions.conf the PBX runs (a stale install)."""
    settings = settings or floor_settings(agents)
    features = features or queue_at_once(settings.default_queue)
    host = settings.system.fastagi.host
    agi_port = _free_port(host)
    plan = sim_plan(settings, DemoParams(seed=seed), agi_port=agi_port, recordings_dir="")
    phones = {
        a.endpoint: behaviour if isinstance(behaviour, AgentBehaviour) else behaviour[a.endpoint]
        for a in settings.agents
    }
    dialplan = plan.dialplan
    if installed_dialplan is not None:
        dialplan = replace(dialplan, text=installed_dialplan(dialplan.extensions_conf))
    plan = SimPlan(
        queues=plan.queues,
        agents=phones,
        dialplan=dialplan,
        sounds=plan.sounds,
        recordings_dir=str(workdir / "recordings"),
        asterisk_log_dir=str(asterisk_log_dir) if asterisk_log_dir is not None else None,
        ami_event_filters=plan.ami_event_filters,  # the shipped manager.conf's eventfilter
    )
    secret = secrets.token_hex(8)
    sim = Simulator(
        plan,
        seed=seed,
        ami_username=settings.system.ami.username,
        ami_secret=secret,
        auth_failure_delay=0.0,
        faults=faults,
        time_scale=time_scale,
        keep_events=keep_events,
    )
    await sim.start()
    harness = Harness(settings, sim, workdir, secret, features)
    try:
        if start:
            await harness.start_daemon()
        yield harness
    finally:
        try:
            await harness.kill_daemon()
        finally:
            await sim.close()


def _free_port(host: str) -> int:
    """A port free now, below Linux's ephemeral range (32768-60999): the daemon binds it only
    after its start-up (migrations, the restore), and meanwhile any outgoing connection on this
    shared machine may be given an ephemeral port, as bind(0) would have chosen."""
    rng = secrets.SystemRandom()
    while True:
        with socket.socket() as s:
            try:
                s.bind((host, rng.randrange(20_000, 32_000)))
            except OSError:
                continue
            port: int = s.getsockname()[1]
            return port
