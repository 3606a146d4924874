"""Offer latency: how soon the agent's phone rings, on the PBX simulator with Asterisk's timing.

The PBX simulator runs in a child process (like Asterisk, its work is not the daemon's) in real
time: prompts last their 1.5 s, PlayDTMF reaches a running digit wait after the recorded 1 ms
(acd/sim/dtmf.py). It stamps its outputs with ``time.perf_counter`` (CLOCK_MONOTONIC: the same
clock in both processes); the real daemon runs in this process over loopback sockets (AMI +
FastAGI), SQLite storage, no MQTT. For each agent count:

- ``agent_freed_to_ring_ms``: ``--waiting`` callers wait while announcements play (every
  caller hears position and hold-time pieces back to back, 0.3 s of music between them), every
  agent paused or in a long wrap-up. Each sample frees one agent (``wrapup-end`` / unpause) at a
  random moment and times it to the ``DialBegin`` of that agent's ring.
- ``caller_to_ring_ms``: nobody waiting, exactly one agent free; one caller arrives, timed from
  the simulator opening its FastAGI connection (Asterisk runs ``AGI()``) to ``DialBegin``.
- ``queued_to_ring_ms``: the same rings timed from the moment the daemon queues the caller
  (the start of the command storing the caller's place, ``EXEC MSet "HOTLINE_QUEUE=...``; with
  an agent free the Dial stores the place itself, so from the end of the caller's last command
  before the Dial, when the daemon has the caller's choice), comparable to app_queue's
  ``Queue()`` entry.
- ``announcement_blocked_offers``: offers after which the caller's channel started another
  announcement piece, or whose ring came after a piece that ended on its own more than 100 ms
  after the agent was freed (the offer waited for it). Must be 0.

``--cost-callers N`` also counts the AGI commands Asterisk runs per waiting caller per second
with N callers waiting (config/queues.yaml's announcements, nobody free) over ``--cost-window``
seconds: with the interrupt, and as while AMI is down (the old 500 ms polling)
(``agi_commands_per_waiting_caller_s``).

    python bench/offer_latency.py --json [--agents 10,1000,3000] [--samples 40]
    python bench/offer_latency.py --json --agents "" --cost-callers 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import random
import secrets
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from acd.app.daemon import Daemon, RunOptions
from acd.asterisk.ami.message import Message
from acd.cli.demo.plan import DemoParams, demo_settings, sim_plan
from acd.daemon.ivr_port import Features
from acd.daemon.offer_interrupt import Interrupter
from acd.engine.floor_inputs import AgentAction
from acd.settings.loader import load_settings
from acd.settings.schema_routing import Announcements
from acd.settings.settings import Settings
from acd.sim.outputs import AgiOpen, AmiEvent, Output
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from acd.sim.runtime import Simulator
from tests.daemon.harness import QueueAtOnce

CONFIG = Path(__file__).resolve().parents[1] / "config"
PIECES = ("STREAM FILE", "SAY NUMBER")
# Queue entry begins with the command storing the caller's place (HOTLINE_QUEUE first, in one
# EXEC MSet or a SET VARIABLE): timed from its start, so its round trip counts.
QUEUED = ('EXEC MSet "HOTLINE_QUEUE=', "SET VARIABLE HOTLINE_QUEUE")
NATURAL_END_GRACE_S = 0.1  # a piece ending this soon after the agent was freed did not block
BUSY = ("ready", "reserved", "on_call")
LATENCY_RULES = Announcements(first_after_s=0.3, every_s=0.3)


def settings_for(agents: int, rules: Announcements | None) -> Settings:
    """``rules`` None: each queue's own announcements (config/queues.yaml)."""
    base = load_settings(CONFIG, require_secrets=False)
    settings = demo_settings(base, DemoParams(agents=agents))
    update: dict[str, Any] = {
        "wrapup_s": 3600.0,  # an agent is freed only by the benchmark
        "ring_timeout_rings": 4,
    }
    if rules is not None:
        update["announcements"] = rules
    queues = tuple(q.model_copy(update=update) for q in settings.queues)
    return settings.model_copy(update={"queues": queues})


# -- the simulator process ----------------------------------------------------------------------


