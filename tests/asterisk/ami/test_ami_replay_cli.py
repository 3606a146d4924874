"""``hotline ami-replay`` through the real CLI entry point."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from ami_recorded import SESSION3_FROM_ASTERISK, recorded_counts, session3_bytes

from acd.cli.main import main
from tests.transcripts import transcript_path, wire_bytes


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["ami-replay", *argv, "--json"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 1, out  # exactly one JSON object
    doc = json.loads(lines[0])
    assert set(doc) == {"events", "responses", "by_type", "errors"}
    return code, doc


def test_raw_session_capture(capsys: pytest.CaptureFixture[str]) -> None:
    raw = session3_bytes("<<<")
    code, doc = _json(capsys, str(transcript_path(SESSION3_FROM_ASTERISK)))
    assert code == 0
    blocks = raw.split(b"\r\n", 1)[1].split(b"\r\n\r\n")
    assert doc["events"] == sum(b.startswith(b"Event: ") for b in blocks)
    assert doc["responses"] == sum(b.startswith(b"Response: ") for b in blocks)
    assert doc["errors"] == []


@pytest.mark.parametrize(
    "name", ["ami_events_full_call.txt", "chanspy_events.txt", "load_test_direct-queue_raw.txt.gz"]
)
@pytest.mark.parametrize("compress", [False, True])
def test_rebuilt_streams_match_the_files_own_counts(
    name: str, compress: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = wire_bytes(name)
    path = tmp_path / ("capture.gz" if compress else "capture.raw")
    path.write_bytes(gzip.compress(data) if compress else data)
    code, doc = _json(capsys, str(path))
    total, by_type = recorded_counts(name)
    assert code == 0
    assert doc["events"] == total
    assert doc["by_type"] == dict(by_type)
    assert doc["responses"] == 0
    assert doc["errors"] == []


def test_concatenated_sessions_with_banners_are_not_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sessions.raw"
    path.write_bytes(wire_bytes("ami_login_and_actions.txt", "<<<"))
    code, doc = _json(capsys, str(path))
    assert code == 0
    assert doc["errors"] == []
    assert doc["responses"] == 1 + 3 + 51  # sections 1, 2 and session 3


def test_errors_are_reported_with_offsets_and_every_good_event_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = wire_bytes("chanspy_events.txt")
    total, _ = recorded_counts("chanspy_events.txt")
    # Damage the 11th message with a line that has no colon, and cut the last one short.
    cut = 0
    for _ in range(10):
        cut = data.index(b"\r\n\r\n", cut) + 4
    bad_line = data.index(b"\r\n", cut) + 2
    damaged = data[:bad_line] + b"garbage without colon\r\n" + data[bad_line:]
    last = damaged.rindex(b"\r\n\r\n", 0, len(damaged) - 4) + 4
    damaged = damaged[:-10]
    path = tmp_path / "damaged.raw"
    path.write_bytes(damaged)
    code, doc = _json(capsys, str(path))
    assert code == 1
    assert doc["errors"] == [
        {"offset": bad_line, "message": "header line without a colon"},
        {"offset": last, "message": "end of stream inside a message"},
    ]
    assert doc["events"] == total - 2


def test_invalid_utf8_in_values_does_not_change_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = wire_bytes("ami_events_full_call.txt")
    assert b"CallerIDName: AMI Test" in data or b"CallerIDName: <unknown>" in data
    damaged = data.replace(b"CallerIDName: <unknown>", b"CallerIDName: \xff\xfe\xc3")
    assert damaged != data
    path = tmp_path / "latin.raw"
    path.write_bytes(damaged)
    code, doc = _json(capsys, str(path))
    total, by_type = recorded_counts("ami_events_full_call.txt")
    assert code == 0
    assert doc["events"] == total
    assert doc["by_type"] == dict(by_type)


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ami-replay", str(transcript_path(SESSION3_FROM_ASTERISK))])
    out = capsys.readouterr().out
    assert code == 0
    assert "FullyBooted" in out
    assert "responses: 51" in out
    assert "protocol errors: 0" in out


def test_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ami-replay", str(tmp_path / "missing.raw")]) == 2
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b" + b"not gzip at all")
    assert main(["ami-replay", str(broken), "--json"]) == 2
    assert "cannot read" in capsys.readouterr().err
