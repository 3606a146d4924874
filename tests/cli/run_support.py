"""``hotline run`` as a subprocess, with a runnable configuration in a temporary directory.

The configuration is the shipped one with every port, path and the MQTT client id made private
to the test: FastAGI and HTTP on free loopback ports, AMI on a port nobody listens on, SQLite,
spool and recordings under ``tmp_path``. ``RunConfig.edit`` changes a file before the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.settings.conftest import SECRETS, SHIPPED_CONFIG

RUN_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunConfig:
    root: Path
    config: Path
    env: dict[str, str]
    client_id: str

    def edit(self, name: str, change: Callable[[dict[str, Any]], None]) -> None:
        path = self.config / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def system(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load(
            (self.config / "hotline.yaml").read_text(encoding="utf-8")
        )
        return data

    def command(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "acd.cli.main", "run", "--config", str(self.config), *extra]

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*extra),
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )


def make_run_config(tmp_path: Path, *, mqtt_prefix: str | None = None) -> RunConfig:
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    client_id = f"hotline-test-{uuid.uuid4().hex[:12]}"
    run_config = RunConfig(
        tmp_path,
        config,
        {**os.environ, **SECRETS, "HOTLINE_RECORDING_KEY": "", "PYTHONUNBUFFERED": "1"},
        client_id,
    )

    def system(data: dict[str, Any]) -> None:
        data["ami"]["port"] = free_port()  # nothing listens there: Asterisk is never reached
        data["ami"]["reconnect_max_s"] = 1
        data["fastagi"]["port"] = free_port()
        data["http"]["port"] = free_port()
        data["mqtt"]["client_id"] = client_id
        data["mqtt"]["topic_prefix"] = mqtt_prefix or client_id
        data["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'hotline.db'}"
        data["database"]["spool_dir"] = str(tmp_path / "spool")

    run_config.edit("hotline.yaml", system)
    run_config.edit("recording.yaml", lambda d: d.update(directory=str(tmp_path / "recordings")))
    return run_config


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused start (nothing on stdout, no traceback)."""
    lines = result.stderr.splitlines()
    assert result.stdout == ""
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hotline run: "), lines[0]
    return lines[0]