class Timeline:
    """perf_counter stamps of the simulator's outputs the benchmark needs, by caller channel."""

    def __init__(self) -> None:
        self.rings: dict[str, tuple[float, str]] = {}  # agent channel -> (t, caller channel)
        self.ring_seen = asyncio.Event()
        self.opened: dict[str, float] = {}  # caller channel -> FastAGI connection opened
        self.queued: dict[str, float] = {}  # caller channel -> queue entry (QUEUED's start)
        self.last_end: dict[str, float] = {}  # caller channel -> its last AGIExecEnd
        self.pieces: dict[str, list[tuple[float, str]]] = {}  # (t, start|end|dtmf)
        self.commands = 0  # AGIExecStart of every channel

    def dispatch(self, outputs: list[Output]) -> None:
        now = time.perf_counter()
        for out in outputs:
            if isinstance(out, AgiOpen):
                self.opened[dict(out.env).get("agi_channel", "")] = now
            elif isinstance(out, AmiEvent):
                self._event(now, out.message)

    def _event(self, now: float, m: Message) -> None:
        channel = m.get("Channel") or ""
        command = m.get("Command") or ""
        if m.name == "AGIExecStart":
            self.commands += 1
        if m.name == "DialBegin":
            self.rings[m.get("DestChannel") or ""] = (now, channel)
            self.ring_seen.set()
        elif m.name == "AGIExecStart" and command.startswith(QUEUED):
            self.queued[channel] = now
        elif m.name == "AGIExecStart" and command.startswith("EXEC Dial"):
            # the Dial stores the place (an agent free): queued when the choice came back
            self.queued.setdefault(channel, self.last_end.get(channel, now))
        elif m.name in ("AGIExecStart", "AGIExecEnd") and command.startswith(PIECES):
            self.pieces.setdefault(channel, []).append((now, m.name[7:].lower()))
        if m.name == "AGIExecEnd":
            self.last_end[channel] = now
        if m.name == "DTMFEnd":
            self.pieces.setdefault(channel, []).append((now, "dtmf"))

    def blocked(self, caller: str, freed: float, rang: float) -> bool:
        seen = [e for e in self.pieces.get(caller, []) if freed <= e[0] <= rang]
        if any(kind == "start" for _, kind in seen):
            return True
        interrupted = any(kind == "dtmf" for _, kind in seen)
        late_end = any(k == "end" and t > freed + NATURAL_END_GRACE_S for t, k in seen)
        return late_end and not interrupted

    async def ring(self, endpoint: str, limit_s: float = 30.0) -> tuple[float, str]:
        async with asyncio.timeout(limit_s):
            while True:
                for dest, seen in self.rings.items():
                    if dest.startswith(endpoint):
                        del self.rings[dest]
                        return seen
                self.ring_seen.clear()
                await self.ring_seen.wait()


def _sim_main(job: dict[str, Any], pipe: Connection) -> None:
    logging.disable(logging.WARNING)
    asyncio.run(_sim(job, pipe))


async def _sim(job: dict[str, Any], pipe: Connection) -> None:
    settings = settings_for(job["agents"], job["rules"])
    # the daemon's FastAGI key in the dialplan (demo settings make a new one each time)
    fastagi = settings.system.fastagi.model_copy(update={"key": SecretStr(job["agi_key"])})
    system = settings.system.model_copy(update={"fastagi": fastagi})
    settings = settings.model_copy(update={"system": system})
    endpoints = [a.endpoint for a in settings.agents]
    with tempfile.TemporaryDirectory(prefix="offer-latency-sim-") as tmp:
        plan = sim_plan(settings, DemoParams(), agi_port=job["agi_port"], recordings_dir=tmp)
        phone = AgentBehaviour(answer_after=0.2, talk_time=0.3, hangs_up="agent")
        plan = SimPlan(
            queues=plan.queues,
            agents=dict.fromkeys(endpoints, phone),
            dialplan=plan.dialplan,
            sounds=plan.sounds,
            recordings_dir=tmp,
            ami_event_filters=plan.ami_event_filters,  # the shipped manager.conf's, as live
        )
        sim = Simulator(
            plan,
            seed=1,
            ami_username=settings.system.ami.username,
            ami_secret=job["secret"],
            auth_failure_delay=0.0,
            time_scale=1.0,
        )
        timeline = Timeline()
        router = sim._router  # the benchmark stamps the simulator's outputs
        original = router.dispatch

        def stamped(outputs: list[Output]) -> None:
            timeline.dispatch(outputs)
            original(outputs)

        router.dispatch = stamped  # type: ignore[method-assign]
        await sim.start()
        pipe.send(sim.ami_port)
        loop = asyncio.get_running_loop()
        while True:
            request = await loop.run_in_executor(None, pipe.recv)
            if request[0] == "quit":
                break
            pipe.send(await _answer(sim, timeline, request))
        await sim.close()


