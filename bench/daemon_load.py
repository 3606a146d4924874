"""Daemon load benchmark: one daemon, 2,000 logged-in agents, 100 new calls a second.

The PBX simulator runs in a child process (so ``getrusage`` of this process is the daemon's CPU
alone) and places ``--rate`` calls a second for ``--duration`` seconds into the real daemon over
loopback sockets (AMI + FastAGI). The IVR is short-circuited (every caller is queued at once),
agents answer after 0.3 s and talk 1 s, wrap-up is 0.5 s, storage is SQLite in a temp directory.

Printed (``--json``): ``sustained_calls_per_s`` (calls finished by the daemon per second of
traffic), ``cpu_s_per_call`` (including the storage backlog written after the traffic),
``peak_rss_mb`` (ru_maxrss of the daemon process), ``calls``/``answered``,
``call_rows`` (rows in the database afterwards: every call, nothing lost),
``storage_writes_spooled`` (the backlog the writer moved to disk while behind) and
``p99_offer_latency_ms`` (queue entry -> the agent's phone starts ringing: routing plus the
FastAGI round trips to start the Dial). Optional ``--pin`` puts the daemon on one CPU and the
simulator on another.

    python bench/daemon_load.py --json [--duration 30] [--rate 100] [--agents 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import resource
import secrets
import socket
import sqlite3
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acd.app.daemon import Daemon, RunOptions
from acd.asterisk.aio.agi_session import AgiSession
from acd.cli.demo.plan import DemoParams, demo_settings, sim_plan
from acd.daemon.ivr_port import Features, IvrOutcome
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from acd.sim.runtime import Simulator

CONFIG = Path(__file__).resolve().parents[1] / "config"
PHONE = AgentBehaviour(answer_after=0.3, talk_time=1.0, hangs_up="agent")
DRAIN_LIMIT_S = 30.0


def bench_settings(agents: int, agi_key: str | None = None) -> Settings:
    base = load_settings(CONFIG, require_secrets=False)
    if agi_key is not None:  # the simulator's dialplan carries the daemon's key
        fastagi = base.system.fastagi.model_copy(update={"key": SecretStr(agi_key)})
        base = base.model_copy(
            update={"system": base.system.model_copy(update={"fastagi": fastagi})}
        )
    settings = demo_settings(base, DemoParams(agents=agents))
    queues = tuple(q.model_copy(update={"wrapup_s": 0.5}) for q in settings.queues)
    return settings.model_copy(update={"queues": queues})


class QueueAtOnce:
    def __init__(self, queue: str) -> None:
        self.queue = queue

    async def __call__(self, session: AgiSession, *, caller_number: str, vip: bool) -> IvrOutcome:
        return IvrOutcome("queue", queue=self.queue)


# -- the simulator process ----------------------------------------------------------------------


def _sim_main(
    agents: int, agi_port: int, secret: str, args: dict[str, Any], pipe: Connection
) -> None:
    if args["pin"]:
        os.sched_setaffinity(0, {args["sim_cpu"]})
    asyncio.run(_sim(agents, agi_port, secret, args, pipe))


async def _sim(
    agents: int, agi_port: int, secret: str, args: dict[str, Any], pipe: Connection
) -> None:
    settings = bench_settings(agents, args["agi_key"])
    plan = sim_plan(settings, DemoParams(), agi_port=agi_port, recordings_dir="")
    plan = SimPlan(
        queues=plan.queues,
        agents=dict.fromkeys((a.endpoint for a in settings.agents), PHONE),
        dialplan=plan.dialplan,  # rendered and installed with the daemon's FastAGI key
        sounds=plan.sounds,
        recordings_dir=tempfile.mkdtemp(prefix="hotline-bench-rec-"),
    )
    sim = Simulator(
        plan,
        seed=1,
        ami_username=settings.system.ami.username,
        ami_secret=secret,
        auth_failure_delay=0.0,
    )
    await sim.start()
    loop = asyncio.get_running_loop()
    pipe.send(sim.ami_port)
    await loop.run_in_executor(None, pipe.recv)  # "go": the daemon is up
    start = loop.time()
    total = int(args["rate"] * args["duration"])
    for i in range(total):
        delay = start + i / args["rate"] - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await sim.place_call(CallerBehaviour(number=f"186{i:08d}", hangup_after=None))
    placing_s = loop.time() - start
    try:
        async with asyncio.timeout(DRAIN_LIMIT_S):
            await sim.wait_idle()
    except TimeoutError:
        pass
    pipe.send({"placed": sim.calls_placed, "placing_s": placing_s, "left": len(sim.pbx.channels())})
    await sim.close()


# -- the daemon (this process) ------------------------------------------------------------------


def _agi_key(settings: Settings) -> str:
    key = settings.system.fastagi.key
    assert key is not None  # demo_settings makes a throw-away one
    return key.get_secret_value()


async def _daemon(args: argparse.Namespace) -> dict[str, Any]:
    settings = bench_settings(args.agents)
    secret = secrets.token_hex(8)
    host = settings.system.fastagi.host
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    with socket.socket() as s:
        s.bind((host, 0))
        agi_port = int(s.getsockname()[1])
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(
        target=_sim_main,
        args=(
            args.agents,
            agi_port,
            secret,
            {**vars(args), "sim_cpu": 1, "agi_key": _agi_key(settings)},
            theirs,
        ),
    )
    child.start()
    loop = asyncio.get_running_loop()
    ami_port = await loop.run_in_executor(None, ours.recv)
    runner = QueueAtOnce(settings.default_queue)
    daemon = Daemon(
        settings,
        RunOptions(
            ami_secret=secret,
            db_url=f"sqlite+aiosqlite:///{workdir / 'hotline.db'}",
            spool_dir=workdir / "spool",
            ami_host=host,
            ami_port=ami_port,
            agi_port=agi_port,
            mqtt=False,
            login_agents=tuple(a.id for a in settings.agents),
        ),
        Features(ivr=lambda _sessions: runner),
    )
    async with asyncio.TaskGroup() as tasks:
        run = tasks.create_task(daemon.run())
        await daemon.started.wait()
        while daemon.watcher.resyncs == 0:  # noqa: ASYNC110 - no event for the first resync
            await asyncio.sleep(0.05)
        # The 2,000 log-in rows are start-up work, not per-call work: let them land first.
        t0 = time.perf_counter()
        await daemon.writer.wait_drained()
        startup_drain_s = time.perf_counter() - t0
        before = resource.getrusage(resource.RUSAGE_SELF)
        wall0 = time.perf_counter()
        ours.send("go")
        report = await loop.run_in_executor(None, ours.recv)
        wall = time.perf_counter() - wall0
        # The storage backlog is per-call work too: count its CPU, report how long it took.
        t0 = time.perf_counter()
        await daemon.writer.wait_drained()
        backlog_s = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF)
        daemon.stop()
        await run
    child.join()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    facts = daemon.outputs.completed
    ended = len(facts)
    latencies = sorted(
        f.ring_started_at - f.queued_at
        for f in facts
        if f.ring_started_at is not None and f.queued_at is not None
    )
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else None
    return {
        "sustained_calls_per_s": round(ended / max(wall, report["placing_s"]), 1),
        "cpu_s_per_call": round(cpu / max(1, ended), 5),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "calls": report["placed"],
        "answered": daemon.outputs.outcomes.get("answered", 0),
        "ended": ended,
        "outcomes": dict(daemon.outputs.outcomes),
        "p99_offer_latency_ms": None if p99 is None else round(p99 * 1000, 1),
        "p50_offer_latency_ms": (
            round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None
        ),
        "daemon_cpu_s": round(cpu, 2),
        "startup_log_in_writes_s": round(startup_drain_s, 2),
        "storage_backlog_after_traffic_s": round(backlog_s, 2),
        "call_rows": _call_rows(workdir / "hotline.db"),
        "storage_writes_spooled": daemon.writer.spilled,
        "wall_s": round(wall, 2),
        "placing_s": round(report["placing_s"], 2),
        "channels_left": report["left"],
        "agents": args.agents,
        "rate": args.rate,
        "duration_s": args.duration,
    }


def _call_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM calls").fetchone()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--pin", action="store_true", help="daemon on CPU 0, simulator on CPU 1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the numbers are the output, not the logs
    if args.pin:
        os.sched_setaffinity(0, {0})
    result = asyncio.run(_daemon(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
