"""Daemon load benchmark: one daemon, 10,000 logged-in agents, 200 new calls a second.

The PBX simulator runs in a child process (so ``getrusage`` of this process is the daemon's CPU
alone) and places ``--rate`` calls a second for ``--duration`` seconds into the real daemon over
loopback sockets (AMI + FastAGI). The IVR is short-circuited (every caller is queued at once),
agents answer after 0.3 s and talk 1 s, wrap-up is 0.5 s, storage is SQLite in a temp directory.

Printed (``--json``): ``sustained_calls_per_s`` (calls the daemon put through to a ringing agent
per second, from the first queue entry to the last ring), ``cpu_s_per_call`` (including the
storage backlog written after the traffic),
``peak_rss_mb`` (ru_maxrss of the daemon process), ``calls``/``answered``,
``call_rows`` (rows in the database afterwards: every call, nothing lost),
``storage_writes_spooled`` (the backlog the writer moved to disk while behind) and
``p99_offer_latency_ms`` (queue entry -> the agent's phone starts ringing: routing plus the
FastAGI round trips to start the Dial). Optional ``--pin`` puts the daemon on one CPU and the
simulator on another.

Issue 13's figures: ``agents``, ``calls_per_s`` (= sustained), ``peak_rss_mb``,
``rss_baseline_mb`` (agents logged in, before the traffic), ``rss_after_drain_mb`` (the calls
over, storage drained, a ``gc.collect()``), ``loop_lag_p99_ms`` (a 10 ms timer's lateness in the
daemon's event loop during the traffic), ``writes_per_call`` (storage commands the daemon
submitted during the traffic per finished call; ``writes_by_kind`` splits them) and
``storage_writes_spooled`` (during the calls; ``startup_writes_spooled``: the log-in burst of
every agent, two writes each, beyond the writer's ``max_queue``). ``live_objects_growth`` is
the number of Python objects left after the drain beyond the baseline (what a cache that never
shrinks would show). ``--bursts N`` (3 or more): ``rss_between_bursts_mb`` (after each
burst but the last, measured alike), SQLite's own heap then (``sqlite_memory_between_bursts_mb``)
and ``rss_plateaus`` (judged less the benchmark's own probe arrays in this process,
``benchmark_arrays_between_bursts_mb``).

    python bench/daemon_load.py --json [--duration 30] [--rate 200] [--agents 10000] [--pin]
"""

from __future__ import annotations

import _sqlite3
import argparse
import asyncio
import ctypes
import gc
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
import threading
import time
import tracemalloc
from array import array
from collections import Counter
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acd.app.daemon import Daemon, RunOptions
from acd.cli.demo.plan import DemoParams, demo_settings, sim_plan
from acd.daemon.ivr_port import Features
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from acd.sim.runtime import Simulator
from tests.daemon.harness import QueueAtOnce

CONFIG = Path(__file__).resolve().parents[1] / "config"
PHONE = AgentBehaviour(answer_after=0.3, talk_time=1.0, hangs_up="agent")
DRAIN_LIMIT_S = 30.0
LAG_TICK_S = 0.01
RSS_EVERY_S = 10.0


def count_writes(daemon: Daemon) -> Counter[str]:
    """Count every storage command the daemon submits from now on, by kind."""
    writes: Counter[str] = Counter()
    submit = daemon.writer.submit

    def counted(command: Any) -> None:
        writes[type(command).__name__] += 1
        submit(command)

    daemon.writer.submit = counted  # type: ignore[method-assign]
    return writes


def objects_by_type() -> Counter[str]:
    return Counter(type(o).__name__ for o in gc.get_objects())


def print_growth(before: Counter[str]) -> None:
    """Which objects stayed behind after the calls (to stderr)."""
    grown = objects_by_type()
    grown.subtract(before)
    print(json.dumps(grown.most_common(15)), file=sys.stderr)