async def _answer(sim: Simulator, timeline: Timeline, request: tuple[Any, ...]) -> Any:
    kind = request[0]
    if kind == "place":
        await sim.place_call(CallerBehaviour(number=request[1], hangup_after=None))
        return None
    if kind == "clear":
        timeline.rings.clear()
        return None
    if kind == "commands":
        return timeline.commands
    # "ring", endpoint, freed (perf_counter) or None
    rang, caller = await timeline.ring(request[1])
    freed = request[2]
    return {
        "rang": rang,
        "opened": timeline.opened.get(caller),
        "queued": timeline.queued.get(caller),
        "blocked": freed is not None and timeline.blocked(caller, freed, rang),
    }


# -- the daemon (this process) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rig:
    daemon: Daemon
    pipe: Connection
    endpoints: dict[str, str]
    rng: random.Random

    async def ask(self, *request: Any) -> Any:
        loop = asyncio.get_running_loop()
        self.pipe.send(request)
        return await loop.run_in_executor(None, self.pipe.recv)


@asynccontextmanager
async def rig_for(agents: int, rules: Announcements | None, seed: int) -> AsyncIterator[Rig]:
    """The simulator (child process) and the daemon, every agent paused."""
    settings = settings_for(agents, rules)
    endpoints = {a.id: a.endpoint for a in settings.agents}
    secret = secrets.token_hex(8)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        agi_port = int(s.getsockname()[1])
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    key = settings.system.fastagi.key
    job = {
        "agents": agents,
        "rules": rules,
        "agi_port": agi_port,
        "secret": secret,
        "agi_key": key.get_secret_value() if key is not None else None,
    }
    child = ctx.Process(target=_sim_main, args=(job, theirs))
    child.start()
    loop = asyncio.get_running_loop()
    ami_port = await loop.run_in_executor(None, ours.recv)
    with tempfile.TemporaryDirectory(prefix="offer-latency-") as tmp:
        daemon = Daemon(
            settings,
            RunOptions(
                ami_secret=secret,
                db_url=f"sqlite+aiosqlite:///{tmp}/hotline.db",
                spool_dir=Path(tmp) / "spool",
                ami_host="127.0.0.1",
                ami_port=ami_port,
                agi_port=agi_port,
                mqtt=False,
                login_agents=tuple(endpoints),
            ),
            Features(ivr=lambda _s: QueueAtOnce(settings.default_queue)),
        )
        run = asyncio.create_task(daemon.run())
        try:
            await daemon.started.wait()
            while not daemon.watcher.resyncs:  # noqa: ASYNC110 - no event for the first login
                await asyncio.sleep(0.05)
            for agent in endpoints:
                await daemon.acd.agent_input(agent, AgentAction.PAUSE, "meeting")
            yield Rig(daemon, ours, endpoints, random.Random(seed))
        finally:
            daemon.stop()
            await run
            ours.send(("quit",))
            await loop.run_in_executor(None, child.join)


async def states(daemon: Daemon) -> dict[str, str]:
    return await daemon.acd.read(lambda f, _n: {a: s.state.value for a, s in f.agents.items()})


async def free_one(rig: Rig) -> str:
    """Free one paused or wrapping-up agent; returns its id."""
    while True:
        now = await states(rig.daemon)
        idle = [a for a, s in now.items() if s in ("paused", "wrap_up")]
        if idle:
            break
        await asyncio.sleep(0.05)  # every agent talking: wait for one to finish
    agent = rig.rng.choice(idle)
    action = AgentAction.UNPAUSE if now[agent] == "paused" else AgentAction.END_WRAP_UP
    await rig.daemon.acd.agent_input(agent, action)
    return agent


