"""Times in command output are the centre's (Asia/Shanghai in the shipped hotline.yaml), with
the offset; dates given on the command line are the centre's days."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.cli.main import main
from tests.recordings.conftest import CONFIG_DIR, add_rows, migrated_sqlite, recorded_call

LATE_UTC = datetime(2026, 11, 18, 20, 30, tzinfo=UTC)  # 04:30 on the 19th in Shanghai


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main([*argv, "--config", str(CONFIG_DIR)])
    return code, capsys.readouterr().out


def test_recordings_search_in_the_centres_days_and_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = migrated_sqlite(tmp_path)
    add_rows(db, recorded_call("late", started_at=LATE_UTC, path=tmp_path / "x.wav"))
    search = ("recordings", "search", "--db", db)
    code, out = run(capsys, *search, "--from", "2026-11-19", "--to", "2026-11-19", "--json")
    assert code == 0
    (hit,) = json.loads(out)["recordings"]
    assert hit["started_at"] == "2026-11-19T04:30:00+08:00"
    assert json.loads(run(capsys, *search, "--to", "2026-11-18", "--json")[1])["recordings"] == []
    code, out = run(capsys, *search)
    assert out.startswith("2026-11-19 04:30:00 +08:00 late ")


def test_report_period_in_the_centres_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = migrated_sqlite(tmp_path)
    code, out = run(capsys, "report", "--from", "2026-11-19", "--to", "2026-11-19", "--db", db)
    assert code == 0
    assert out.splitlines()[0] == (
        "hotline report 2026-11-19T00:00:00+08:00 .. 2026-11-20T00:00:00+08:00"
    )