def deep_size(root: object) -> int:
    """Bytes of ``root`` and what it alone refers to (shared interned/small objects counted too:
    an upper bound)."""
    seen: set[int] = set()
    stack, total = [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total


def cache_figures(daemon: Daemon) -> dict[str, Any]:
    """What the two per-call caches (closed calls for the wallboard, finished calls' KPI facts)
    hold per call, and at their count bounds (``acd.daemon.closed_calls``)."""
    recent, completed = daemon.registry.recent, daemon.outputs.completed
    state, facts = recent.last_row(), completed.last_row()
    if state is None or facts is None:
        return {}
    state_b, facts_b = deep_size(state) + 8, deep_size(facts) + 8  # + the time kept beside
    return {
        "cached_bytes_per_call": state_b + facts_b,
        "caches_at_bound_mb": round(
            (recent.max_rows * state_b + completed.max_rows * facts_b) / 2**20, 1
        ),
        "cached_rows_gc_tracked": gc.is_tracked(state) or gc.is_tracked(facts),
    }


def live_objects() -> int:
    """Objects the collector tracks, the frozen ones (``gc.freeze``) included."""
    return len(gc.get_objects()) + gc.get_freeze_count()


def rss_mb() -> float:
    """This process's resident set now (``ru_maxrss`` is only the peak)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def sqlite_mb() -> float | None:
    """SQLite's own heap in this process (``sqlite3_memory_used`` of the library the
    ``sqlite3`` module runs on): mostly each connection's page cache, which fills as the
    database grows, up to its ``cache_size`` (2,000 KiB by default). None where that library
    cannot be asked, or the one found is not the module's (another version)."""
    try:
        lib = ctypes.CDLL(_sqlite3.__file__)  # its symbols, or those of the libsqlite3 it uses
        lib.sqlite3_libversion.restype = ctypes.c_char_p
        if lib.sqlite3_libversion().decode() != sqlite3.sqlite_version:
            return None
        used = lib.sqlite3_memory_used
    except (OSError, AttributeError):
        return None
    used.restype = ctypes.c_int64
    return round(int(used()) / 2**20, 1)


class GcProbe:
    """Pauses of the cyclic garbage collector (a full collection walks every live object).

    Each pause is timed on the wall clock and on this thread's CPU clock: on a shared machine
    a pause can be long because the process was descheduled, not because the collector worked.
    """

    def __init__(self, diag: bool = False) -> None:
        # each collection's generation, wall and CPU seconds, when it started (perf_counter);
        # arrays, as LagProbe's, so that the probe's own growth is not counted as the daemon's
        self.generation = array("b")
        self.wall_s, self.cpu_s, self.started_at = array("d"), array("d"), array("d")
        self._started = (0.0, 0.0)
        self.diag = diag
        self.full: list[tuple[int, int, float]] = []  # diag: (tracked, collected, CPU s)
        self._tracked = 0
        self.worst_tracked = 0
        self.worst_types: Counter[str] = Counter()
        gc.callbacks.append(self._on_gc)

    def arrays(self) -> tuple[array[Any], ...]:
        return self.generation, self.wall_s, self.cpu_s, self.started_at

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            if self.diag and info["generation"] == 2:
                objects = gc.get_objects()
                self._tracked = len(objects)
                if self._tracked > self.worst_tracked:
                    self.worst_tracked = self._tracked
                    self.worst_types = Counter(type(o).__name__ for o in objects)
                del objects
            self._started = (time.perf_counter(), time.thread_time())
        else:
            wall, cpu = self._started
            now = time.perf_counter()
            if self.diag and info["generation"] == 2:
                self.full.append((self._tracked, info["collected"], time.thread_time() - cpu))
            self.generation.append(int(info["generation"]))
            self.wall_s.append(now - wall)
            self.cpu_s.append(time.thread_time() - cpu)
            self.started_at.append(wall)

    def close(self) -> dict[str, Any]:
        gc.callbacks.remove(self._on_gc)
        full = [cpu for g, cpu in zip(self.generation, self.cpu_s, strict=True) if g == 2]
        return {
            "gc_collections": len(self.generation),
            "gc_full_collections": len(full),
            "gc_max_pause_ms": round(1000 * max(self.wall_s, default=0.0), 1),
            "gc_max_pause_cpu_ms": round(1000 * max(self.cpu_s, default=0.0), 1),
            "gc_full_pause_cpu_ms": [round(1000 * cpu, 1) for cpu in full],
            "gc_total_cpu_s": round(sum(self.cpu_s), 3),
        }


