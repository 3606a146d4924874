"""The composition root: builds every part of the daemon once and wires them by constructor.

Nothing else in the code base creates a client, a server or a task of the daemon. ``Daemon.run``
owns all long-lived tasks in one TaskGroup; ``stop()`` shuts them down in order: first stop
taking calls (FastAGI sessions are cancelled, and a caller still waiting is handed to the
dialplan's plain ``Queue()``), then flush MQTT and storage.

With a ``Leadership`` (``acd.daemon.leadership``; ``acd.app.node`` waits for it first) the daemon
runs while this process is the active one: before it takes calls it publishes the floor it has
(retained agent states, queue statistics: the previous active daemon's are stale), and when the
leadership is lost it steps down at once: MQTT stops (buffered messages are dropped, so nothing
stale overwrites what the new active daemon publishes), then calls are handed back and the
FastAGI listener closes as in a stop, with storage flushed within a bound.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from acd.app.memory import trim_heap
from acd.app.options import RunOptions, flow_settings
from acd.asterisk.agi.router import Router
from acd.asterisk.aio.agi_server import AgiHandler, FastAgiServer
from acd.asterisk.aio.ami_client import AmiClient, AmiClientClosed, AmiLoginError
from acd.daemon.agent_codes import AgentFeatureCodes
from acd.daemon.ami_watch import AmiWatcher
from acd.daemon.call_flow import CallFlow, IvrRoute, ResumeRoute
from acd.daemon.call_reconcile import CallReconcile
from acd.daemon.callback_book import CallbackBook, CallbackHours, booked_in_table
from acd.daemon.callback_flow import CallbackFlow
from acd.daemon.callbacks import CallbackScheduler
from acd.daemon.calls import CallRegistry
from acd.daemon.clocks import Clocks
from acd.daemon.dialling import FlowSettings
from acd.daemon.floor_changes import FloorChanges, FloorFanout
from acd.daemon.floor_views import queues_view
from acd.daemon.ivr_port import CallerLookup, Features, IvrRunner
from acd.daemon.leadership import Leadership
from acd.daemon.offer_interrupt import Interrupter
from acd.daemon.outputs import Outputs
from acd.daemon.phone_quality import phone_targets
from acd.daemon.queue_stats import QueueStats
from acd.daemon.recording import CallRecording, RecordingSettings
from acd.daemon.recording_control import RecordingControl
from acd.daemon.service import AcdService
from acd.daemon.sessions import Restored, Sessions
from acd.daemon.specs import engine_specs
from acd.daemon.supervisor import SupervisorDesk
from acd.daemon.transfers import AgentLeg
from acd.engine.agent import AgentState
from acd.engine.floor import Floor
from acd.engine.floor_inputs import AgentAction
from acd.events import topics
from acd.events.publisher import MqttPublisher
from acd.events.topics import Publication
from acd.http import ApiContext, HttpServer, create_app
from acd.logging import get_logger
from acd.reports.fallback_import import FallbackImport, agent_ids_by_member
from acd.settings import names
from acd.settings.settings import Settings
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import ensure_schema
from acd.storage.spool import Spool
from acd.storage.writer import StorageWriter

log = get_logger(__name__)
__all__ = ["Daemon", "RunOptions"]  # RunOptions lives in acd.app.options
# A daemon that lost its leadership (the database may be unreachable) waits at most this long
# for the storage writer: what is not written by then is in the spool, replayed at next start.
STEP_DOWN_FLUSH_S = 5.0
FULL_GC_EVERY = 100  # middle-generation collections between two full ones (CPython: 10)
PRUNE_EVERY_S = 60.0  # the per-call caches (acd.daemon.closed_calls) between call ends


class Daemon:
    restored: Restored | None = None  # what the start took back (``acd.daemon.sessions``)
    _clean_stop = False  # stop() was asked for (not a crash, not a step-down)

    def __init__(
        self,
        settings: Settings,
        options: RunOptions,
        features: Features,
        *,
        leadership: Leadership | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        # stepped_down: run() ended because the leadership was lost
        self.leadership, self.stepped_down = leadership, False
        self.clocks = clocks = Clocks(clock := options.clock, options.steady_clock)
        system = settings.system
        self.floor = _floor(settings)
        self.publisher = MqttPublisher.from_settings(system.mqtt) if options.mqtt else None
        db_url = options.db_url or system.database.url
        self.db = create_engine(db_url)
        sessions = session_factory(self.db)
        # Lookups during calls (caller, orders, due and booked call-backs) only read: on SQLite a
        # read-only engine takes no write lock, so they never queue behind the storage writer.
        self.read_db = create_engine(db_url, read_only=True)
        reads = session_factory(self.read_db)
        callers = features.callers(reads) if features.callers is not None else None
        spool_dir = options.spool_dir or Path(system.database.spool_dir)
        self.writer = StorageWriter(self.db, Spool(spool_dir))
        wrap = {q.name: q.wrapup_s for q in settings.queues}
        rings = {q.name: q.ring_timeout_s for q in settings.queues}
        prefix = system.mqtt.topic_prefix
        self.queue_stats = QueueStats(
            lambda query: self.acd.read(query),  # noqa: PLW0108 - self.acd is created below
            self._publish,
            prefix=prefix,
            clock=clock,
        )
        self.floor_changes = FloorChanges()  # wakes the agent desktops' event streams
        self.outputs = Outputs(
            publisher=self.publisher,
            writer=self.writer,
            prefix=prefix,
            wrap_up_s=lambda q: wrap.get(q or "", 0.0),
            ring_limit_s=lambda q: rings.get(q or ""),
            clocks=clocks,
            floor_changed=self.queue_stats.changed,
            agent_wrap_up_s=_wrap_up_overrides(settings),
        )
        # The floor runs on the steady clock: a wall-clock jump neither fires nor delays its
        # timers (wrap-up, relaxation, ring forgiveness).
        self.acd = AcdService(
            self.floor, FloorFanout(self.outputs, self.floor_changes), clock=clocks.steady
        )
        self.registry = CallRegistry()
        self.watcher = AmiWatcher(
            self.acd,
            self.registry,
            endpoints=[a.endpoint for a in settings.agents],
            clock=clock,
            on_link=self._ami_link,
            phones=phone_targets(settings),
        )
        self.recording: CallRecording | None = None
        if features.recorder is not None and settings.recording.enabled:
            rec = settings.recording
            self.recording = CallRecording(
                features.recorder,
                self.outputs.store,
                RecordingSettings(Path(rec.directory).resolve(), rec.layout, rec.dual_channel),
            )
        self.recording_control: RecordingControl | None = None
        if self.recording is not None and features.recording_pauses is not None:
            self.recording_control = RecordingControl(
                self.registry,
                lambda: self.ami,
                self.outputs.store,
                features.recording_pauses,
                max_pause_s=settings.recording.max_pause_s,
                clocks=clocks,
            )
        cb = settings.callbacks
        self.callback_book = CallbackBook(
            booked_in_table(reads),
            CallbackHours(cb.calling_hours, cb.slot_capacity, settings.timezone),
        )
        call_settings = flow_settings(settings, options)
        self.flow = CallFlow(
            self.acd,
            self.registry,
            self.outputs,
            call_settings,
            book=self.callback_book,
            clocks=clocks,
            queues=self.floor.queues,
            recording=self.recording,
            recording_control=self.recording_control,
            agent_leg=AgentLeg(lambda: self.ami),
            survey=features.survey,
            interrupter=Interrupter(lambda: self.ami),  # PlayDTMF ends a waiting caller's wait
        )
        self.fallback_import = _fallback_import(
            settings, options, self.db, hold=lambda: self.writer.spooling
        )
        self.callbacks = CallbackScheduler(
            reads,
            lambda: self.ami,
            self.acd,
            self.outputs.store,
            settings.callbacks,
            timezone=settings.timezone,
            clocks=clocks,
        )
        router = self._routes(features.ivr(reads), callers, call_settings)
        fastagi = system.fastagi
        self.agi = FastAgiServer(
            router,
            host=options.agi_host or fastagi.host,
            port=fastagi.port if options.agi_port is None else options.agi_port,
            backlog=fastagi.backlog,
            allowed_peers=tuple(fastagi.allowed_peers),
            session_timeout_s=fastagi.session_timeout_s,
            command_timeout_s=fastagi.command_timeout_s,
            environment_timeout_s=fastagi.idle_timeout_s,
            key=fastagi.key.get_secret_value() if fastagi.key is not None else None,
            max_sessions=fastagi.max_sessions,
        )
        ami = system.ami
        self.ami = AmiClient(
            options.ami_host or ami.host,
            options.ami_port or ami.port,
            ami.username,
            options.ami_secret,
            ping_interval_s=ami.ping_interval_s,
            reconnect_backoff=(0.5, ami.reconnect_max_s),
            on_connect=lambda reconnected: self.watcher.resync(self.ami, reconnected),
            on_disconnect=self.watcher.link_lost,  # devices unknown; MQTT system/ami "down"
        )
        self.ami.subscribe(self.watcher.on_event)
        self.sessions = Sessions(
            self.acd,
            self.db,
            self.writer,
            self.watcher,
            lambda: self.ami,
            endpoints={a.id: a.endpoint for a in settings.agents},
            clocks=clocks,
        )
        self.desk = SupervisorDesk(self.ami, self.writer.submit, clock=clock)
        self.ami.subscribe(self.desk.on_event)
        self.ami.subscribe(self.callbacks.on_event)
        self.api = ApiContext(
            settings,
            self.acd,
            self.registry,
            self.outputs,
            self.desk,
            sessions=sessions,
            db_url=db_url,
            write=self.writer.submit,
            ami=self.ami,
            clocks=clocks,
            recording_key=features.playback_key,
            recording_control=self.recording_control,
            reads=reads,
            floor_changes=self.floor_changes,
        )
        self.http = (
            None
            if options.http_port is None
            else HttpServer(
                create_app(self.api, features.http_routers),
                self.api,
                system.http.host,
                options.http_port,
                tls=system.http.tls,
            )
        )
        # started: taking calls; _ami_up: the first AMI login (the call reconcile waits for it)
        self.started, self._stop, self._ami_up = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def _routes(
        self,
        ivr: IvrRunner,
        callers: CallerLookup | None,
        call_settings: FlowSettings,
    ) -> Router[AgiHandler]:
        """The FastAGI routes: a new call (IVR), a caller resumed after their daemon died, a
        call-back's customer leg, agent codes."""
        router: Router[AgiHandler] = Router()
        ivr_route = IvrRoute(
            self.flow,
            self.outputs,
            ivr,
            call_settings,
            book=self.callback_book,
            clocks=self.clocks,
            callers=callers,
        )
        router.add(names.ROUTE_IVR, ivr_route)
        # rows a previous daemon left open (issue 12), closed once AMI is up; a caller the
        # resume route takes again is this daemon's to finish
        self.call_reconcile = CallReconcile(
            self.db,
            self.registry,
            self.outputs.store,
            recording=self.recording,
            clock=self.clocks.wall,
        )
        resume = ResumeRoute(
            self.flow,
            ivr_route,
            self.outputs,
            call_settings,
            clocks=self.clocks,
            callers=callers,
            on_resume=self.call_reconcile.resumed,
        )
        router.add(names.ROUTE_RESUME, resume)
        router.add(
            names.ROUTE_CALLBACK,
            CallbackFlow(
                self.flow,
                self.callbacks,
                self.outputs,
                {q.name: q.priority for q in self.settings.queues},
                clock=self.clocks.wall,
                callers=callers,
            ),
        )
        router.add(
            names.ROUTE_AGENT,
            AgentFeatureCodes(
                self.acd,
                self.floor.by_endpoint,
                self.recording_control,
                pause_reason=self.settings.pause_reason,
            ),
        )
        return router

    async def _log_in_configured(self) -> None:
        """``RunOptions.login_agents`` (demo, tests): those a restored session left out."""

        def logged_out(f: Floor, _now: float) -> set[str]:
            return {a for a, r in f.agents.items() if r.state is AgentState.LOGGED_OUT}

        out = await self.acd.read(logged_out)
        wanted = [a for a in self.options.login_agents if a in out]
        if wanted:  # one floor input, however many agents
            refused = await self.acd.agents_input(wanted, AgentAction.LOGIN)
            for r in refused:
                log.warning("login_refused", agent_id=r.agent_id, reason=r.reason)

    def prune_caches(self, now: float | None = None) -> None:
        """Drop closed calls and KPI facts older than their windows (``now``: wall clock)."""
        at = self.clocks.wall() if now is None else now
        self.registry.recent.prune(at)
        self.outputs.prune(at)

    async def _prune_caches(self) -> None:
        """Also while no call ends: after the traffic the per-call caches empty out, and
        (``RunOptions.trim_heap``) the memory freed since is given back to the system."""
        while True:
            await asyncio.sleep(PRUNE_EVERY_S)
            self.prune_caches()
            if self.options.trim_heap:
                self.release_memory()

    def release_memory(self) -> float | None:
        """glibc ``malloc_trim``: free heap pages back to the system (``acd.app.memory``);
        seconds it took on the event loop (a few milliseconds), None where not glibc."""
        took = trim_heap()
        log.debug("heap_trimmed", seconds=took)
        return took

    def _freeze_start_up(self) -> None:
        """``RunOptions.freeze_gc``: what start-up built (the floor, settings, code) is never
        walked by a full collection again (10,000 agents: a 156 ms pause before, ~30 ms after).

        Frozen objects leave CPython's count of long-lived objects near zero, which defeats its
        rule of a full collection only once they grew by 25%: one ran every 10 middle ones
        (every ~2 s at 200 calls/s), each walking every call in progress (~80,000 objects at
        200 calls/s, 50-120 ms). FULL_GC_EVERY spaces them out again: one every ~30 s there.
        What they alone free (cycles: asyncio's socket transports, ~5 objects a call) waits
        that long; per-call data kept longer is out of their sight (acd.daemon.closed_calls)."""
        if self.options.freeze_gc:
            gc.collect()
            gc.freeze()
            young, middle, _ = gc.get_threshold()
            gc.set_threshold(young, middle, FULL_GC_EVERY)

    def _publish(self, publication: Publication) -> None:
        if self.publisher is not None:
            self.publisher.publish(publication)

    def _ami_link(self, up: bool) -> None:
        if up:
            self._ami_up.set()
        if self.publisher is not None:
            prefix = self.settings.system.mqtt.topic_prefix
            self.publisher.publish(topics.ami_link(prefix, up, self.options.clock()))

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        await ensure_schema(self.db)
        await self.writer.start()
        try:
            async with asyncio.TaskGroup() as tasks:
                self._start_background(tasks)
                # The agents' sessions from before this process, reconciled with Asterisk:
                # before the floor is published and the first call is taken.
                self.restored = await self.sessions.restore()
                tasks.create_task(self.sessions.heartbeat(), name="heartbeat")  # after: it reads
                await self._publish_floor()
                await self.agi.start()
                http_task = None
                if self.http is not None:
                    self.http.bind()
                    tasks.create_task(self.api.loop_lag.run(), name="loop-lag")
                    http_task = tasks.create_task(self.http.serve(), name="http")
                await self._log_in_configured()
                self._freeze_start_up()
                self.started.set()
                log.info("daemon_up", agi_host=self.agi_host, agi_port=self.agi.port)
                await self._stop.wait()
                await self._shut_down(http_task)
                raise _Stopped
        except* _Stopped:
            pass
        finally:
            # Also after a crash of one of the tasks above: stop taking calls (sessions are
            # cancelled, unanswered callers go to the dialplan's Queue()), then flush.
            await self.agi.close()
            await self.ami.close()
            if self._clean_stop and not self.stepped_down:
                self.sessions.close_at_stop()  # after the owner task: nothing reopens them
            await self._flush_storage()

    def _start_background(self, tasks: asyncio.TaskGroup) -> None:
        """The tasks that run for the daemon's whole term, owned by ``run``'s task group."""
        tasks.create_task(self.acd.run(), name="acd-owner")
        if self.publisher is not None:
            tasks.create_task(self.publisher.run(), name="mqtt")
        tasks.create_task(self._connect_ami(), name="ami")
        tasks.create_task(self.callbacks.run(), name="callbacks")
        tasks.create_task(self._prune_caches(), name="prune-caches")
        if self.publisher is not None:
            tasks.create_task(self.queue_stats.run(), name="queue-stats")
        if self.recording_control is not None:
            tasks.create_task(self.recording_control.run(), name="recording-pauses")
        if self.fallback_import is not None:
            tasks.create_task(self.fallback_import.run(), name="fallback-import")
        if self.leadership is not None:
            tasks.create_task(self._keep_leadership(self.leadership), name="leadership")
        tasks.create_task(self._reconcile_calls(), name="call-reconcile")

    async def _reconcile_calls(self) -> None:
        """The rows a previous term left open, read once its spooled writes (a step-down in a
        database outage) are in: before, a call answered then looks never answered."""
        await self.writer.wait_replayed()
        await self.call_reconcile.run(self.ami, self._ami_up)

    async def _shut_down(self, http_task: asyncio.Task[None] | None) -> None:
        """A stop: no new FastAGI connection (a caller handed back is resumed by the standby or
        the restarted daemon, never by this one, which would hand them back again), waiting
        callers handed back, then the listeners and links closed."""
        self._stopping()
        await self.agi.stop_listening()
        await self._hand_back_waiting_callers()
        if self.http is not None and http_task is not None:
            self.http.stop()
            await http_task
        await self.agi.close()
        await self.ami.close()
        if self.publisher is not None:
            self.publisher.close()

    def _stopping(self) -> None:
        """A stop (or a step-down) begins: the agents' stored sessions stay as they are now,
        whatever releasing the calls does to the floor (``Outputs.hold_sessions``)."""
        log.info("daemon_stopping")
        self._clean_stop = True
        self.outputs.hold_sessions()

    async def _flush_storage(self) -> None:
        """Write what is queued and close the databases. After a step-down the database may be
        what was lost: the writer gets a bound (its cancellation spools what is left, replayed
        at the next start) and the pools are dropped without a goodbye to the server."""
        if not self.stepped_down:
            await self.writer.close()
            await self.db.dispose()
            await self.read_db.dispose()
            return
        try:
            async with asyncio.timeout(STEP_DOWN_FLUSH_S):
                await self.writer.close()
        except TimeoutError:
            log.warning("step_down_writes_spooled", limit_s=STEP_DOWN_FLUSH_S)
        await self.db.dispose(close=False)
        await self.read_db.dispose(close=False)

    async def _keep_leadership(self, leadership: Leadership) -> None:
        """Step down the moment the leadership is lost: another daemon may take over within
        seconds, so publishing stops first, then calls are handed back as in a stop."""
        why = await leadership.hold()
        self.stepped_down = True
        dropped = self.publisher.abandon() if self.publisher is not None else 0
        log.error("daemon_stepping_down", why=why, mqtt_dropped=dropped)
        self._stop.set()

    async def _publish_floor(self) -> None:
        """Every agent's state and every queue's statistics as this daemon's floor has them,
        retained: what a previous daemon left on the broker is not this floor's."""
        if self.publisher is None:
            return
        prefix = self.settings.system.mqtt.topic_prefix
        clocks = self.clocks
        started = clocks.wall()

        def agents(floor: Floor, _now: float) -> list[tuple[str, str, str | None, float]]:
            return [
                (
                    agent_id,
                    agent.state.value,
                    agent.pause_reason if agent.state.value == "paused" else None,
                    clocks.to_wall(agent.since) if agent.since else started,
                )
                for agent_id, agent in sorted(floor.agents.items())
            ]

        for agent_id, state, reason, since in await self.acd.read(agents):
            self.publisher.publish(
                topics.agent_state(prefix, agent_id, state, since, reason=reason)
            )
        self.queue_stats.publish_view(await self.acd.read(queues_view), started)
        log.info("floor_published", agents=len(self.floor.agents), queues=len(self.floor.queues))

    async def _hand_back_waiting_callers(self) -> None:
        """Waiting callers leave at their next poll; give them a few polls, then close."""
        self.flow.hand_back()
        limit = 3 * self.options.poll_ms / 1000 + 1.0
        try:
            async with asyncio.timeout(limit):
                await self.flow.no_callers_waiting()
        except TimeoutError:
            log.warning(
                "waiting_callers_not_handed_back",
                count=self.flow.callers_waiting,
                limit_s=limit,
            )

    @property
    def agi_host(self) -> str:
        return self.settings.system.fastagi.host

    async def _connect_ami(self) -> None:
        try:
            await self.ami.start()
        except AmiClientClosed:
            log.info("ami_never_connected", why="the daemon stopped before the first AMI login")
        except AmiLoginError as exc:
            log.error(
                "daemon_running_without_ami",
                error=str(exc),
                why="no answer events, no supervisor actions until the AMI user is fixed",
            )


def _wrap_up_overrides(settings: Settings) -> dict[str, float]:
    return {a.id: a.wrapup_s for a in settings.agents if a.wrapup_s is not None}


def _floor(settings: Settings) -> Floor:
    queues, agents = engine_specs(settings)
    return Floor(queues, agents, wrap_up_override_s=_wrap_up_overrides(settings))


def _fallback_import(
    settings: Settings, options: RunOptions, db: AsyncEngine, *, hold: Callable[[], bool]
) -> FallbackImport | None:
    imports = settings.system.fallback_import
    if not (imports.enabled and options.fallback_import):
        return None
    # queue_log names the member (queues.conf membername = the agent's name)
    members = agent_ids_by_member([(a.name, a.id) for a in settings.agents])
    return FallbackImport(db, imports, members, clock=options.clock, hold=hold)


class _Stopped(Exception):
    """Raised inside the TaskGroup to cancel the long-lived tasks on stop()."""
