"""The simulator's asyncio shell: AMI server, FastAGI links, the clock, traffic and recordings.

``Simulator`` owns one pure ``Pbx`` and feeds it: AMI actions and FastAGI command lines as they
arrive, and the clock (one task sleeps until ``pbx.next_deadline()`` or until an input wakes it).
After every input the core's outputs are drained and dispatched: AMI events to the logged-in
sessions, FastAGI connects/replies/HANGUP lines/closes to the links, recordings to disk.
Every task lives in one TaskGroup held by ``start()``/``close()``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from acd.asterisk.ami.message import Message
from acd.logging import get_logger
from acd.sim.agi_link import AgiLink
from acd.sim.ami_actions import ActionHandler
from acd.sim.ami_server import AmiServer
from acd.sim.faults import FaultPlan, Faults
from acd.sim.output_router import OutputRouter
from acd.sim.outputs import (
    OriginateAccepted,
    OriginateRejected,
    OriginateRequest,
    OriginateResult,
    Output,
)
from acd.sim.pbx import Pbx
from acd.sim.plan import CallerBehaviour, SimPlan
from acd.sim.traffic import PlannedCall, TrafficProfile, generate_calls

log = get_logger(__name__)


def _closed_port(host: str) -> int:
    """A port nothing listens on, so a connect there is refused (fault ``refuse_agi``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


class Simulator:
    """A simulated Asterisk 22 on real sockets: AMI server plus FastAGI client."""

    def __init__(
        self,
        plan: SimPlan | None = None,
        *,
        seed: int = 0,
        ami_host: str = "127.0.0.1",
        ami_port: int = 0,
        ami_username: str = "acd",
        ami_secret: str = "acdsecret",
        recordings_dir: str | Path | None = None,
        faults: FaultPlan | None = None,
        max_ami_write_buffer: int = 4 << 20,
        auth_failure_delay: float = 1.0,
        keep_events: bool = False,
        time_scale: float = 1.0,
    ) -> None:
        plan = plan or SimPlan()
        if recordings_dir is not None:
            plan = dataclasses.replace(plan, recordings_dir=str(recordings_dir))
        self.plan = plan
        self.seed = seed
        self.faults = Faults(faults)
        self.faults.bind(self._drop_ami, self._qualify, self._cut_agi)
        self.started_wall = time.time()
        self.pbx = Pbx(plan, rng=random.Random(seed), epoch=self.started_wall)
        self._router = OutputRouter(
            self._spawn,
            lambda request: AgiLink(self, request),
            keep_events=keep_events,
            log_dir=plan.asterisk_log_dir,
        )
        self.calls_placed = 0
        self._ami_host, self._ami_port = ami_host, ami_port
        self._secrets = {ami_username: ami_secret}
        self._max_ami_write_buffer = max_ami_write_buffer
        self._auth_failure_delay = auth_failure_delay
        #: simulated seconds per real second (tests run calls faster than real time)
        self.time_scale = time_scale
        self._t0 = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refused_port = 0
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._main: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set when no channel is left, while someone waits for it
        self._idle_waiters = 0

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # now() == 0 at the Pbx's epoch, so Uniqueids carry the real wall time
        self._t0 = self._loop.time() - (time.time() - self.started_wall) / self.time_scale
        self._refused_port = _closed_port(self.plan.dialplan.agi_host)
        self._main = asyncio.create_task(self._run(), name="sim-main")
        await self._ready.wait()
        ami = AmiServer(
            ActionHandler(self),
            self.faults,
            self._spawn,
            host=self._ami_host,
            port=self._ami_port,
            max_write_buffer=self._max_ami_write_buffer,
            event_filters=self.plan.ami_event_filters,
        )
        try:
            await ami.start()
        except OSError:
            await self.close()
            raise
        self._router.ami = ami

    async def close(self) -> None:
        if self._main is None:
            return
        self._stopping.set()
        if self._router.ami is not None:
            await self._router.ami.close()
        self._router.close()
        main, self._main = self._main, None
        await main

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            self._tg = tg
            self._spawn(self._clock())
            self._ready.set()
            await self._stopping.wait()
            for task in list(self._tasks):
                if task not in self._router.writers:  # recordings being written are finished
                    task.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
        if self._tg is None or self._stopping.is_set():
            coro.close()
            return None
        task = self._tg.create_task(self._guarded(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _guarded(coro: Coroutine[Any, Any, None]) -> None:
        # One failing session must not take the whole simulator (and the TaskGroup) down.
        try:
            await coro
        except Exception:
            log.exception("sim_task_failed")

    @property
    def ami_server(self) -> AmiServer:
        if self._router.ami is None:
            raise RuntimeError("simulator not started")
        return self._router.ami

    @property
    def ami_port(self) -> int:
        if self._router.ami is None:
            raise RuntimeError("simulator not started")
        return self._router.ami.port

    # -- clock --------------------------------------------------------------------------------
    def now(self) -> float:
        if self._loop is None:
            return 0.0
        return (self._loop.time() - self._t0) * self.time_scale

    def wall(self) -> float:
        return self.started_wall + self.now()

    async def _clock(self) -> None:
        while True:
            deadline = self.pbx.next_deadline()
            self._wake.clear()
            if deadline is None:
                await self._wake.wait()
                continue
            delay = (deadline - self.now()) / self.time_scale
            if delay > 0:
                try:
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                    continue  # an input arrived: the deadline may have changed
                except TimeoutError:
                    pass
            # asyncio may wake a hair early; the timer is due, so advance at least to it
            self.pbx.advance(max(self.now(), deadline))
            self.dispatch(self.pbx.drain())

    # -- outputs of the core --------------------------------------------------------------------
    def catch_up(self) -> None:
        """Fire the timers due by now before an input is handed in, so the core sees events in
        time order even when the clock task has not run yet."""
        now = self.now()
        deadline = self.pbx.next_deadline()
        if deadline is not None and deadline <= now:
            self.pbx.advance(now)
            self.dispatch(self.pbx.drain())

    def flush(self) -> None:
        """Dispatch what the core produced after an input, and let the clock re-plan."""
        self.dispatch(self.pbx.drain())
        self._wake.set()

    def dispatch(self, outputs: list[Output]) -> None:
        if self._idle_waiters and outputs and not self.pbx.has_channels():
            self._idle.set()
        self._router.dispatch(outputs)

    def broadcast(self, message: Message) -> None:
        """An event made by the AMI layer itself (UserEvent, security events)."""
        if self._router.ami is not None:
            self._router.ami.broadcast(message)

    def expect_originate(self, token: str) -> asyncio.Future[OriginateResult]:
        return self._router.expect_originate(token)

    # -- hooks used by the AMI and AGI layers ----------------------------------------------------
    @property
    def secrets(self) -> dict[str, str]:
        return self._secrets

    @property
    def auth_failure_delay(self) -> float:
        return self._auth_failure_delay

    @property
    def version(self) -> str:
        return self.plan.asterisk_version

    def refused_port(self) -> int:
        return self._refused_port

    def forget_link(self, session_id: int) -> None:
        self._router.links.pop(session_id, None)

    def _qualify(self, device: str, rtt_ms: float | None) -> None:
        self.catch_up()
        self.pbx.qualify(self.now(), device, rtt_ms)
        self.flush()

    def _cut_agi(self) -> None:
        for link in list(self._router.links.values()):
            link.cut()

    def _drop_ami(self) -> None:
        if self._router.ami is not None:
            self._router.ami.drop_all()

    @property
    def emitted(self) -> list[Message] | None:
        """Every AMI event the core emitted, in order (only with ``keep_events=True``)."""
        return self._router.emitted

    async def wait_idle(self) -> None:
        """Return once no channel exists (every call has ended)."""
        self._idle_waiters += 1
        try:
            while self.pbx.has_channels():
                self._idle.clear()
                await self._idle.wait()
        finally:
            self._idle_waiters -= 1

    # -- traffic ------------------------------------------------------------------------------
    async def place_call(
        self, caller: CallerBehaviour, *, exten: str = "s"
    ) -> OriginateAccepted | OriginateRejected:
        """One simulated caller dials the hotline (as the recorded caller-sim Originate)."""
        request = OriginateRequest(
            channel=f"Local/{caller.number}@caller-sim/n",
            context=self.plan.dialplan.context,
            exten=exten,
            priority=1,
            caller_id=f'"{caller.display_name}" <{caller.number}>',
            is_async=True,
            caller=caller,
        )
        self.catch_up()
        result = self.pbx.originate(self.now(), request)
        self.calls_placed += 1
        self.flush()
        return result

    def start_traffic(self, profile: TrafficProfile) -> list[PlannedCall]:
        """Place the seeded call sequence in the background; returns that sequence."""
        calls = generate_calls(random.Random(f"traffic-{self.seed}"), profile)
        self._spawn(self._traffic(calls))
        return calls

    async def _traffic(self, calls: list[PlannedCall]) -> None:
        start = self.now()
        for call in calls:
            delay = (start + call.at - self.now()) / self.time_scale
            if delay > 0:
                await asyncio.sleep(delay)
            await self.place_call(call.caller)