class LagProbe:
    """How late a 10 ms timer fires in this event loop: the loop's responsiveness."""

    def __init__(self) -> None:
        # Arrays of floats, not lists of tuples: the probe lives in the daemon's process, and
        # its own growth (~170 bytes a tick as tuples, 16 as floats) would count as the
        # daemon's in the RSS figures.
        self.lags = array("d")
        self.at = array("d")  # each tick's end (perf_counter)
        # the process's CPU seconds over each tick (every thread of it, the storage writer's
        # included): a late tick with little CPU was the machine (the process descheduled),
        # not the daemon's own work
        self.cpu = array("d")
        self.rss: list[float] = []  # RSS every RSS_EVERY_S of traffic: does it plateau?
        self.running = True

    def arrays(self) -> tuple[array[Any], ...]:
        return self.lags, self.at, self.cpu

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_rss = loop.time()
        while self.running:
            due = loop.time() + LAG_TICK_S
            cpu = time.process_time()
            await asyncio.sleep(LAG_TICK_S)
            now = loop.time()
            self.lags.append(max(0.0, now - due))
            self.at.append(time.perf_counter())
            self.cpu.append(time.process_time() - cpu)
            if now >= next_rss:
                self.rss.append(round(rss_mb(), 1))
                next_rss = now + RSS_EVERY_S

    def p99_ms(self) -> float | None:
        lags = sorted(self.lags)
        return round(1000 * lags[int(0.99 * (len(lags) - 1))], 2) if lags else None

    def own_p99_ms(self) -> float | None:
        """p99 of each tick's lateness capped at the CPU the process used over it (all its
        threads: with ``--pin`` they share one core): what the daemon's own work (and its
        collections) would cost on a core of its own; the rest of a late tick the process was
        not running (other processes on the shared core)."""
        own = sorted(min(late, cpu) for late, cpu in zip(self.lags, self.cpu, strict=True))
        return round(1000 * own[int(0.99 * (len(own) - 1))], 2) if own else None


def print_edges() -> None:
    """What a full collection walks: tracked objects and their references, by type (stderr)."""
    edges: Counter[str] = Counter()
    big: list[tuple[int, str]] = []
    for obj in gc.get_objects():
        n = len(gc.get_referents(obj))
        edges[type(obj).__name__] += n
        if n > 1000:
            big.append((n, type(obj).__name__ + " " + repr(obj)[:120]))
    print("edges", sum(edges.values()), json.dumps(edges.most_common(12)), file=sys.stderr)
    for n, what in sorted(big, reverse=True)[:20]:
        print(n, what, file=sys.stderr)


SLOW_STEPS: list[tuple[float, str]] = []  # --growth: loop steps of 5 ms or more


def time_loop_steps() -> None:
    """``--growth``: time every step the event loop runs (a callback, a task's step until its
    next await); keep the slow ones, by their task's coroutine or callback."""
    run = asyncio.events.Handle._run

    def timed(handle: asyncio.events.Handle) -> None:
        t0 = time.thread_time()
        run(handle)
        spent = time.thread_time() - t0
        if spent >= 0.005:
            cb = handle._callback  # type: ignore[attr-defined]
            task = getattr(cb, "__self__", None)
            coro = task.get_coro() if isinstance(task, asyncio.Task) else None
            what = getattr(coro, "__qualname__", None) or getattr(cb, "__qualname__", repr(cb))
            SLOW_STEPS.append((spent, str(what)))

    asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]


def print_slow_steps() -> None:
    by: dict[str, list[float]] = {}
    for step_s, what in SLOW_STEPS:
        by.setdefault(what, []).append(step_s)
    rows = sorted(by.items(), key=lambda kv: -sum(kv[1]))[:15]
    for what, steps in rows:
        print(
            f"slow {what}: {len(steps)} steps, max {max(steps) * 1000:.1f} ms, "
            f">=20 ms: {sum(1 for x in steps if x >= 0.02)}",
            file=sys.stderr,
        )


def start_diagnosis(args: argparse.Namespace) -> Counter[str]:
    """At the baseline: ``--growth``'s count of objects by type; ``--trace-malloc`` starts
    tracing allocations (only what the traffic allocates is traced)."""
    if args.trace_malloc:
        tracemalloc.start(1)
    return objects_by_type() if args.growth else Counter()


