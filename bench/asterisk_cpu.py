"""Asterisk CPU per call, and caller -> ring, on a real Asterisk: hotline against app_queue.

Talks to an Asterisk that already runs on this host, over AMI as the live suite's user
(``HOTLINE_LIVE_AMI=host:port,user,secret`` or ``--ami``; read and write ``all``), with the live
suite's files installed (``python -m tests.live.setup_files``, docs/live-testing.md): they carry
this benchmark's phones, callers, app_queue context and queue (tests/live/asterisk/bench-cpu.conf,
bench-queues.conf). Both sides answer the caller, play the same welcome prompt, take the same key
(0: an agent) and ring the same Local phones (``Local/20NN@bench-phones/n``: ring 1 s, answer,
talk 10 s, hang up); only who queues and dials differs:

- ``hotline``: a ``hotline run`` child process (the live configuration with ``--agents`` agents on
  those phones, 15 s wrap-up, no announcements, no overflow ladder, no survey, recording off
  unless ``--recording``, no MQTT, SQLite), started for each hotline run and stopped (SIGTERM)
  after it; callers go into the installed ``hotline`` context (``AGI()`` -> the daemon's IVR ->
  queue -> ``EXEC Dial``).
- ``app_queue``: callers go into ``bench-app-queue`` (``Read`` of the prompt, then
  ``Queue(bench-cpu)``: 15 s wrap-up, no announcements; with ``--recording`` ``bench-cpu-rec``,
  whose ``monitor-format`` makes app_queue start MixMonitor at the answer, dual channel like the
  hotline's recordings); the agents are added with ``QueueAdd``
  for each run and removed after it.

``--mode cpu`` (default): runs alternate between the sides (``--sides``, ``--runs`` rounds). Each
run measures the asterisk process's idle rate (utime+stime from /proc/<pid>/stat over
``--idle-s``, the side already set up), then places ``--calls`` callers ``--interval`` s apart
(customers that press 0 one second in) and waits until every caller has hung up.
``cpu_ms_per_call`` = (CPU over the run - idle rate x the run's length) / calls. Before each run
the load average and the machine's steal time are recorded (the CPU figure of a shared host is
only as good as its quiet). With 10 agents and one call a second callers wait (p50 ~75 s); with
``--interval 3`` every caller finds an agent free, and so does every caller of ``--agents 80
--interval 0.5``, where the idle rate (read in 10 ms ticks) weighs four times less per call.

``--mode ring``: one caller at a time, agents free, ``--samples`` per side, from Asterisk's event
timestamps (``timestampevents = yes``; else the time this process read the event):

- ``key_to_ring_ms`` (both sides): the caller's key (DTMFEnd received on the caller's channel:
  the IVR acts on the key's end, 100 ms after its DTMFBegin) -> the agent's DialBegin;
- hotline: ``agi_to_ring_ms`` (``AGI()`` starting, its Newexten, -> DialBegin: holds the prompt
  until the key and the key's 100 ms), ``agi_to_prompt_ms`` (the part before the prompt),
  ``first_command_to_ring_ms``, ``queued_to_ring_ms`` (from queue entry, as
  bench/offer_latency.py: the start of the command storing the caller's place, ``EXEC MSet
  "HOTLINE_QUEUE=...``, or, when the Dial stores it (an agent free), the end of the caller's
  last command before the Dial: the daemon has the choice from then), and every
  AGI command from ``AGI()`` to the prompt and from the key to the DialBegin with its duration
  (AGIExecStart -> AGIExecEnd) and the daemon's time between them: where the time goes;
- app_queue: ``join_to_ring_ms`` (QueueCallerJoin -> DialBegin).

The key is pressed (AMI PlayDTMF on the customer's side) as soon as the prompt starts.

``--mode freed``: callers waiting, an agent becomes free. Every agent paused (the hotline's API,
app_queue's ``QueuePause``); one caller at a time presses 0 and waits in the queue (music on
hold); ``--hold`` s, plus up to one more (seeded, the same for both sides), after the queue
entry one agent is freed (``unpause`` over the API on an open connection, as a supervisor's
desk or the agent's own would; ``QueuePause Paused: false``): ``agent_freed_to_ring_ms`` from
sending that request to the agent's ``DialBegin`` on the caller (this host's clock against
Asterisk's timestamps). The caller hangs up at the ring and the agent is paused again.

Exit codes: 0 done, 2 no Asterisk answered on AMI (or refused the login, or its process is not
on this host).

    python bench/asterisk_cpu.py --json [--runs 3] [--calls 100] [--agents 10] [--interval 1]
    python bench/asterisk_cpu.py --json --calls 25 --interval 3
    python bench/asterisk_cpu.py --json --agents 80 --interval 0.5 --idle-s 20
    python bench/asterisk_cpu.py --json --mode ring --samples 40
    python bench/asterisk_cpu.py --json --mode freed --samples 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from acd.asterisk.aio.ami_client import AmiClient, AmiError
from acd.asterisk.ami.message import Message
from tests.live.rig import ROLES, LiveDaemon
from tests.live.setup_files import edit_yaml, live_ami_user, write_config

SIDES = ("hotline", "app_queue")
APP_QUEUE = "bench-cpu"  # tests/live/asterisk/bench-queues.conf
APP_QUEUE_RECORDED = "bench-cpu-rec"  # the same, with monitor-format (--recording)
PHONES = "bench-phones"  # tests/live/asterisk/bench-cpu.conf
CALLERS_PRESSING = "bench-callers"  # answer, press 0 one second in
CALLERS_SILENT = "live-callers"  # answer and wait: this process presses the key
FIRST_AGENT = 2001  # agents 2001.. on Local/20NN@bench-phones/n
EXIT_NO_ASTERISK = 2
# The daemon queues the caller with the command storing their place (bench/offer_latency.py)
QUEUED = ('EXEC MSet "HOTLINE_QUEUE=', "SET VARIABLE HOTLINE_QUEUE")


# -- pure parts: /proc parsing and the numbers (tests/bench/test_asterisk_cpu.py) ---------------


def proc_cpu_ticks(stat: str) -> int:
    """utime + stime (clock ticks) from the text of /proc/<pid>/stat.

    The command name (field 2) is in parentheses and may hold spaces or parentheses itself, so
    the fields are counted after its last ``)``: utime and stime are fields 14 and 15.
    """
    rest = stat[stat.rindex(")") + 2 :].split()
    # rest[0] is field 3 (state): field n is rest[n - 3]
    return int(rest[11]) + int(rest[12])


def machine_ticks(proc_stat: str) -> dict[str, int]:
    """The machine's ``cpu`` line of /proc/stat: ticks by kind (user ... steal) and ``total``."""
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    for line in proc_stat.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            values = [int(v) for v in parts[1 : 1 + len(names)]]
            values += [0] * (len(names) - len(values))  # old kernels: fewer columns
            ticks = dict(zip(names, values, strict=True))
            ticks["total"] = sum(values)
            return ticks
    raise ValueError("no cpu line in /proc/stat")