async def freed_samples(rig: Rig, samples: int, waiting: int) -> tuple[list[float], int]:
    number = 5_000_000
    for _ in range(waiting):
        number += 1
        await rig.ask("place", str(number))
    await asyncio.sleep(2.0)  # every caller queued and into its first announcement
    got: list[float] = []
    blocked = 0
    for _ in range(samples):
        await asyncio.sleep(rig.rng.uniform(0.2, 0.8))  # anywhere in an announcement
        await rig.ask("clear")
        agent = await free_one(rig)
        freed = time.perf_counter()
        ring = await rig.ask("ring", rig.endpoints[agent], freed)
        got.append((ring["rang"] - freed) * 1000)
        blocked += ring["blocked"]
        number += 1  # keep the queue as long
        await rig.ask("place", str(number))
    # serve the callers still waiting: the next phase starts with nobody waiting
    while await rig.daemon.acd.read(lambda f, _n: len(f.router.waiting_calls())):
        await free_one(rig)
        await asyncio.sleep(0.05)
    return got, blocked


async def arrival_samples(rig: Rig, samples: int) -> tuple[list[float], list[float]]:
    got: list[float] = []
    queued: list[float] = []
    number = 6_000_000
    for _ in range(samples):
        while any(s in BUSY for s in (await states(rig.daemon)).values()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # exactly one agent free, nobody waiting
        await rig.ask("clear")
        agent = await free_one(rig)
        number += 1
        await rig.ask("place", str(number))
        ring = await rig.ask("ring", rig.endpoints[agent], None)
        got.append((ring["rang"] - ring["opened"]) * 1000)
        queued.append((ring["rang"] - ring["queued"]) * 1000)
    return got, queued


async def cost(callers: int, window_s: float, seed: int, *, polling: bool) -> float:
    """AGI commands per waiting caller per second, ``callers`` waiting with nobody free."""
    async with rig_for(10, None, seed) as rig:
        if polling:  # as while AMI is down: the music's wait is poll_ms long
            rig.daemon.flow._waiter.interrupter = Interrupter(lambda: None)
        for n in range(callers):
            await rig.ask("place", str(7_000_000 + n))
        await asyncio.sleep(12.0)  # past the first announcement (first_after_s 10)
        before = await rig.ask("commands")
        await asyncio.sleep(window_s)
        counted = await rig.ask("commands") - before
    return float(counted) / callers / window_s


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return {
        "p50": round(statistics.median(ordered), 2),
        "p90": round(pct(0.9), 2),
        "p99": round(pct(0.99), 2),
        "max": round(ordered[-1], 2),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cost_rates: dict[str, float] = {}
    if args.cost_callers:
        for polling in (False, True):
            rate = await cost(args.cost_callers, args.cost_window, args.seed, polling=polling)
            cost_rates["polling" if polling else "interrupt"] = round(rate, 3)
            print(f"cost polling={polling}: {rate:.3f} commands/caller/s", file=sys.stderr)
    freed: dict[str, Any] = {}
    arrivals: dict[str, Any] = {}
    queued: dict[str, Any] = {}
    blocked = 0
    for n in [int(n) for n in args.agents.split(",") if n]:
        async with rig_for(n, LATENCY_RULES, args.seed) as rig:
            got, missed = await freed_samples(rig, args.samples, args.waiting)
            came, in_queue = await arrival_samples(rig, args.samples)
        freed[str(n)], arrivals[str(n)], queued[str(n)] = stats(got), stats(came), stats(in_queue)
        blocked += missed
        print(f"{n} agents: freed {freed[str(n)]} arrival {arrivals[str(n)]}", file=sys.stderr)
    return {
        "agent_freed_to_ring_ms": freed,
        "caller_to_ring_ms": arrivals,
        "queued_to_ring_ms": queued,
        "announcement_blocked_offers": blocked,
        "agi_commands_per_waiting_caller_s": cost_rates,
        "samples": args.samples,
        "waiting_callers": args.waiting,
        "cost_callers": args.cost_callers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--agents", default="10,1000,3000", help="agent counts, comma-separated")
    parser.add_argument("--samples", type=int, default=40, help="samples per latency and count")
    parser.add_argument("--waiting", type=int, default=20, help="callers waiting while freed")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--cost-callers", type=int, default=0, help="also count AGI commands with this many waiting"
    )
    parser.add_argument("--cost-window", type=float, default=30.0, help="seconds counted")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    result = asyncio.run(main_async(args))
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