def print_trace() -> None:
    """``--trace-malloc``: where the memory allocated since the baseline and still held after
    the drain was allocated (to stderr)."""
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stats = snapshot.statistics("lineno")
    total = sum(stat.size for stat in stats)
    print(f"traced since baseline, still held: {total / 2**20:.1f} MB", file=sys.stderr)
    for stat in stats[:25]:
        print(f"{stat.size / 2**10:9.1f} KiB {stat.count:7d} {stat.traceback}", file=sys.stderr)


def print_diagnosis(
    args: argparse.Namespace, types_before: Counter[str], lag: LagProbe, gcs: GcProbe
) -> None:
    """``--growth``: where the objects, the late ticks and the full collections come from;
    ``--trace-malloc``: where what is still held was allocated."""
    if args.trace_malloc:
        print_trace()
    if not args.growth:
        return
    print_growth(types_before)
    print_slow_steps()
    print_worst_ticks(lag, gcs)
    print_edges()
    print("full collections (tracked, collected, cpu s)", gcs.full, file=sys.stderr)
    print("worst", json.dumps(gcs.worst_types.most_common(40)), file=sys.stderr)


def print_garbage() -> None:
    """What the collector finds as cyclic garbage since its last full collection (stderr)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    garbage = Counter(type(o).__name__ for o in gc.garbage)
    print("garbage", len(gc.garbage), json.dumps(garbage.most_common(25)), file=sys.stderr)
    gc.set_debug(0)
    gc.garbage.clear()


async def drained_in(daemon: Daemon) -> float:
    """Seconds until the storage writer has written everything queued."""
    t0 = time.perf_counter()
    await daemon.writer.wait_drained()
    return time.perf_counter() - t0


def memory_after_drain(daemon: Daemon) -> dict[str, Any]:
    """The calls over and stored: a full collection (its cost), RSS, what is still tracked."""
    t0 = time.thread_time()
    gc.collect()
    collect_s = time.thread_time() - t0
    return {
        "rss_after_drain_mb": round(rss_mb(), 1),
        "live_objects_after": live_objects(),
        "gc_tracked_after_drain": len(gc.get_objects()),
        "full_collect_after_drain_cpu_ms": round(1000 * collect_s, 1),
        **cache_figures(daemon),
    }


def pymalloc() -> dict[str, int] | None:
    """CPython's small-object allocator, from ``sys._debugmallocstats`` (which writes to file
    descriptor 2): bytes in live blocks (``live``), bytes free inside its arenas
    (``free``: free blocks in used pools, and unused pools) and its arenas (``arenas``).
    None when pymalloc is not the allocator (``PYTHONMALLOC=malloc``, tracemalloc tracing:
    nothing is printed). While it runs, what other threads write to stderr goes to its file."""
    with tempfile.TemporaryFile("w+") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        figures: dict[str, int] = {"free": 0}
        for line in out:
            label, _, value = line.partition(" = ")
            number = value.strip().replace(",", "")
            if not number.isdigit():
                continue
            if label.startswith("# bytes in allocated blocks"):
                figures["live"] = int(number)
            elif label.startswith("# bytes in available blocks") or "unused pools" in label:
                figures["free"] += int(number)
            elif label.startswith("# arenas allocated current"):
                figures["arenas"] = int(number)
        return figures if "live" in figures and "arenas" in figures else None


def heap_figures(before: dict[str, int] | None, after: dict[str, int] | None) -> dict[str, Any]:
    """What RSS cannot tell apart: the Python objects still alive (memory per call returned
    when they are back at the baseline) and the space free inside the small-object
    allocator's arenas, which it keeps while any object lives in an arena. Nothing when either
    reading is missing (``pymalloc``)."""
    if before is None or after is None:
        return {}
    mb = 2**20
    growth = (after["live"] - before["live"]) / mb
    return {
        "python_live_mb": [round(before["live"] / mb, 1), round(after["live"] / mb, 1)],
        "python_live_growth_mb": round(growth, 2),
        # 5% of the baseline, as for RSS: per-agent figures the traffic fills in (the
        # handle-time estimates), the floor's lists resized
        "python_live_back_to_baseline": growth <= 0.05 * before["live"] / mb,
        "pymalloc_arenas": [before["arenas"], after["arenas"]],
        "pymalloc_free_in_arenas_mb": [round(before["free"] / mb, 1), round(after["free"] / mb, 1)],
    }


def memory_after_release(
    daemon: Daemon, baseline: float, heap_baseline: dict[str, int] | None, per_call: int
) -> dict[str, Any]:
    """RSS after what the daemon does once a minute (``Daemon.release_memory``: glibc's
    ``malloc_trim``), and once the caches' windows are over too (an hour on), with the Python
    heap's figures then (``heap_figures``).

    The tolerance of "back to the baseline": the finished calls the two caches keep by design
    for their window (``per_call`` bytes each, ``cache_figures``) plus 5% of the baseline for
    CPython's partly used arenas (memory freed inside them stays resident while one object
    lives there)."""
    took = daemon.release_memory()
    after_trim = rss_mb()
    # what the caches hold now (all the run's calls, or the last burst's with --prune-between),
    # taken before their windows are made to end
    cached = per_call * len(daemon.outputs.completed) / 2**20
    daemon.prune_caches(time.time() + 3600.0)
    gc.collect()
    daemon.release_memory()
    after_window = rss_mb()
    heap = pymalloc()
    tolerance = cached + 0.05 * baseline
    return {
        "rss_after_trim_mb": round(after_trim, 1),
        "trim_after_drain_ms": None if took is None else round(1000 * took, 1),
        "rss_after_window_mb": round(after_window, 1),
        # the caches' windows over too: only the arenas' 5% may remain
        "rss_after_window_back_to_baseline": after_window - baseline <= 0.05 * baseline,
        "rss_drain_tolerance_mb": round(tolerance, 1),
        "rss_back_to_baseline": after_trim - baseline <= tolerance,
        **heap_figures(heap_baseline, heap),
    }


async def trim_in_traffic(daemon: Daemon, after_s: float) -> float | None:
    """One ``release_memory`` in the middle of the traffic (the daemon does one a minute):
    what it costs the event loop while the heap is busy."""
    await asyncio.sleep(after_s)
    return daemon.release_memory()


def print_worst_ticks(lag: LagProbe, gcs: GcProbe, n: int = 15) -> None:
    """The latest ticks, their CPU and the collections within them (to stderr)."""
    ticks = zip(lag.at, lag.lags, lag.cpu, strict=True)
    pauses = list(zip(gcs.generation, gcs.wall_s, gcs.cpu_s, gcs.started_at, strict=True))
    for at, late, cpu in sorted(ticks, key=lambda t: -t[1])[:n]:
        start = at - late - LAG_TICK_S
        inside = [
            (g, round(w * 1000, 1), round(c * 1000, 1)) for g, w, c, t in pauses if start <= t <= at
        ]
        print(f"late {late * 1000:7.1f} ms cpu {cpu * 1000:7.1f} ms gc {inside}", file=sys.stderr)


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
        # the shipped manager.conf's eventfilter lines, unless --no-ami-filter (the "before")
        ami_event_filters={} if args["no_ami_filter"] else plan.ami_event_filters,
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
    total = int(args["rate"] * args["duration"])
    placing_s = 0.0
    for burst in range(args["bursts"]):
        await loop.run_in_executor(None, pipe.recv)  # "go": the daemon is up (or drained)
        start = loop.time()
        for i in range(total):
            delay = start + i / args["rate"] - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            number = f"18{burst}{i:08d}"
            await sim.place_call(CallerBehaviour(number=number, hangup_after=None))
        placing_s += loop.time() - start
        try:
            async with asyncio.timeout(DRAIN_LIMIT_S):
                await sim.wait_idle()
        except TimeoutError:
            pass
        if burst < args["bursts"] - 1:
            pipe.send("idle")
    ami = sim.ami_server
    pipe.send(
        {
            "placed": sim.calls_placed,
            "placing_s": placing_s,
            "left": len(sim.pbx.channels()),
            "ami_events_sent": ami.events_sent,
            "ami_events_filtered": ami.events_filtered,
        }
    )
    await sim.close()


# -- the daemon (this process) ------------------------------------------------------------------


def _agi_key(settings: Settings) -> str:
    key = settings.system.fastagi.key
    assert key is not None  # demo_settings makes a throw-away one
    return key.get_secret_value()


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _start_simulator(
    args: argparse.Namespace, settings: Settings, agi_port: int, secret: str
) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    sim_args = {**vars(args), "sim_cpu": 1, "agi_key": _agi_key(settings)}
    child = ctx.Process(target=_sim_main, args=(args.agents, agi_port, secret, sim_args, theirs))
    child.start()
    return child, ours


async def _daemon(args: argparse.Namespace) -> dict[str, Any]:
    settings = bench_settings(args.agents)
    secret = secrets.token_hex(8)
    host = settings.system.fastagi.host
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    agi_port = _free_port(host)
    child, ours = _start_simulator(args, settings, agi_port, secret)
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
            freeze_gc=True,  # as ``hotline run`` does
            trim_heap=True,
        ),
        Features(ivr=lambda _sessions: runner),
    )
    async with asyncio.TaskGroup() as tasks:
        run = tasks.create_task(daemon.run())
        await daemon.started.wait()
        while daemon.watcher.resyncs == 0:  # noqa: ASYNC110 - no event for the first resync
            await asyncio.sleep(0.05)
        # The log-in rows are start-up work, not per-call work: let them land first.
        startup_drain_s = await drained_in(daemon)
        startup_spooled = daemon.writer.spilled  # the log-in burst beyond max_queue
        gc.collect()
        rss_baseline, objects_baseline, tracked_baseline, heap_baseline = (
            rss_mb(),
            live_objects(),
            len(gc.get_objects()),
            pymalloc(),
        )
        types_before = start_diagnosis(args)
        writes = count_writes(daemon)
        probe, gc_probe = LagProbe(), GcProbe(args.growth)
        lag_task = tasks.create_task(probe.run())
        trim_task = tasks.create_task(trim_in_traffic(daemon, args.duration / 2))
        before = resource.getrusage(resource.RUSAGE_SELF)
        load0 = round(os.getloadavg()[0], 2)
        wall0 = time.perf_counter()
        gc.set_threshold(*gc_threshold(args.gc_threshold))
        finished = FinishedCalls()
        probes = (*probe.arrays(), *gc_probe.arrays(), finished.queued, finished.rung)
        report, burst_starts, rss_between = await run_bursts(
            daemon,
            ours,
            args.bursts,
            finished if args.prune_between else None,
            lambda: arrays_mb(*probes),
        )
        wall = time.perf_counter() - wall0
        probe.running = False
        await asyncio.gather(lag_task, trim_task)
        # The storage backlog is per-call work too: count its CPU, report how long it took.
        backlog_s = await drained_in(daemon)
        after = resource.getrusage(resource.RUSAGE_SELF)
        if args.growth:
            print_garbage()
        # Within the window every call of the run (or, --prune-between, of the last burst) is
        # there; only two floats a call are taken, so no call is kept alive through the memory
        # figures below.
        finished.take(daemon)
        # every finished call (the KPI cache, where ``finished`` took them from, keeps at most
        # 100,000: a longer run's ``calls_per_s`` and latencies cover the calls it still held)
        ended = daemon.outputs.totals.finished
        after_drain = memory_after_drain(daemon)
        after_drain |= memory_after_release(
            daemon, rss_baseline, heap_baseline, after_drain.get("cached_bytes_per_call", 0)
        )
        # --bursts: each burst but the last, measured alike (--prune-between: caches' windows over)
        after_drain |= plateau(
            rss_between,
            args.bursts,
            ended,
            0 if args.prune_between else after_drain.get("cached_bytes_per_call", 0),
        )
        # After the memory figures: the sorted latencies are the benchmark's own (~50 bytes a
        # call), not the daemon's.
        latencies, calls_per_s = finished.figures(burst_starts, report["placing_s"] / args.bursts)
        print_diagnosis(args, types_before, probe, gc_probe)
        daemon.stop()
        await run
    child.join()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else None
    return {
        "agents": args.agents,
        "calls_per_s": calls_per_s,
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "rss_baseline_mb": round(rss_baseline, 1),
        "live_objects_growth": after_drain.pop("live_objects_after") - objects_baseline,
        **after_drain,
        "rss_every_10s_mb": probe.rss,
        "trim_in_traffic_ms": round(1000 * (trim_task.result() or 0.0), 1),
        "threads": sorted(t.name for t in threading.enumerate()),
        "gc_frozen_objects": gc.get_freeze_count(),
        "gc_tracked_baseline": tracked_baseline,
        "loop_lag_p99_ms": probe.p99_ms(),
        "loop_lag_own_cpu_p99_ms": probe.own_p99_ms(),
        "load_average_1m": [load0, round(os.getloadavg()[0], 2)],  # before, after the traffic
        "involuntary_switches": after.ru_nivcsw - before.ru_nivcsw,
        **gc_probe.close(),
        "writes_per_call": round(sum(writes.values()) / max(1, ended), 2),
        "ami_events_per_call": round(report["ami_events_sent"] / max(1, report["placed"]), 1),
        "ami_events_filtered_per_call": round(
            report["ami_events_filtered"] / max(1, report["placed"]), 1
        ),
        "writes_by_kind": dict(writes),
        "storage_writes_spooled": daemon.writer.spilled - startup_spooled,  # during the calls
        "startup_writes_spooled": startup_spooled,
        "sustained_calls_per_s": calls_per_s,
        # The older figure: finished calls over the wall time, the last calls' talk included.
        "finished_per_wall_s": round(ended / max(wall, report["placing_s"]), 1),
        "cpu_s_per_call": round(cpu / max(1, ended), 5),
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
        "wall_s": round(wall, 2),
        "placing_s": round(report["placing_s"], 2),
        "channels_left": report["left"],
        "rate": args.rate,
        "duration_s": args.duration,
    }


class FinishedCalls:
    """The finished calls' queue entry and ring times, taken from the KPI cache (before
    ``--prune-between`` empties it): two floats a call, not the calls themselves."""

    def __init__(self) -> None:
        self.ended = 0
        self.queued = array("d")
        self.rung = array("d")

    def take(self, daemon: Daemon) -> None:
        for facts in daemon.outputs.completed:
            self.ended += 1
            if facts.ring_started_at is not None and facts.queued_at is not None:
                self.queued.append(facts.queued_at)
                self.rung.append(facts.ring_started_at)

    def figures(self, burst_starts: list[float], placing_s: float) -> tuple[list[float], float]:
        """Queue entry -> ring of every call, sorted; calls rung per second, the slowest burst's
        (``placing_s``: one burst's placing window)."""
        rings = list(zip(self.queued, self.rung, strict=True))
        calls_per_s = min(
            routed_per_s([(q, r) for q, r in rings if start <= q < end], placing_s)
            for start, end in zip(burst_starts, [*burst_starts[1:], float("inf")], strict=True)
        )
        return sorted(rung - queued for queued, rung in rings), calls_per_s


Between = tuple[float, float | None, float]  # RSS, SQLite's heap, the benchmark's own arrays


def arrays_mb(*arrays: array[Any]) -> float:
    """What the benchmark's own probes hold in the daemon's process (a few floats a tick, a
    collection and a call: ~0.14 MB a burst of 4,000 calls), not the daemon's."""
    return sum(len(a) * a.itemsize for a in arrays) / 2**20


async def run_bursts(
    daemon: Daemon,
    sim: Connection,
    bursts: int,
    prune_into: FinishedCalls | None,
    own_mb: Callable[[], float],
) -> tuple[dict[str, Any], list[float], list[Between]]:
    """The traffic, ``bursts`` times: the simulator's report, each burst's start (epoch s) and
    RSS between bursts (the previous burst's calls over, storage drained, heap trimmed; with
    ``prune_into`` also the two caches' windows over, as an hour later, their calls' times
    taken into it first), with SQLite's heap and the benchmark's own arrays (``own_mb``)."""
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    between: list[Between] = []
    for burst in range(bursts):
        if burst:
            await loop.run_in_executor(None, sim.recv)  # "idle"
            await drained_in(daemon)
            if prune_into is not None:
                prune_into.take(daemon)
                daemon.prune_caches(time.time() + 3600.0)
            gc.collect()
            daemon.release_memory()
            between.append((round(rss_mb(), 1), sqlite_mb(), own_mb()))
        starts.append(time.time())
        sim.send("go")
    report: dict[str, Any] = await loop.run_in_executor(None, sim.recv)
    return report, starts, between


def plateau(
    between: list[Between], bursts: int, ended: int, cached_bytes_per_call: int
) -> dict[str, Any]:
    """``--bursts``: RSS after each burst's drain and trim but the last (``run_bursts``: all
    taken alike; the last burst's would come after this benchmark's own end-of-run figures,
    lists of every tracked object among them), with SQLite's own heap then. It plateaus when
    the later bursts add no more than the calls they leave in the two caches (bounded by
    their window; none when ``cached_bytes_per_call`` is 0: ``--prune-between``). The
    growth judged leaves out the benchmark's own arrays, which grow with every tick and call."""
    if len(between) < 2:
        return {}
    after_each = [rss for rss, _, _ in between]
    daemons = [rss - own for rss, _, own in between]
    # the later bursts' calls in the caches, and 1 MB for CPython's partly used arenas
    allowed = cached_bytes_per_call / 2**20 * ended * (bursts - 2) / bursts + 1.0
    return {
        "rss_between_bursts_mb": after_each,
        "sqlite_memory_between_bursts_mb": [used for _, used, _ in between],
        "benchmark_arrays_between_bursts_mb": [round(own, 2) for _, _, own in between],
        "rss_growth_between_bursts_mb": round(after_each[-1] - after_each[0], 1),
        "rss_less_benchmark_growth_mb": round(daemons[-1] - daemons[0], 1),
        "rss_plateau_allowance_mb": round(allowed, 1),
        "rss_plateaus": daemons[-1] - daemons[0] <= allowed,
    }


def routed_per_s(rings: list[tuple[float, float]], placing_s: float) -> float:
    """Calls the daemon put through to a ringing agent per second of traffic (``rings``: each
    call's queue entry and ring, epoch s).

    From the first caller's queue entry to the last ring, and never less than the placing
    window: a daemon that keeps up rings the last caller a few ms after it arrived, one that
    falls behind rings it later, which stretches the span. The callers' talk time after the
    ring is theirs, not the daemon's work, so it is not in the span (the older
    ``finished_per_wall_s`` counts it).
    """
    if not rings:
        return 0.0
    first = min(queued for queued, _ in rings)
    last = max(rung for _, rung in rings)
    return round(len(rings) / max(last - first, placing_s), 1)


def gc_threshold(spec: str) -> tuple[int, ...]:
    """``--gc-threshold`` ("700,10,100"), or the daemon's own when empty."""
    return tuple(int(x) for x in spec.split(",")) if spec else gc.get_threshold()


def _call_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM calls").fetchone()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--agents", type=int, default=10000)
    parser.add_argument(
        "--bursts", type=int, default=1, help="repeat the traffic, RSS after each (a plateau?)"
    )
    parser.add_argument(
        "--prune-between",
        action="store_true",
        help="--bursts: RSS between bursts with the caches' windows over (per-call memory only)",
    )
    parser.add_argument("--pin", action="store_true", help="daemon on CPU 0, simulator on CPU 1")
    parser.add_argument(
        "--growth", action="store_true", help="print the object types left after the drain"
    )
    parser.add_argument(
        "--no-ami-filter", action="store_true", help="the AMI user without eventfilter lines"
    )
    parser.add_argument("--gc-threshold", default="", help="gc.set_threshold for the traffic")
    parser.add_argument(
        "--trace-malloc", action="store_true", help="tracemalloc: what the drain leaves held"
    )
    parser.add_argument(
        "--switch-interval", type=float, default=0.0, help="sys.setswitchinterval (s) at start"
    )
    args = parser.parse_args()
    if args.bursts == 2:
        parser.error("--bursts: 1, or 3 or more (the plateau compares the bursts but the last)")
    logging.basicConfig(level=logging.CRITICAL)  # the numbers are the output, not the logs
    if args.pin:
        os.sched_setaffinity(0, {0})
    if args.growth:
        time_loop_steps()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    result = asyncio.run(_daemon(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
