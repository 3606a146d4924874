"""A standby needs PostgreSQL: ``check-config`` and ``run --standby`` say so, and a second daemon
on one SQLite file is refused (exit 3) while the first keeps running."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest
from pydantic import ValidationError

from acd.cli.main import main
from acd.exitcodes import ExitCode
from acd.settings.schema_system import FastAgiSettings
from tests.cli.run_support import RUN_TIMEOUT_S, RunConfig, free_port, make_run_config, one_line
from tests.settings.conftest import SECRETS

NEEDS_POSTGRESQL = "a standby daemon needs PostgreSQL"


def _with_standby(cfg: RunConfig) -> None:
    port = free_port()
    cfg.edit(
        "hotline.yaml", lambda d: d["fastagi"].update(standby_host="127.0.0.1", standby_port=port)
    )


def test_check_config_says_a_standby_needs_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    cfg = make_run_config(tmp_path)
    args = ["check-config", "--config", str(cfg.config), "--dialplan", str(tmp_path / "none")]
    _with_standby(cfg)
    assert main([*args, "--json"]) == ExitCode.USAGE
    errors = json.loads(capsys.readouterr().out)["errors"]
    standby = [e for e in errors if e["path"] == "fastagi.standby_host"]
    assert len(standby) == 1
    assert NEEDS_POSTGRESQL in standby[0]["message"]
    cfg.edit(
        "hotline.yaml",
        lambda d: d["database"].update(url="postgresql://postgres@127.0.0.1:5432/hotline"),
    )
    main([*args, "--json"])
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert not [e for e in errors if "standby" in e["path"]]


def test_run_standby_without_postgresql_or_an_address_is_refused(tmp_path: Path) -> None:
    cfg = make_run_config(tmp_path)
    result = cfg.run("--standby")
    assert result.returncode == ExitCode.USAGE
    assert "fastagi.standby_host: run --standby listens on fastagi.standby_host" in one_line(result)
    _with_standby(cfg)
    result = cfg.run("--standby")
    assert result.returncode == ExitCode.USAGE
    assert NEEDS_POSTGRESQL in one_line(result)


def test_a_standby_address_is_another_address() -> None:
    with pytest.raises(ValidationError, match="the active daemon's own address"):
        FastAgiSettings(standby_host="127.0.0.1")  # same host, same port
    assert FastAgiSettings(standby_host="10.0.0.2").standby_address == ("10.0.0.2", 4573)
    assert FastAgiSettings(standby_host="127.0.0.1", standby_port=4574).standby_address
    assert FastAgiSettings(standby_port=4574).standby_address is None


@pytest.mark.asyncio
async def test_a_second_daemon_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    first = make_run_config(tmp_path / "first")
    second = make_run_config(tmp_path / "second")
    url = first.system()["database"]["url"]
    second.edit("hotline.yaml", lambda d: d["database"].update(url=url))
    proc = await asyncio.create_subprocess_exec(
        *first.command("--no-mqtt"),
        env=first.env,
        cwd=first.root,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            while b"daemon_up" not in (line := await proc.stderr.readline()):
                assert line, "the first daemon exited"
        result = await asyncio.to_thread(second.run, "--no-mqtt")
        assert result.returncode == ExitCode.UNAVAILABLE
        line = one_line(result)
        assert f"another hotline daemon (pid {proc.pid}) uses this SQLite database" in line
        assert proc.returncode is None  # the first one runs on
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.stderr.read()
        assert await proc.wait() == ExitCode.OK
