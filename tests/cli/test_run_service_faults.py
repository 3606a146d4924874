"""``hotline run`` when this machine does not offer what the configuration asks for: a port in
use, PostgreSQL down or without the database; and SIGTERM before Asterisk was ever reached."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import pytest

from acd.exitcodes import ExitCode
from tests.cli.run_support import RUN_TIMEOUT_S, make_run_config, one_line


@pytest.mark.parametrize("section", ["fastagi", "http"])
def test_a_port_in_use_is_exit_3_in_one_line(tmp_path: Path, section: str) -> None:
    cfg = make_run_config(tmp_path)
    port = cfg.system()[section]["port"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = cfg.run()
    assert result.returncode == ExitCode.UNAVAILABLE
    line = one_line(result)
    assert f"{section}.port" in line
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in line


@pytest.mark.postgres
def test_postgresql_down_is_exit_3_and_a_missing_database_exit_2(tmp_path: Path) -> None:
    cfg = make_run_config(tmp_path)
    with socket.socket() as closed:  # a port that refuses connections
        closed.bind(("127.0.0.1", 0))
        down = f"postgresql://postgres@127.0.0.1:{closed.getsockname()[1]}/test"
        result = cfg.run("--db", down)
    assert result.returncode == ExitCode.UNAVAILABLE
    assert "--db: database unreachable at postgresql+asyncpg://postgres@127.0.0.1:" in one_line(
        result
    )
    result = cfg.run("--db", "postgresql://postgres@127.0.0.1:5432/hotline_no_such_db")
    assert result.returncode == ExitCode.USAGE
    assert 'database "hotline_no_such_db" does not exist' in one_line(result)


@pytest.mark.asyncio
async def test_sigterm_before_asterisk_was_ever_reached_stops_cleanly(tmp_path: Path) -> None:
    cfg = make_run_config(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        *cfg.command("--no-mqtt"),
        env=cfg.env,
        cwd=cfg.root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    async with asyncio.timeout(RUN_TIMEOUT_S):
        while not any("daemon_up" in line for line in seen):
            line = (await proc.stderr.readline()).decode()
            assert line, "".join(seen)  # EOF before the daemon came up
            seen.append(line)
        # the AMI client is still trying to reach an Asterisk that is not there
        proc.send_signal(signal.SIGTERM)
        rest = (await proc.stderr.read()).decode()
        code = await proc.wait()
    log = "".join(seen) + rest
    assert code == ExitCode.OK, log
    assert "Traceback" not in log
    assert "ami_never_connected" in rest
