"""``hotline run`` refuses a configuration it cannot start with in one line and exit code 2,
before connecting anywhere; ``hotline check-config`` refuses the same configuration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from acd.cli.main import main
from acd.exitcodes import ExitCode
from tests.cli.run_support import RunConfig, make_run_config, one_line


def _broken_yaml(cfg: RunConfig) -> None:
    (cfg.config / "queues.yaml").write_text("queues: [\n  - {name: orders\n", encoding="utf-8")


def _not_utf8(cfg: RunConfig) -> None:
    path = cfg.config / "agents.yaml"
    text = path.read_text(encoding="utf-8").replace("Li Na", "李娜")
    path.write_bytes(text.encode("gb18030"))


def _mysql(cfg: RunConfig) -> None:
    cfg.edit("hotline.yaml", lambda d: d["database"].update(url="mysql://root@localhost/hotline"))


def _sqlite_under_a_file(cfg: RunConfig) -> None:
    (cfg.root / "blocker").write_text("not a directory", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{cfg.root / 'blocker' / 'hotline.db'}"
    cfg.edit("hotline.yaml", lambda d: d["database"].update(url=url))


def _spool_under_a_file(cfg: RunConfig) -> None:
    (cfg.root / "blocker").write_text("not a directory", encoding="utf-8")
    spool = str(cfg.root / "blocker" / "spool")
    cfg.edit("hotline.yaml", lambda d: d["database"].update(spool_dir=spool))


def _recordings_is_a_file(cfg: RunConfig) -> None:
    (cfg.root / "recordings").write_text("not a directory", encoding="utf-8")


def _short_recording_key(cfg: RunConfig) -> None:
    cfg.edit("recording.yaml", lambda d: d["encryption"].update(enabled=True))
    cfg.env["HOTLINE_RECORDING_KEY"] = "00112233445566778899aabbccddeeff"  # 16 bytes, not 32


FAULTS: dict[str, tuple[Callable[[RunConfig], None], str]] = {
    "broken YAML": (_broken_yaml, "queues.yaml:2:3: YAML syntax error"),
    "not UTF-8": (_not_utf8, "agents.yaml: not UTF-8 text: byte 0xc0"),
    "unsupported database": (_mysql, "database.url: unsupported database URL 'mysql://"),
    "SQLite directory": (_sqlite_under_a_file, "blocker (for the SQLite database) is not a"),
    "spool directory": (_spool_under_a_file, "database.spool_dir: cannot create"),
    "recording directory": (_recordings_is_a_file, "(for recordings) is not a directory"),
    "recording key": (_short_recording_key, "$HOTLINE_RECORDING_KEY: the recording key must be 32"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_run_refuses_in_one_line_with_exit_2(
    tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = make_run_config(tmp_path)
    breaks, cause = FAULTS[fault]
    breaks(cfg)
    result = cfg.run()
    assert result.returncode == ExitCode.USAGE
    assert cause in one_line(result)
    assert not (tmp_path / "db").exists()  # nothing was created, let alone migrated

    # check-config refuses the same configuration, naming the same cause
    for key, value in cfg.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    assert main(["check-config", "--config", str(cfg.config), "--dialplan", "absent"]) == 2
    assert cause in capsys.readouterr().out
