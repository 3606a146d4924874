"""Offer latency: how soon the agent's phone rings, on the PBX simulator with Asterisk's timing.

The real daemon and the simulator run in this process over loopback sockets (AMI + FastAGI),
the simulator in real time (``time_scale`` 1: prompts last their 1.5 s, PlayDTMF reaches a
running digit wait after the recorded 1 ms, acd/sim/dtmf.py). For each agent count:

- ``agent_freed_to_ring_ms``: ``--waiting`` callers wait while announcements play (every
  caller hears position and hold-time pieces back to back, 0.3 s of music between them), every
  agent paused or in a long wrap-up. Each sample frees one agent (``wrapup-end`` / unpause) at a
  random moment and times it to the ``DialBegin`` of that agent's ring.
- ``caller_to_ring_ms``: nobody waiting, exactly one agent free; one caller arrives, timed from
  the simulator opening its FastAGI connection (Asterisk runs ``AGI()``) to ``DialBegin``.
- ``queued_to_ring_ms``: the same rings timed from the moment the daemon queues the caller
  (the end of its ``SET VARIABLE HOTLINE_QUEUE``), comparable to app_queue's ``Queue()`` entry.
- ``announcement_blocked_offers``: offers after which the caller's channel started another
  announcement piece, or whose ring came after a piece that ended on its own more than 100 ms
  after the agent was freed (the offer waited for it). Must be 0.

``--cost-callers N`` also counts the AGI commands Asterisk runs per waiting caller per second
with N callers waiting (config/queues.yaml's announcements, nobody free) over ``--cost-window``
seconds: with the interrupt, and as while AMI is down (the old 500 ms polling)
(``agi_commands_per_waiting_caller_s``). The simulator and the daemon share one process and
one event loop, so their Python work adds to every figure.

    python bench/offer_latency.py --json [--agents 10,1000,3000] [--samples 40]
    python bench/offer_latency.py --json --agents "" --cost-callers 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acd.app.daemon import Daemon, RunOptions
from acd.asterisk.aio.agi_session import AgiSession
from acd.asterisk.ami.message import Message
from acd.cli.demo.plan import DemoParams, demo_settings, sim_plan
from acd.daemon.ivr_port import Features, IvrOutcome
from acd.daemon.offer_interrupt import Interrupter
from acd.engine.floor_inputs import AgentAction
from acd.settings.loader import load_settings
from acd.settings.schema_routing import Announcements
from acd.settings.settings import Settings
from acd.sim.outputs import AgiOpen, AmiEvent, Output
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from acd.sim.runtime import Simulator

CONFIG = Path(__file__).resolve().parents[1] / "config"
PIECES = ("STREAM FILE", "SAY NUMBER")
QUEUED = "SET VARIABLE HOTLINE_QUEUE"  # the daemon queues the caller right after this
NATURAL_END_GRACE_S = 0.1  # a piece ending this soon after the agent was freed did not block


class QueueAtOnce:
    def __init__(self, queue: str) -> None:
        self._outcome = IvrOutcome("queue", queue=queue)

    async def __call__(self, session: AgiSession, *, caller_number: str, vip: bool) -> IvrOutcome:
        return self._outcome


class Timeline:
    """Wall-clock stamps of the simulator's outputs the benchmark needs, by caller channel."""

    def __init__(self) -> None:
        self.rings: dict[str, tuple[float, str]] = {}  # agent channel prefix -> (t, caller)
        self.ring_seen = asyncio.Event()
        self.agi_opened: list[float] = []
        self.pieces: dict[str, list[tuple[float, str, str]]] = {}  # (t, Start|End|DTMF, text)
        self.commands = 0  # AGIExecStart of every channel
        self.queued: dict[str, float] = {}  # caller channel -> SET VARIABLE HOTLINE_QUEUE done

    def dispatch(self, outputs: list[Output]) -> None:
        now = time.perf_counter()
        for out in outputs:
            if isinstance(out, AgiOpen):
                self.agi_opened.append(now)
            elif isinstance(out, AmiEvent):
                self._event(now, out.message)

    def _event(self, now: float, m: Message) -> None:
        channel = m.get("Channel") or ""
        if m.name == "AGIExecStart":
            self.commands += 1
        elif m.name == "AGIExecEnd" and (m.get("Command") or "").startswith(QUEUED):
            self.queued[channel] = now
        if m.name == "DialBegin":
            self.rings[m.get("DestChannel") or ""] = (now, channel)
            self.ring_seen.set()
        elif m.name in ("AGIExecStart", "AGIExecEnd") and (m.get("Command") or "").startswith(
            PIECES
        ):
            kind = "start" if m.name == "AGIExecStart" else "end"
            self.pieces.setdefault(channel, []).append((now, kind, m["Command"]))
        elif m.name == "DTMFEnd":
            self.pieces.setdefault(channel, []).append((now, "dtmf", m.get("Digit") or ""))

    def blocked(self, caller: str, freed: float, rang: float) -> bool:
        seen = [e for e in self.pieces.get(caller, []) if freed <= e[0] <= rang]
        if any(kind == "start" for _, kind, _ in seen):
            return True
        interrupted = any(kind == "dtmf" for _, kind, _ in seen)
        late_end = any(k == "end" and t > freed + NATURAL_END_GRACE_S for t, k, _ in seen)
        return late_end and not interrupted


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


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return {
        "p50": round(statistics.median(ordered), 2),
        "p90": round(pct(0.9), 2),
        "p99": round(pct(0.99), 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


async def free_agents(daemon: Daemon) -> dict[str, str]:
    return await daemon.acd.read(lambda f, _n: {a: s.state.value for a, s in f.agents.items()})


async def free_one(daemon: Daemon, rng: random.Random) -> str:
    """Free one paused or wrapping-up agent; returns its endpoint."""
    while True:
        states = await free_agents(daemon)
        idle = [a for a, s in states.items() if s in ("paused", "wrap_up")]
        if idle:
            break
        await asyncio.sleep(0.05)  # every agent talking: wait for one to finish
    agent = rng.choice(idle)
    action = AgentAction.UNPAUSE if states[agent] == "paused" else AgentAction.END_WRAP_UP
    await daemon.acd.agent_input(agent, action)
    return agent


async def wait_ring(timeline: Timeline, endpoint: str, limit_s: float = 30.0) -> tuple[float, str]:
    async with asyncio.timeout(limit_s):
        while True:
            for dest, seen in timeline.rings.items():
                if dest.startswith(endpoint):
                    del timeline.rings[dest]
                    return seen
            timeline.ring_seen.clear()
            await timeline.ring_seen.wait()


@asynccontextmanager
async def rig_for(
    agents: int, seed: int, rules: Announcements | None, timeline: Timeline
) -> AsyncIterator[Rig]:
    """The simulator (real time, its outputs stamped) and the daemon, every agent paused."""
    rng = random.Random(seed)
    settings = settings_for(agents, rules)
    endpoints = {a.id: a.endpoint for a in settings.agents}
    with tempfile.TemporaryDirectory(prefix="offer-latency-") as tmp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            agi_port = s.getsockname()[1]
        plan = sim_plan(settings, DemoParams(seed=seed), agi_port=agi_port, recordings_dir=tmp)
        phone = AgentBehaviour(answer_after=0.2, talk_time=0.3, hangs_up="agent")
        plan = SimPlan(
            queues=plan.queues,
            agents=dict.fromkeys(endpoints.values(), phone),
            dialplan=plan.dialplan,
            sounds=plan.sounds,
            recordings_dir=tmp,
        )
        secret = secrets.token_hex(8)
        sim = Simulator(
            plan,
            seed=seed,
            ami_username=settings.system.ami.username,
            ami_secret=secret,
            auth_failure_delay=0.0,
            time_scale=1.0,
        )
        router = sim._router  # the benchmark stamps the simulator's outputs
        original = router.dispatch

        def stamped(outputs: list[Output]) -> None:
            timeline.dispatch(outputs)
            original(outputs)

        router.dispatch = stamped  # type: ignore[method-assign]
        await sim.start()
        daemon = Daemon(
            settings,
            RunOptions(
                ami_secret=secret,
                db_url=f"sqlite+aiosqlite:///{tmp}/hotline.db",
                spool_dir=Path(tmp) / "spool",
                ami_host="127.0.0.1",
                ami_port=sim.ami_port,
                agi_port=sim.plan.dialplan.agi_port,
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
            yield Rig(daemon, sim, timeline, endpoints, rng)
        finally:
            daemon.stop()
            await run
            await sim.close()


async def run_floor(agents: int, samples: int, waiting: int, seed: int) -> dict[str, Any]:
    rules = Announcements(first_after_s=0.3, every_s=0.3)
    async with rig_for(agents, seed, rules, Timeline()) as rig:
        freed, blocked = await _freed_samples(rig, samples, waiting)
        arrivals, queued = await _arrival_samples(rig, samples)
    return {"freed": freed, "arrivals": arrivals, "queued": queued, "blocked": blocked}


async def run_cost(callers: int, window_s: float, seed: int, *, polling: bool) -> float:
    """AGI commands per waiting caller per second: ``callers`` wait (config/queues.yaml's
    announcements, nobody free) and the commands Asterisk starts for them are counted over
    ``window_s`` after the first announcements. ``polling``: as while AMI is down (the old
    path: a WAIT FOR DIGIT of ``poll_ms`` under the music)."""
    timeline = Timeline()
    async with rig_for(10, seed, None, timeline) as rig:
        if polling:
            rig.daemon.flow._waiter.interrupter = Interrupter(lambda: None)
        for n in range(callers):
            await rig.sim.place_call(CallerBehaviour(number=str(7_000_000 + n), hangup_after=None))
        await asyncio.sleep(12.0)  # past the first announcement (first_after_s 10)
        before = timeline.commands
        await asyncio.sleep(window_s)
        counted = timeline.commands - before
    return counted / callers / window_s


@dataclass(frozen=True, slots=True)
class Rig:
    daemon: Daemon
    sim: Simulator
    timeline: Timeline
    endpoints: dict[str, str]
    rng: random.Random


async def _freed_samples(rig: Rig, samples: int, waiting: int) -> tuple[list[float], int]:
    daemon, sim, timeline, endpoints, rng = (
        rig.daemon,
        rig.sim,
        rig.timeline,
        rig.endpoints,
        rig.rng,
    )
    number = 5_000_000
    for _ in range(waiting):
        number += 1
        await sim.place_call(CallerBehaviour(number=str(number), hangup_after=None))
    await asyncio.sleep(2.0)  # every caller queued and into its first announcement
    got: list[float] = []
    blocked = 0
    for _ in range(samples):
        await asyncio.sleep(rng.uniform(0.2, 0.8))  # anywhere in an announcement
        timeline.rings.clear()
        agent = await free_one(daemon, rng)
        freed = time.perf_counter()
        rang, caller = await wait_ring(timeline, endpoints[agent])
        got.append((rang - freed) * 1000)
        blocked += timeline.blocked(caller, freed, rang)
        number += 1  # keep the queue as long
        await sim.place_call(CallerBehaviour(number=str(number), hangup_after=None))
    # serve the callers still waiting: the next phase starts with nobody waiting
    while await daemon.acd.read(lambda f, _n: len(f.router.waiting_calls())):
        await free_one(daemon, rng)
        await asyncio.sleep(0.05)
    return got, blocked


async def _arrival_samples(rig: Rig, samples: int) -> tuple[list[float], list[float]]:
    daemon, sim, timeline, endpoints, rng = (
        rig.daemon,
        rig.sim,
        rig.timeline,
        rig.endpoints,
        rig.rng,
    )
    got: list[float] = []
    queued: list[float] = []
    number = 6_000_000
    for _ in range(samples):
        while True:  # exactly one agent free, nobody waiting
            states = await free_agents(daemon)
            if not any(s in ("ready", "reserved", "on_call") for s in states.values()):
                break
            await asyncio.sleep(0.05)
        timeline.rings.clear()
        agent = await free_one(daemon, rng)
        number += 1
        opened = len(timeline.agi_opened)
        await sim.place_call(CallerBehaviour(number=str(number), hangup_after=None))
        rang, caller = await wait_ring(timeline, endpoints[agent])
        got.append((rang - timeline.agi_opened[opened]) * 1000)
        queued.append((rang - timeline.queued[caller]) * 1000)
    return got, queued


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(n) for n in args.agents.split(",") if n]
    cost: dict[str, float] = {}
    if args.cost_callers:
        for polling in (False, True):
            rate = await run_cost(args.cost_callers, args.cost_window, args.seed, polling=polling)
            cost["polling" if polling else "interrupt"] = round(rate, 3)
            print(f"cost polling={polling}: {rate:.3f} commands/caller/s", file=sys.stderr)
    freed: dict[str, Any] = {}
    arrivals: dict[str, Any] = {}
    queued: dict[str, Any] = {}
    blocked = 0
    for n in counts:
        result = await run_floor(n, args.samples, args.waiting, args.seed)
        freed[str(n)] = stats(result["freed"])
        arrivals[str(n)] = stats(result["arrivals"])
        queued[str(n)] = stats(result["queued"])
        blocked += result["blocked"]
        print(f"{n} agents: freed {freed[str(n)]} arrival {arrivals[str(n)]}", file=sys.stderr)
    return {
        "agent_freed_to_ring_ms": freed,
        "caller_to_ring_ms": arrivals,
        "queued_to_ring_ms": queued,
        "announcement_blocked_offers": blocked,
        "agi_commands_per_waiting_caller_s": cost,
        "cost_callers": args.cost_callers,
        "samples": args.samples,
        "waiting_callers": args.waiting,
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
