"""``hotline report`` and ``hotline export queue-log`` as an operator runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from acd.cli.main import main
from tests.conftest import free_port
from tests.reports.conftest import seed

CONFIG = str(Path(__file__).resolve().parents[2] / "config")
PERIOD = ["--from", "2026-03-02T09:00:00+00:00", "--to", "2026-03-02T11:00:00+00:00"]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"
    asyncio.run(seed(url))
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", CONFIG])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_one_object_with_total_and_rows(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", *PERIOD, "--db", sqlite_url, "--format", "json",
                       "--interval", "1h")  # fmt: skip
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"total", "rows"}
    total = document["total"]
    for key in ("offered", "answered", "abandoned", "service_level_15s",
                "answered_within_3_rings", "asa_s", "aht_s"):  # fmt: skip
        assert key in total
    assert (total["offered"], total["service_level_15s"]) == (5, 0.5)
    # config/queues.yaml: every queue rings 3 x 3 s, so the limit is 9 s as in the hand count
    assert total["answered_within_3_rings"] == round(2 / 3, 4)
    # config/hotline.yaml is Asia/Shanghai: hours start at local full hours
    assert [row["interval_start"] for row in document["rows"]] == [
        "2026-03-02T17:00:00+08:00",
        "2026-03-02T18:00:00+08:00",
    ]


def test_csv_has_a_header_and_one_line_per_row(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", *PERIOD, "--db", sqlite_url, "--format", "csv",
                       "--by", "queue")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["queue"] for row in rows] == ["(none)", "complaints", "orders"]
    assert rows[2]["offered"] == "3"
    assert rows[0]["service_level_15s"] == ""  # no offered call: no rate, not zero


def test_table_shows_targets_next_to_actuals(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "report", *PERIOD, "--db", sqlite_url, "--by", "agent")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("service_level_15s"))
    # actual 50 %, target 90 % from config/targets.yaml, missed
    assert line.split() == ["service_level_15s", "50.0%", "90.0%", "MISSED"]
    aht = next(line for line in out.splitlines() if line.startswith("aht_s"))
    assert aht.split() == ["aht_s", "158.3", "180.0", "met"]
    assert any(line.startswith("target") for line in out.splitlines())


def test_chart_is_a_png(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "sl.png"
    code, _, _ = run(capsys, "report", *PERIOD, "--db", sqlite_url, "--interval", "15m",
                     "--chart", str(chart))  # fmt: skip
    assert code == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 1000


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    code, _, err = run(capsys, "report", "--from", "yesterday-ish", "--db", url)
    assert code == 2
    assert "yesterday-ish" in err
    swapped = ["--from", PERIOD[3], "--to", PERIOD[1]]
    code, _, err = run(capsys, "report", *swapped, "--db", url)
    assert code == 2
    assert "--to must be after --from" in err
    with pytest.raises(SystemExit) as exited:
        main(["report", "--interval", "2h"])
    assert exited.value.code == 2


def test_unreachable_database_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "report", *PERIOD, "--db", f"sqlite:///{tmp_path}/missing.db")
    assert code == 3
    assert "unreachable" in err
    assert not (tmp_path / "missing.db").exists()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    code, _, err = run(capsys, "export", "queue-log", *PERIOD, "--db", url)
    assert code == 3
    assert "unreachable" in err


def test_export_prints_queue_log_lines(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", "queue-log", *PERIOD, "--db", sqlite_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("|")[4] == "ADDMEMBER"
    assert {line.split("|")[4] for line in lines} >= {"ENTERQUEUE", "CONNECT", "ABANDON"}
