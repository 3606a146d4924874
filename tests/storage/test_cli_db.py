"""``hotline db upgrade|current``: exit codes and messages operators rely on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from acd.cli.main import main
from acd.exitcodes import ExitCode
from acd.storage.migrate import head_revisions
from tests.conftest import free_port
from tests.storage.conftest import PG_HOST_PART


def test_upgrade_then_current_on_a_fresh_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/var/hotline.db"  # the directory does not exist yet
    assert main(["db", "current", "--db", url]) == ExitCode.UNAVAILABLE
    assert "no database file" in capsys.readouterr().err
    assert main(["db", "upgrade", "--db", url]) == ExitCode.OK
    head = head_revisions()[0]
    assert f"from none to {head}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", url]) == ExitCode.OK
    assert f"already at {head}" in capsys.readouterr().out
    assert main(["db", "current", "--db", url]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == f"current: {head}  head: {head}  (up to date)"


def test_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/env.db")
    assert main(["db", "upgrade"]) == ExitCode.OK
    assert (tmp_path / "env.db").exists()
    capsys.readouterr()


@pytest.mark.postgres
def test_unreachable_postgresql_server_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/hotline"  # nothing listens there
    assert main(["db", "current", "--db", url]) == ExitCode.UNAVAILABLE
    err = capsys.readouterr().err
    assert err.startswith("hotline db: database unreachable at postgresql+asyncpg://postgres@")


@pytest.mark.postgres
def test_missing_postgresql_database_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://{PG_HOST_PART}/hotline_no_such_database"
    assert main(["db", "upgrade", "--db", url]) == ExitCode.UNAVAILABLE
    assert 'database "hotline_no_such_database" does not exist' in capsys.readouterr().err


def test_password_is_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://hotline:s3cret@127.0.0.1:{free_port()}/hotline"
    assert main(["db", "current", "--db", url]) == ExitCode.UNAVAILABLE
    err = capsys.readouterr().err
    assert "s3cret" not in err
    assert "***" in err


def test_unsupported_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", "mysql://root@localhost/hotline"]) == ExitCode.USAGE
    assert "unsupported database URL" in capsys.readouterr().err


def test_upgrade_uses_the_configured_database_url(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config", config)
    target = tmp_path / "configured.db"
    hotline_yaml = config / "hotline.yaml"
    text = hotline_yaml.read_text(encoding="utf-8")
    assert "url: sqlite+aiosqlite:///var/hotline.db" in text
    hotline_yaml.write_text(
        text.replace("sqlite+aiosqlite:///var/hotline.db", f"sqlite+aiosqlite:///{target}"),
        encoding="utf-8",
    )
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert target.is_file()