def steal_share(before: dict[str, int], after: dict[str, int]) -> float:
    """Share of the machine's time stolen by the hypervisor between two ``machine_ticks``."""
    total = after["total"] - before["total"]
    return (after["steal"] - before["steal"]) / total if total > 0 else 0.0


def cpu_ms_per_call(
    *, run_ticks: int, run_s: float, idle_ticks: int, idle_s: float, calls: int, hz: int
) -> float:
    """CPU per call in ms: the run's CPU less the idle rate over the run's length."""
    idle_rate = idle_ticks / idle_s if idle_s > 0 else 0.0  # ticks per second
    return (run_ticks - idle_rate * run_s) / hz / calls * 1000.0


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted values (p in 0..1), as bench/offer_latency.py."""
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def summary(values: Iterable[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p90": round(percentile(ordered, 0.9), 3),
        "p99": round(percentile(ordered, 0.99), 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
    }


def event_time(event: Message, received: float) -> float:
    """Asterisk's ``Timestamp`` (manager.conf timestampevents), else when we read the event."""
    stamp = event.get("Timestamp")
    if stamp:
        with contextlib.suppress(ValueError):
            return float(stamp)
    return received


# -- the host: the asterisk process, the load ------------------------------------------------


def asterisk_pid() -> int | None:
    """The one asterisk server process on this host (not ``asterisk -r``/``-x`` consoles)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "asterisk":
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not any(a.startswith(b"-") and (b"r" in a or b"R" in a or b"x" in a) for a in argv):
            found.append(int(entry.name))
    return found[0] if len(found) == 1 else None


def proc_exists(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").exists()


def read_cpu_ticks(pid: int) -> int:
    return proc_cpu_ticks(Path(f"/proc/{pid}/stat").read_text())


def read_machine() -> dict[str, int]:
    return machine_ticks(Path("/proc/stat").read_text())


def load_average() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


# -- AMI: every event with its time --------------------------------------------------------


@dataclass
class Seen:
    """Events of the bench's AMI user, with Asterisk's time (or ours), and waiting for one."""

    events: list[tuple[float, Message]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, event: Message) -> None:
        self.events.append((event_time(event, time.time()), event))
        self.arrived.set()

    def mark(self) -> int:
        return len(self.events)

    async def wait(
        self, check: Callable[[Message], bool], what: str, *, after: int = 0, limit_s: float = 30
    ) -> tuple[float, Message]:
        try:
            async with asyncio.timeout(limit_s):
                while True:
                    for stamped in self.events[after:]:
                        if check(stamped[1]):
                            return stamped
                    after = len(self.events)
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            raise RuntimeError(f"no AMI event {what} within {limit_s} s") from None


def is_event(name: str, **headers: str) -> Callable[[Message], bool]:
    return lambda m: m.name == name and all(m.get(k) == v for k, v in headers.items())


def ami_spec(spec: str) -> tuple[str, int, str, str]:
    """``host:port,user,secret`` -> (host, port, user, secret), or exit with the reason."""
    try:
        return live_ami_user(spec)
    except ValueError as exc:
        raise SystemExit(f"--ami: {exc}") from None


# -- the two sides ---------------------------------------------------------------------------


def agent_ids(count: int) -> list[str]:
    if not 1 <= count <= 99:
        raise SystemExit("--agents: 1 to 99 (phones 2001..2099 of bench-phones)")
    return [str(FIRST_AGENT + n) for n in range(count)]


def endpoint(agent: str) -> str:
    return f"Local/{agent}@{PHONES}/n"


def hotline_config(
    out: Path, agents: Sequence[str], logs: Path, *, recording: bool = False
) -> Path:
    """The live configuration with the bench's agents and a like-for-like queue set-up: every
    agent on a bench phone with every skill, no announcements, no overflow ladder, no survey,
    recording off (unless ``recording``), no import of app_queue's queue_log (the other side's
    calls)."""
    config = write_config(out, workdir=out / "var", asterisk_logs=logs)

    def agents_yaml(data: dict[str, Any]) -> None:
        skills = {"orders": 5, "after_sales": 5, "complaints": 5, "general": 5}
        data["agents"] = [
            {"id": a, "name": f"Bench {a}", "endpoint": endpoint(a), "skills": dict(skills)}
            for a in agents
        ]
        data["supervisors"] = []

    def queues_yaml(data: dict[str, Any]) -> None:
        for queue in data["queues"]:
            queue["announcements"] = {"position": False, "wait_time": False}
            queue["overflow"] = []
            queue["survey_sample_rate"] = 0.0
            queue["wrapup_s"] = 15

    def recording_yaml(data: dict[str, Any]) -> None:
        data["enabled"] = recording

    def hotline_yaml(data: dict[str, Any]) -> None:
        data["fallback_import"]["enabled"] = False
        data["logging"]["level"] = "warning"

    edit_yaml(config / "agents.yaml", agents_yaml)
    edit_yaml(config / "queues.yaml", queues_yaml)
    edit_yaml(config / "recording.yaml", recording_yaml)
    edit_yaml(config / "hotline.yaml", hotline_yaml)
    return config


@dataclass
class Bench:
    ami: AmiClient
    seen: Seen
    pid: int
    agents: list[str]
    workdir: Path
    logs: Path
    recording: bool = False  # both sides record (the Dial's U(); app_queue's monitor-format)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    placed: int = 0
    hotline_runs: int = 0
    # the hotline side's API, while it is set up: one connection kept open, so that freeing an
    # agent costs the request, not a new client and connection
    api: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def side(self, side: str) -> AsyncIterator[str]:
        """The side set up (daemon started and agents logged in / agents added to the queue);
        yields the dialplan context callers go into."""
        if side == "hotline":
            async with self._hotline():
                yield "hotline"
        else:
            async with self._app_queue():
                yield "bench-app-queue"

    @asynccontextmanager
    async def _hotline(self) -> AsyncIterator[None]:
        self.hotline_runs += 1
        out = self.workdir / f"hotline-{self.hotline_runs}"
        config = hotline_config(out / "config", self.agents, self.logs, recording=self.recording)
        tokens = {role: secrets.token_urlsafe(24) for role in ROLES}
        env = dict(os.environ)
        env.update({f"HOTLINE_TOKEN_{ROLES[r]}": t for r, t in tokens.items()})
        daemon = LiveDaemon(config, out / "hotline.db", env, out / "daemon.log", tokens=tokens)
        await daemon.start()
        try:
            await daemon.login(*self.agents)
            async with httpx.AsyncClient(
                base_url=daemon.url, headers=daemon.headers(), timeout=15
            ) as api:
                self.api = api
                yield
        finally:
            self.api = None
            await daemon.stop()

    @asynccontextmanager
    async def _app_queue(self) -> AsyncIterator[None]:
        await self._queue_members(add=False)  # left over from an interrupted run
        await self._queue_members(add=True)
        try:
            yield
        finally:
            await self._queue_members(add=False)

    async def _queue_members(self, *, add: bool) -> None:
        for agent in self.agents:
            queue = APP_QUEUE_RECORDED if self.recording else APP_QUEUE
            headers = [("Queue", queue), ("Interface", endpoint(agent))]
            if add:
                headers += [("MemberName", agent), ("Penalty", "0")]
            reply = await self.ami.action("QueueAdd" if add else "QueueRemove", headers)
            if add and not reply.ok:
                raise RuntimeError(f"QueueAdd {agent}: {reply.message}")

    async def available(self, side: str, agent: str, *, ready: bool) -> None:
        """Pause or free one agent: the hotline's API (as a supervisor's desk does), app_queue's
        ``QueuePause``."""
        if side == "hotline":
            assert self.api is not None
            action = "unpause" if ready else "pause"
            reply = await self.api.post(f"/agents/{agent}/{action}", json={})
            if reply.status_code != 200:
                raise RuntimeError(f"{action} {agent}: {reply.status_code} {reply.text}")
            return
        queue = APP_QUEUE_RECORDED if self.recording else APP_QUEUE
        headers = [("Queue", queue), ("Interface", endpoint(agent))]
        paused = [("Paused", "false" if ready else "true")]
        result = await self.ami.action("QueuePause", [*headers, *paused])
        if not result.ok:
            raise RuntimeError(f"QueuePause {agent}: {result.message}")

    def _app_queue_recording(self, context: str) -> list[tuple[str, str]]:
        """With ``--recording`` the app_queue side records too, into bench-cpu-rec: the
        directory its bench-app-queue context names the files in (both sides write a mixed
        file and each party's side)."""
        if not self.recording or context != "bench-app-queue":
            return []
        folder = self.workdir / "app-queue-recordings"
        folder.mkdir(parents=True, exist_ok=True)
        return [("Variable", f"BENCH_RECORDINGS={folder}")]

    async def originate(self, context: str, callers: str) -> tuple[str, str]:
        """A customer calls into ``context``; returns (the caller's uniqueid, the customer
        phone's channel id)."""
        self.placed += 1
        number = str(13_900_000_000 + self.placed)
        # one width, the phone's id with its own letter: Asterisk matches assigned ids by
        # prefix ("bench-x-2" would be "in use" while "bench-x-22" lives)
        uid = f"bench-{self.run_id}-{self.placed:05d}"
        phone_id = f"bench-{self.run_id}-p{self.placed:05d}"
        reply = await self.ami.action(
            "Originate",
            [
                ("Channel", f"Local/{number}@{callers}/n"),
                ("Context", context),
                ("Exten", "s"),
                ("Priority", "1"),
                ("CallerID", f'"Bench {self.placed}" <{number}>'),
                ("ChannelId", uid),
                ("OtherChannelId", phone_id),
                ("Timeout", "10000"),
                ("Async", "true"),
                *self._app_queue_recording(context),
            ],
        )
        if not reply.ok:
            raise RuntimeError(f"Originate: {reply.message}")
        return uid, phone_id


# -- CPU per call ----------------------------------------------------------------------------


async def cpu_run(bench: Bench, side: str, args: argparse.Namespace) -> dict[str, Any]:
    hz = os.sysconf("SC_CLK_TCK")
    async with bench.side(side) as context:
        await asyncio.sleep(args.settle)
        load = load_average()
        machine_0 = read_machine()
        idle_t0, idle_c0 = time.monotonic(), read_cpu_ticks(bench.pid)
        await asyncio.sleep(args.idle_s)
        idle_t1, idle_c1 = time.monotonic(), read_cpu_ticks(bench.pid)
        machine_1 = read_machine()
        mark = bench.seen.mark()
        callers: list[str] = []
        start = time.monotonic()
        for n in range(args.calls):
            await asyncio.sleep(max(0.0, start + n * args.interval - time.monotonic()))
            uid, _ = await bench.originate(context, CALLERS_PRESSING)
            callers.append(uid)
        limit = args.calls * args.interval + (args.calls / len(bench.agents) + 1) * 30 + 120
        gone = set(callers)
        for uid in callers:
            await bench.seen.wait(
                is_event("Hangup", Uniqueid=uid), f"Hangup of {uid}", after=mark, limit_s=limit
            )
            gone.discard(uid)
        run_t1, run_c1 = time.monotonic(), read_cpu_ticks(bench.pid)
        machine_2 = read_machine()
    run_s = run_t1 - idle_t1
    run_ticks = run_c1 - idle_c1
    arrived: dict[str, float] = {}
    rang: dict[str, float] = {}
    answered = 0
    wanted = set(callers)
    for t, event in bench.seen.events[mark:]:
        uid = event.get("Uniqueid") or ""
        if uid not in wanted:
            continue
        if event.name == "Newchannel":
            arrived.setdefault(uid, t)
        elif event.name == "DialBegin":
            rang.setdefault(uid, t)
        elif event.name == "DialEnd" and event.get("DialStatus") == "ANSWER":
            answered += 1
    to_ring = [rang[u] - arrived[u] for u in callers if u in rang and u in arrived]
    return {
        "side": side,
        "calls": args.calls,
        "answered": answered,
        "cpu_ms_per_call": round(
            cpu_ms_per_call(
                run_ticks=run_ticks,
                run_s=run_s,
                idle_ticks=idle_c1 - idle_c0,
                idle_s=idle_t1 - idle_t0,
                calls=args.calls,
                hz=hz,
            ),
            1,
        ),
        "run_cpu_s": round(run_ticks / hz, 2),
        "run_s": round(run_s, 1),
        "idle_cpu_ms_per_s": round((idle_c1 - idle_c0) / hz * 1000 / (idle_t1 - idle_t0), 2),
        "load_before": load,
        "steal_before_ticks": machine_0["steal"],
        "steal_share_idle": round(steal_share(machine_0, machine_1), 4),
        "steal_share_run": round(steal_share(machine_1, machine_2), 4),
        "arrival_to_ring_s": summary(to_ring),
    }


async def cpu_mode(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    # Only what the run needs reaches this session (Hangup, DialBegin/End, Newchannel: class
    # call): Asterisk writes no AGI or dialplan events to the benchmark's socket, whose cost
    # would count against the side that makes more of them.
    await bench.ami.action("Events", [("EventMask", "call")], check=True)
    runs = []
    for round_no in range(args.runs):
        for side in args.sides:
            result = await cpu_run(bench, side, args)
            result["round"] = round_no + 1
            runs.append(result)
            print(json.dumps(result), file=sys.stderr)
            await asyncio.sleep(args.pause)
    medians = {
        side: round(statistics.median(r["cpu_ms_per_call"] for r in runs if r["side"] == side), 1)
        for side in args.sides
    }
    return {
        "mode": "cpu",
        "calls": args.calls,
        "interval_s": args.interval,
        "agents": len(bench.agents),
        "cpu_ms_per_call_median": medians,
        "runs": runs,
    }


# -- caller -> ring ---------------------------------------------------------------------------


def command_label(command: str) -> str:
    """An AGI command without its arguments: ``EXEC MSet "A=1,B=2"`` -> ``EXEC MSet``,
    ``STREAM FILE x "0123"`` -> ``STREAM FILE``, ``ANSWER`` -> ``ANSWER``."""
    words = command.replace('"', " ").split()
    two_words = ("EXEC", "STREAM", "SET", "GET", "WAIT", "SAY", "CHANNEL", "DATABASE", "SPEECH")
    if len(words) > 1 and words[0] in two_words:
        return f"{words[0]} {words[1]}"
    return words[0] if words else ""


def steps_between(
    events: Sequence[tuple[float, Message]],
    uid: str,
    key: float,
    ring: float,
    *,
    until: str = "DialBegin",
) -> list[tuple[str, float]]:
    """From the key to the ring on the caller's channel, in order: each AGI command that ran
    (or ended) in between with its duration, the daemon's gaps between commands, and the last
    command's start -> the ring (``EXEC Dial`` -> DialBegin), all in ms."""
    started: dict[str, tuple[float, str]] = {}
    steps: list[tuple[str, float]] = []
    last, running = key, "(the key)"
    for t, event in events:
        if event.get("Uniqueid") != uid or event.name not in ("AGIExecStart", "AGIExecEnd"):
            continue
        command_id = event.get("CommandId") or ""
        label = command_label(event.get("Command") or "")
        if event.name == "AGIExecStart":
            started[command_id] = (t, label)
            if key <= t <= ring:
                steps.append(("(daemon)", (t - last) * 1000))
                last, running = t, label
        elif command_id in started and key <= t <= ring:
            begun, label = started[command_id]
            steps.append((label if begun >= key else f"{label} (from the key)", (t - last) * 1000))
            last = t
    steps.append((f"{running} -> {until}", (ring - last) * 1000))
    return steps


async def ring_sample(bench: Bench, side: str, context: str) -> dict[str, Any]:
    mark = bench.seen.mark()
    uid, phone_id = await bench.originate(context, CALLERS_SILENT)
    on_caller = bench.seen.wait
    if side == "hotline":
        await on_caller(
            lambda m: (
                m.name == "AGIExecStart"
                and m.get("Uniqueid") == uid
                and (m.get("Command") or "").startswith("STREAM FILE")
            ),
            "the IVR's prompt",
            after=mark,
        )
    else:
        await on_caller(
            is_event("Newexten", Uniqueid=uid, Application="Read"), "Read()", after=mark
        )
    _, phone = await on_caller(is_event("Newchannel", Uniqueid=phone_id), "phone", after=mark)
    await bench.ami.action(
        "PlayDTMF", [("Channel", phone.get("Channel") or ""), ("Digit", "0"), ("Duration", "100")]
    )
    ring, _ = await on_caller(is_event("DialBegin", Uniqueid=uid), "DialBegin", after=mark)
    await bench.ami.action("Hangup", [("Channel", phone.get("Channel") or "")])
    await on_caller(is_event("Hangup", Uniqueid=uid), "the caller's hang-up", after=mark)
    events = bench.seen.events[mark:]

    def first(check: Callable[[Message], bool]) -> float | None:
        return next((t for t, m in events if check(m)), None)

    key = first(is_event("DTMFEnd", Uniqueid=uid, Direction="Received"))
    sample: dict[str, Any] = {
        "key_to_ring_ms": None if key is None else (ring - key) * 1000,
        "key_begin_to_ring_ms": None,
    }
    key_begin = first(is_event("DTMFBegin", Uniqueid=uid, Direction="Received"))
    if key_begin is not None:
        sample["key_begin_to_ring_ms"] = (ring - key_begin) * 1000
    if side == "hotline":
        agi = first(is_event("Newexten", Uniqueid=uid, Application="AGI"))
        command = first(is_event("AGIExecStart", Uniqueid=uid))
        sample["agi_to_ring_ms"] = None if agi is None else (ring - agi) * 1000
        sample["first_command_to_ring_ms"] = None if command is None else (ring - command) * 1000
        prompt = first(
            lambda m: (
                m.name == "AGIExecStart"
                and m.get("Uniqueid") == uid
                and (m.get("Command") or "").startswith("STREAM FILE")
            )
        )
        if agi is not None and prompt is not None:
            sample["agi_to_prompt_ms"] = (prompt - agi) * 1000
            sample["before_prompt"] = steps_between(events, uid, agi, prompt, until="prompt")
        queued = first(
            lambda m: (
                m.name == "AGIExecStart"
                and m.get("Uniqueid") == uid
                and (m.get("Command") or "").startswith(QUEUED)
            )
        )
        if queued is None:  # the Dial stored the place: from the end of the command before it
            queued = queue_entry_without_place(events, uid)
        if queued is not None:
            sample["queued_to_ring_ms"] = (ring - queued) * 1000
        if key is not None:
            sample["steps"] = steps_between(events, uid, key, ring)
    else:
        join = first(is_event("QueueCallerJoin", Uniqueid=uid))
        sample["join_to_ring_ms"] = None if join is None else (ring - join) * 1000
    return sample


def queue_entry_without_place(events: Sequence[tuple[float, Message]], uid: str) -> float | None:
    """The end of the caller's last AGI command before the ``EXEC Dial`` (the daemon has the
    caller's choice from then); None without a Dial."""
    last: float | None = None
    for t, m in events:
        if m.get("Uniqueid") != uid:
            continue
        command = m.get("Command") or ""
        if m.name == "AGIExecStart" and command.startswith("EXEC Dial"):
            return last
        if m.name == "AGIExecEnd":
            last = t
    return None


def step_table(samples: Sequence[dict[str, Any]], key: str = "steps") -> dict[str, Any]:
    """The most common sequence of steps, each step's p50 and max over the samples that had it."""
    sequences: dict[tuple[str, ...], list[list[tuple[str, float]]]] = {}
    for sample in samples:
        if key in sample:
            steps = sample[key]
            sequences.setdefault(tuple(label for label, _ in steps), []).append(steps)
    if not sequences:
        return {}
    labels, runs = max(sequences.items(), key=lambda item: len(item[1]))
    return {
        "samples": len(runs),
        "of": sum(len(r) for r in sequences.values()),
        "steps": [
            {"step": label, **summary(run[i][1] for run in runs)} for i, label in enumerate(labels)
        ],
    }


async def freed_sample(bench: Bench, side: str, context: str, agent: str, hold_s: float) -> float:
    """Every agent paused; a caller who presses 0 waits in the queue (music on hold); ``hold_s``
    after the queue entry one agent is freed: ms from the request freeing them (this host's
    clock, as Asterisk's event timestamps) to that agent's ``DialBegin`` on the caller."""
    mark = bench.seen.mark()
    uid, phone_id = await bench.originate(context, CALLERS_PRESSING)
    on_caller = bench.seen.wait
    if side == "hotline":  # the place stored before the wait (nobody free: its own MSet)
        await on_caller(
            lambda m: (
                m.name == "AGIExecEnd"
                and m.get("Uniqueid") == uid
                and (m.get("Command") or "").startswith(QUEUED)
            ),
            "the caller queued",
            after=mark,
        )
    else:
        await on_caller(is_event("QueueCallerJoin", Uniqueid=uid), "QueueCallerJoin", after=mark)
    await asyncio.sleep(hold_s)
    freed = time.time()
    await bench.available(side, agent, ready=True)
    ring, _ = await on_caller(is_event("DialBegin", Uniqueid=uid), "DialBegin", after=mark)
    _, phone = await on_caller(is_event("Newchannel", Uniqueid=phone_id), "phone", after=mark)
    await bench.ami.action("Hangup", [("Channel", phone.get("Channel") or "")])  # before answer
    await on_caller(is_event("Hangup", Uniqueid=uid), "the caller's hang-up", after=mark)
    await asyncio.sleep(0.3)  # the abandoned ring over on both sides before the pause
    await bench.available(side, agent, ready=False)
    return (ring - freed) * 1000


async def freed_mode(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"mode": "freed", "agents": len(bench.agents), "hold_s": args.hold}
    for side in args.sides:
        # the hold varies by up to a second (the same for both sides): app_queue looks for a
        # free member once a second, a fixed hold would always meet its loop at one phase
        holds = random.Random(7)
        samples: list[float] = []
        async with bench.side(side) as context:
            for agent in bench.agents:
                await bench.available(side, agent, ready=False)
            await asyncio.sleep(args.settle)
            for n in range(args.samples):
                agent = bench.agents[n % len(bench.agents)]
                hold = args.hold + holds.random()
                samples.append(await freed_sample(bench, side, context, agent, hold))
                await asyncio.sleep(args.gap)
        result[side] = {"agent_freed_to_ring_ms": summary(samples)}
        print(json.dumps({side: result[side]}), file=sys.stderr)
    return result


async def ring_mode(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"mode": "ring", "agents": len(bench.agents)}
    for side in args.sides:
        samples = []
        async with bench.side(side) as context:
            await asyncio.sleep(args.settle)
            for _ in range(args.samples):
                samples.append(await ring_sample(bench, side, context))
                await asyncio.sleep(args.gap)
        figures: dict[str, Any] = {}
        for name in (
            "agi_to_ring_ms",
            "agi_to_prompt_ms",
            "first_command_to_ring_ms",
            "key_to_ring_ms",
            "key_begin_to_ring_ms",
            "queued_to_ring_ms",
            "join_to_ring_ms",
        ):
            values = [s[name] for s in samples if s.get(name) is not None]
            if values:
                figures[name] = summary(values)
        if side == "hotline":
            figures["key_to_ring_steps"] = step_table(samples)
            figures["agi_to_prompt_steps"] = step_table(samples, "before_prompt")
        result[side] = figures
        print(json.dumps({side: figures}), file=sys.stderr)
    return result


# -- main ------------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> dict[str, Any] | int:
    host, port, user, secret = ami_spec(args.ami)
    ami = AmiClient(host, port, user, secret, ping_interval_s=10, action_timeout_s=15)
    seen = Seen()
    ami.subscribe(seen)
    try:
        async with asyncio.timeout(args.connect_timeout):
            await ami.start()
    except (TimeoutError, AmiError) as error:
        await ami.close()
        why = str(error) or f"nothing answered within {args.connect_timeout} s: no Asterisk?"
        print(f"AMI at {host}:{port} (user {user!r}): {why}", file=sys.stderr)
        return EXIT_NO_ASTERISK
    try:
        pid = args.pid or asterisk_pid()
        if pid is None or not proc_exists(pid):
            print(
                "the asterisk process is not on this host (or several run): pass --pid",
                file=sys.stderr,
            )
            return EXIT_NO_ASTERISK
        for name in ("HOTLINE_AMI_SECRET", "HOTLINE_AGI_KEY"):
            if "hotline" in args.sides and not os.environ.get(name):
                raise SystemExit(f"{name} not set: the secret the installed Asterisk files use")
        with tempfile.TemporaryDirectory(prefix="asterisk-cpu-") as tmp:
            bench = Bench(
                ami,
                seen,
                pid,
                agent_ids(args.agents),
                Path(tmp),
                Path(args.logs),
                recording=args.recording,
            )
            if args.mode == "ring":
                return await ring_mode(bench, args)
            if args.mode == "freed":
                return await freed_mode(bench, args)
            return await cpu_mode(bench, args)
    finally:
        await ami.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    parser.add_argument(
        "--ami",
        default=os.environ.get("HOTLINE_LIVE_AMI", "127.0.0.1:5038,live,"),
        help="host:port,user,secret of an AMI user with read/write all (HOTLINE_LIVE_AMI)",
    )
    parser.add_argument("--mode", choices=("cpu", "ring", "freed"), default="cpu")
    parser.add_argument(
        "--sides", default="hotline,app_queue", help="which sides, in this order each round"
    )
    parser.add_argument("--runs", type=int, default=3, help="rounds of runs (cpu)")
    parser.add_argument("--calls", type=int, default=100, help="callers per run (cpu)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between callers")
    parser.add_argument("--agents", type=int, default=10, help="agents (phones 2001..)")
    parser.add_argument("--samples", type=int, default=40, help="callers per side (ring)")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between ring samples")
    parser.add_argument(
        "--hold", type=float, default=1.0, help="seconds (+0..1) a caller waits before a free agent"
    )
    parser.add_argument("--idle-s", type=float, default=15.0, help="idle rate measured over")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the set-up")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between cpu runs")
    parser.add_argument(
        "--recording",
        action="store_true",
        help="both sides record their calls (hotline: recording.yaml; app_queue: bench-cpu-rec)",
    )
    parser.add_argument("--pid", type=int, help="the asterisk process (default: found)")
    parser.add_argument(
        "--logs",
        default=os.environ.get("HOTLINE_LIVE_LOGS", "/var/log/asterisk"),
        help="Asterisk's log directory (HOTLINE_LIVE_LOGS)",
    )
    parser.add_argument("--connect-timeout", type=float, default=5.0, help="AMI login, seconds")
    args = parser.parse_args()
    args.sides = [s for s in args.sides.split(",") if s]
    if not args.sides or any(s not in SIDES for s in args.sides):
        parser.error(f"--sides: a comma-separated choice of {', '.join(SIDES)}")
    logging.disable(logging.WARNING)
    result = asyncio.run(main_async(args))
    if isinstance(result, int):
        sys.exit(result)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
