"""Two ``hotline run`` processes on one PostgreSQL database, in front of the PBX simulator.

The active one listens on ``fastagi.port``, the standby (``--standby``) on
``fastagi.standby_port``; both have the same configuration except their HTTP port (two hosts
would have the same). The simulator runs in this process, with the shipped dialplan rendered
for these addresses, so a caller the active daemon did not finish is resumed by the standby.
``bench/failover.py`` uses the same rig.

The PostgreSQL database is a scratch one (created, migrated with ``hotline db upgrade``, dropped
at the end). Each daemon logs JSON lines on stderr; ``Node.wait_event`` waits for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import yaml
from pydantic import SecretStr

from acd.cli.demo.plan import DemoParams, sim_plan
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from acd.sim.plan import AgentBehaviour, CallerBehaviour, SimPlan
from acd.sim.runtime import Simulator
from tests.settings.conftest import SECRETS, SHIPPED_CONFIG
from tests.storage.conftest import PG_ADMIN_DSN

START_LIMIT_S = 60.0
PHONE = AgentBehaviour(answer_after=0.3, talk_time=1.5, hangs_up="agent")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def patient_caller(number: str) -> CallerBehaviour:
    """Straight to an agent (0 in the main menu), never hangs up first."""
    return CallerBehaviour(
        number=number, prompt_answers=("0",), answer_delay=0.2, hangup_after=None
    )


@dataclass
class Node:
    """One ``hotline run`` process and what it logged (JSON lines, with arrival times)."""

    name: str
    config: Path
    http_port: int
    standby: bool
    proc: asyncio.subprocess.Process | None = None
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    stderr_text: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, env: dict[str, str], db_url: str) -> None:
        args = [sys.executable, "-m", "acd.cli.main", "run", "--config", str(self.config)]
        args += ["--db", db_url] + (["--standby"] if self.standby else [])
        self.proc = await asyncio.create_subprocess_exec(
            *args,
            env=env,
            cwd=self.config.parent,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read(), name=f"{self.name}-stderr")

    async def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            text = line.decode(errors="replace")
            self.stderr_text.append(text)
            with contextlib.suppress(ValueError):
                event = json.loads(text)
                if isinstance(event, dict):
                    self.events.append((time.monotonic(), event))
            self._changed.set()
        self._changed.set()

    def seen(self, name: str, since: float = 0.0) -> list[tuple[float, dict[str, Any]]]:
        return [(t, e) for t, e in self.events if e.get("event") == name and t >= since]

    async def wait_event(self, name: str, *, since: float = 0.0, limit_s: float = 30.0) -> float:
        """When ``name`` was logged (at or after ``since``, monotonic)."""
        async with asyncio.timeout(limit_s):
            while True:
                found = self.seen(name, since)
                if found:
                    return found[0][0]
                if self.proc is not None and self.proc.returncode is not None:
                    raise AssertionError(f"{self.name} exited:\n{''.join(self.stderr_text)}")
                self._changed.clear()
                await self._changed.wait()

    def signal(self, sig: signal.Signals) -> float:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return time.monotonic()

    async def wait(self, limit_s: float = 30.0) -> int:
        assert self.proc is not None
        async with asyncio.timeout(limit_s):
            code = await self.proc.wait()
        if self._reader is not None:
            await self._reader
        return code

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await self._reader

    async def agents(self, action: str, agent_ids: list[str]) -> None:
        """Agent logins (``action``) over the node's HTTP API, as a supervisor would."""
        headers = {"Authorization": f"Bearer {SECRETS['HOTLINE_TOKEN_ADMIN']}"}
        base = f"http://127.0.0.1:{self.http_port}"
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
            for agent in agent_ids:
                reply = await client.post(f"/agents/{agent}/{action}", params={"force": "true"})
                assert reply.status_code == 200, reply.text

    async def floor_agents(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {SECRETS['HOTLINE_TOKEN_ADMIN']}"}
        async with httpx.AsyncClient(timeout=10, headers=headers) as client:
            reply = await client.get(f"http://127.0.0.1:{self.http_port}/agents")
        assert reply.status_code == 200, reply.text
        return {row["agent"]: row["state"] for row in reply.json()}


@dataclass
class Rig:
    sim: Simulator
    active: Node
    standby: Node
    settings: Settings
    db_url: str
    dsn: str
    mqtt_prefix: str
    log_dir: Path
    env: dict[str, str]

    @property
    def agent_ids(self) -> list[str]:
        return [a.id for a in self.settings.agents]

    async def place(self, number: str) -> None:
        await self.sim.place_call(patient_caller(number))

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    def served_numbers(self) -> set[str]:
        """Caller numbers that were bridged to an agent (by a daemon or the fallback)."""
        served: set[str] = set()
        for m in self.sim.emitted or ():
            if m.name == "BridgeEnter":
                served.update({m.get("CallerIDNum") or "", m.get("ConnectedLineNum") or ""})
        return served


def _write_config(
    root: Path, *, ports: dict[str, int], http_port: int, prefix: str, client_id: str
) -> Path:
    config = root / "config"
    shutil.copytree(SHIPPED_CONFIG, config)

    def edit(name: str, change: Any) -> None:
        path = config / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def system(data: dict[str, Any]) -> None:
        data["ami"]["port"] = ports["ami"]
        data["ami"]["reconnect_max_s"] = 1
        data["fastagi"].update(
            port=ports["agi"], standby_host="127.0.0.1", standby_port=ports["standby"]
        )
        data["http"]["port"] = http_port
        data["mqtt"].update(client_id=client_id, topic_prefix=prefix)
        if "mqtt" in ports:
            data["mqtt"]["port"] = ports["mqtt"]
        data["database"]["spool_dir"] = str(root / "spool")
        data["logging"] = {"format": "json", "level": "info"}
        data["fallback_import"] = {
            "queue_log": str(asterisk_log_dir(root) / "queue_log"),
            "cdr_csv": str(asterisk_log_dir(root) / "cdr-csv" / "Master.csv"),
            "every_s": 1,
        }

    def queues(data: dict[str, Any]) -> None:
        for queue in data["queues"]:
            queue.pop("hours", None)  # open now, whatever the hour
            # every caller is served now (none dropped): with the shipped 15-60 s wrap-up six
            # agents would take minutes to drain the traffic of a failover run
            queue["wrapup_s"] = 2

    edit("hotline.yaml", system)
    edit("queues.yaml", queues)
    edit("recording.yaml", lambda d: d.update(directory=str(root / "recordings")))
    return config


def asterisk_log_dir(root: Path) -> Path:
    """Asterisk's log directory (the simulator writes queue_log and Master.csv there)."""
    return root.parent / "asterisk-log"


@contextlib.asynccontextmanager
async def standby_rig(
    workdir: Path,
    *,
    time_scale: float = 4.0,
    start_standby: bool = True,
    active_via: int | None = None,
    mqtt_port: int | None = None,
) -> AsyncIterator[Rig]:
    """``active_via``: the port of a relay to PostgreSQL the active daemon uses (a cut
    network between it and the database, ``tests.daemon.pg_proxy``). ``mqtt_port``: a private
    broker's port (a test that stops it) instead of the machine's 1883."""
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    host_part = PG_ADMIN_DSN.rsplit("/", 1)[0].removeprefix("postgresql://")
    db_url = f"postgresql://{host_part}/{name}"
    env = {**os.environ, **SECRETS, "HOTLINE_RECORDING_KEY": "", "PYTHONUNBUFFERED": "1"}
    nodes: list[Node] = []
    sim: Simulator | None = None
    try:
        upgrade = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "acd.cli.main", "db", "upgrade", "--db", db_url,
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert await upgrade.wait() == 0
        prefix = f"hotline-test-{uuid.uuid4().hex[:8]}"
        client_id = f"{prefix}-acd"  # the same for both: one configuration, two hosts
        ports = {"agi": free_port(), "standby": free_port()}
        if mqtt_port is not None:
            ports["mqtt"] = mqtt_port
        log_dir = asterisk_log_dir(workdir / "a")
        log_dir.mkdir(parents=True)
        # the settings the simulator is rendered from: the active node's (ports["ami"] is
        # known only once the simulator listens; the dialplan does not depend on it)
        probe = _write_config(
            workdir / "probe", ports={**ports, "ami": 5038}, http_port=1, prefix=prefix,
            client_id=client_id,
        )  # fmt: skip
        settings = load_settings(probe, require_secrets=False)
        fastagi = settings.fastagi.model_copy(update={"key": SecretStr(SECRETS["HOTLINE_AGI_KEY"])})
        settings = settings.model_copy(
            update={"system": settings.system.model_copy(update={"fastagi": fastagi})}
        )
        plan = sim_plan(settings, DemoParams(), agi_port=ports["agi"], recordings_dir="")
        # the shipped render: [hotline-resume] offers an unfinished caller to the standby's
        # address, then the active's again, then the fallback Queue()
        plan = SimPlan(
            queues=plan.queues,
            agents=dict.fromkeys(plan.agents, PHONE),
            dialplan=plan.dialplan,
            sounds=plan.sounds,
            recordings_dir=str(workdir / "sim-recordings"),
            asterisk_log_dir=str(log_dir),
        )
        sim = Simulator(
            plan,
            ami_username=settings.ami.username,
            ami_secret=SECRETS["HOTLINE_AMI_SECRET"],
            auth_failure_delay=0.0,
            time_scale=time_scale,
            keep_events=True,
        )
        await sim.start()
        ports["ami"] = sim.ami_port
        for label, standby in (("a", False), ("b", True)):
            http_port = free_port()
            config = _write_config(
                workdir / label, ports=ports, http_port=http_port, prefix=prefix,
                client_id=client_id,
            )  # fmt: skip
            nodes.append(Node(label, config, http_port, standby))
        active, standby_node = nodes
        active_db = db_url
        if active_via is not None:
            active_db = db_url.replace(f"@{host_part.split('@')[1]}/", f"@127.0.0.1:{active_via}/")
        await active.start(env, active_db)
        await active.wait_event("daemon_up", limit_s=START_LIMIT_S)
        await active.wait_event("ami_logged_in", limit_s=START_LIMIT_S)
        if start_standby:
            await standby_node.start(env, db_url)
            await standby_node.wait_event("standby_waiting", limit_s=START_LIMIT_S)
        yield Rig(sim, active, standby_node, settings, db_url, db_url, prefix, log_dir, env)
    finally:
        for node in nodes:
            await node.close()
        if sim is not None:
            await sim.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
