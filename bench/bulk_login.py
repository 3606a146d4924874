"""Bulk log-in/out benchmark: ``POST /agents/bulk`` for a whole floor of the real daemon.

The daemon (SQLite in a temp directory, its HTTP API on a free loopback port, MQTT to the
broker on 127.0.0.1:1883 with ``--mqtt``) runs against the PBX simulator in this process with
``--agents`` agents, none logged in. Measured: the bulk request (``login_s``/``logout_s``:
request sent -> answer received, every agent changed on the floor), then until the writer has
committed the agents' state rows (``*_stored_s``: from the same start), and how many rows and
storage transactions that took. ``--per-agent N`` also times N one-agent requests
(``POST /agents/{id}/login``) for comparison.

    python bench/bulk_login.py --json [--agents 1000] [--mqtt] [--per-agent 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acd.app.daemon import Daemon, RunOptions
from acd.cli.demo.plan import DemoParams, demo_settings, sim_plan
from acd.cli.features import hotline_features
from acd.settings.loader import load_settings
from acd.settings.schema_system import ApiToken
from acd.settings.settings import Settings
from acd.sim.runtime import Simulator

CONFIG = Path(__file__).resolve().parents[1] / "config"
TOKEN = secrets.token_urlsafe(16)


def bench_settings(agents: int) -> Settings:
    settings = demo_settings(
        load_settings(CONFIG, require_secrets=False), DemoParams(agents=agents)
    )
    token = ApiToken(name="bench", role="supervisor", token_env="HOTLINE_BENCH_TOKEN")
    token = token.model_copy(update={"token": SecretStr(TOKEN)})
    http = settings.system.http.model_copy(update={"tokens": (token,)})
    return settings.model_copy(update={"system": settings.system.model_copy(update={"http": http})})


def _state_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM agent_state_log").fetchone()
    return int(count)


async def _timed_bulk(
    client: httpx.AsyncClient, daemon: Daemon, action: str, commits: list[int]
) -> dict[str, Any]:
    before = len(commits)
    t0 = time.perf_counter()
    r = await client.post("/agents/bulk", json={"action": action, "all": True})
    answered = time.perf_counter() - t0
    r.raise_for_status()
    await daemon.writer.wait_drained()
    stored = time.perf_counter() - t0
    body = r.json()
    return {
        f"{action}_s": round(answered, 4),
        f"{action}_stored_s": round(stored, 4),
        f"{action}_changed": body["changed"],
        f"{action}_refused": len(body["refused"]),
        f"{action}_transactions": len(commits) - before,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = bench_settings(args.agents)
    secret = secrets.token_hex(8)
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-bulk-"))
    plan = sim_plan(settings, DemoParams(), agi_port=0, recordings_dir=str(workdir))
    sim = Simulator(
        plan, seed=1, ami_username=settings.system.ami.username, ami_secret=secret,
        auth_failure_delay=0.0,
    )  # fmt: skip
    await sim.start()
    db = workdir / "hotline.db"
    daemon = Daemon(
        settings,
        RunOptions(
            ami_secret=secret,
            db_url=f"sqlite+aiosqlite:///{db}",
            spool_dir=workdir / "spool",
            ami_host="127.0.0.1",
            ami_port=sim.ami_port,
            agi_port=0,
            mqtt=args.mqtt,
            http_port=0,
        ),
        hotline_features(settings),
    )
    commits: list[int] = []
    result: dict[str, Any] = {"agents": args.agents, "mqtt": args.mqtt}
    async with asyncio.TaskGroup() as tasks:
        running = tasks.create_task(daemon.run())
        await daemon.started.wait()
        await daemon.writer.wait_drained()
        assert daemon.http is not None
        # count the writer's transactions from here on (the committer's hook, chained)
        committer = daemon.writer._committer
        earlier = committer._on_commit

        def counted(n: int, seconds: float) -> None:
            commits.append(n)
            if earlier is not None:
                earlier(n, seconds)

        committer._on_commit = counted
        headers = {"Authorization": f"Bearer {TOKEN}"}
        published0 = daemon.publisher.published if daemon.publisher is not None else 0
        async with httpx.AsyncClient(base_url=daemon.http.url, headers=headers, timeout=60) as c:
            rows0 = _state_rows(db)
            result |= await _timed_bulk(c, daemon, "login", commits)
            result["login_state_rows"] = _state_rows(db) - rows0
            rows0 = _state_rows(db)
            result |= await _timed_bulk(c, daemon, "logout", commits)
            result["logout_state_rows"] = _state_rows(db) - rows0
            if daemon.publisher is not None:
                async with asyncio.timeout(30):
                    while daemon.publisher.buffer:  # noqa: ASYNC110 - the burst going out
                        await asyncio.sleep(0.01)
                result["mqtt_published"] = daemon.publisher.published - published0
            if args.per_agent:
                ids = [a.id for a in settings.agents[: args.per_agent]]
                t0 = time.perf_counter()
                for agent_id in ids:
                    (await c.post(f"/agents/{agent_id}/login")).raise_for_status()
                per = time.perf_counter() - t0
                result["per_agent_requests"] = len(ids)
                result["per_agent_login_s"] = round(per, 3)
                result["per_agent_login_ms_each"] = round(1000 * per / len(ids), 2)
        daemon.stop()
        await running
    await sim.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--mqtt", action="store_true", help="publish to 127.0.0.1:1883")
    parser.add_argument("--per-agent", type=int, default=0, help="also time N one-agent logins")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
