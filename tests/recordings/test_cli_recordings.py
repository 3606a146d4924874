"""``hotline recordings purge|hold|export|search`` on a real SQLite file and real WAV files."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.cli.main import main
from acd.storage.engine import create_engine, session_factory
from acd.storage.models import AuditLog, Recording
from recordings.crypto import encrypt_file
from recordings.repository import record_access
from tests.recordings.conftest import (
    CONFIG_DIR,
    add_person,
    add_rows,
    query,
    recatalogue,
    recorded_call,
    write_wav,
)

NOW = datetime.now(UTC)
KEY_HEX = bytes(range(32)).hex()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", str(CONFIG_DIR)])
    out, err = capsys.readouterr()
    return code, out, err


def audit(db: str) -> list[tuple[str, str, str | None, str | None]]:
    """The recordings' audit trail (users being added are audited too: left out here)."""
    stmt = (
        select(AuditLog.who, AuditLog.action, AuditLog.target, AuditLog.reason)
        .where(AuditLog.action.not_like("user.%"))
        .order_by(AuditLog.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in query(db, stmt)]


@pytest.fixture
def aged(tmp_path: Path, db: str) -> dict[str, Path]:
    """orders keeps 180 days (recording.yaml), complaints 730 (queues.yaml)."""
    files = {
        name: write_wav(tmp_path / "rec" / f"{name}.wav", [("tone", 0.2)])
        for name in ("old", "fresh", "old_complaint", "held", "held_cfg")
    }
    old = NOW - timedelta(days=200)
    rows = [
        *recorded_call("old", started_at=old, path=files["old"]),
        *recorded_call("fresh", started_at=NOW - timedelta(days=10), path=files["fresh"]),
        *recorded_call(
            "old_complaint", started_at=old, path=files["old_complaint"], queue="complaints"
        ),
        *recorded_call("held", started_at=old, path=files["held"], legal_hold=True),
    ]
    add_rows(db, rows)
    return files


def test_purge_dry_run_changes_nothing(
    capsys: pytest.CaptureFixture[str], db: str, aged: dict[str, Path]
) -> None:
    code, out, _ = run(capsys, "recordings", "purge", "--dry-run", "--db", db, "--json")
    assert code == 0
    assert json.loads(out) == {
        "dry_run": True,
        "purged": ["rec-old"],
        "held": ["rec-held"],
        "problems": [],
    }
    assert all(p.exists() for p in aged.values())
    assert query(db, select(Recording.id).where(Recording.purged_at.is_not(None))) == []


def test_purge_deletes_expired_files_and_audits(
    capsys: pytest.CaptureFixture[str], db: str, aged: dict[str, Path]
) -> None:
    leg = aged["old"].with_name("old-in.wav")
    leg.write_bytes(b"leg")
    code, out, _ = run(capsys, "recordings", "purge", "--db", db, "--json")
    assert code == 0
    assert json.loads(out)["purged"] == ["rec-old"]
    assert not aged["old"].exists()
    assert not leg.exists()
    assert aged["held"].exists()
    assert aged["old_complaint"].exists()
    assert aged["fresh"].exists()
    purged = query(db, select(Recording.id).where(Recording.purged_at.is_not(None)))
    assert [r[0] for r in purged] == ["rec-old"]
    assert audit(db) == [
        ("retention-job", "recording.purge", "recording:rec-old", "retention 180 days (orders)")
    ]
    # Second run: nothing left to do, idempotent.
    code, out, _ = run(capsys, "recordings", "purge", "--db", db, "--json")
    assert (code, json.loads(out)["purged"]) == (0, [])


def test_purge_reports_undeletable_file_and_keeps_row(
    capsys: pytest.CaptureFixture[str], db: str, aged: dict[str, Path]
) -> None:
    if os.geteuid() == 0:
        # root ignores directory permissions: make the "file" a non-empty directory instead
        aged["old"].unlink()
        aged["old"].mkdir()
        (aged["old"] / "x").write_text("x")
    else:
        aged["old"].parent.chmod(0o500)
    try:
        code, out, _ = run(capsys, "recordings", "purge", "--db", db, "--json")
    finally:
        aged["old"].parent.chmod(0o700)
    assert code == 1
    body = json.loads(out)
    assert body["purged"] == []
    assert body["problems"][0]["recording_id"] == "rec-old"
    assert query(db, select(Recording.id).where(Recording.purged_at.is_not(None))) == []


def test_hold_then_purge_keeps_the_call(
    capsys: pytest.CaptureFixture[str],
    db: str,
    aged: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTLINE_TOKEN", add_person(db, "lee", "admin"))
    code, _, err = run(
        capsys, "recordings", "hold", "old", "--on", "--reason", "court order 17", "--db", db
    )
    assert code == 0, err
    code, out, _ = run(capsys, "recordings", "purge", "--db", db, "--json")
    assert json.loads(out)["purged"] == []
    assert aged["old"].exists()
    assert audit(db) == [("lee", "recording.hold_on", "call:old", "court order 17")]
    code, _, err = run(capsys, "recordings", "hold", "nope", "--off", "--reason", "x", "--db", db)
    assert code == 1
    assert "no recordings" in err


def test_a_hold_needs_an_entitled_person_and_a_reason(
    capsys: pytest.CaptureFixture[str],
    db: str,
    aged: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = ["recordings", "hold", "held", "--off", "--db", db]
    monkeypatch.delenv("HOTLINE_TOKEN", raising=False)
    code, _, err = run(capsys, *base, "--reason", "done")
    assert code == 2
    assert "entitled person" in err
    code, _, err = run(capsys, *base, "--reason", "done", "--token", "hlk_0123456789ab_nope")
    assert code == 1
    assert "not an active user" in err
    agent = add_person(db, "ann", "qa")
    code, _, err = run(capsys, *base, "--reason", "done", "--token", agent)
    assert code == 1
    assert "role 'qa' may not change legal holds" in err
    admin = add_person(db, "lee", "admin")
    code, _, err = run(capsys, *base, "--reason", "   ", "--token", admin)
    assert code == 1
    assert "a reason is required" in err
    held = select(Recording.legal_hold).where(Recording.id == "rec-held")
    assert query(db, held) == [(True,)]  # still on hold
    assert [(who, action) for who, action, _, _ in audit(db)] == [
        ("ann", "recording.hold_off_refused"),
        ("lee", "recording.hold_off_refused"),
    ]
    code, _, err = run(capsys, *base, "--reason", "case closed", "--token", admin)
    assert code == 0, err
    assert query(db, held) == [(False,)]
    assert audit(db)[-1] == ("lee", "recording.hold_off", "call:held", "case closed")


def test_export_decrypts_and_audits(
    capsys: pytest.CaptureFixture[str],
    db: str,
    aged: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear = aged["fresh"].read_bytes()
    encrypt_file(bytes(range(32)), aged["fresh"], recording_id="rec-fresh")
    recatalogue(db, "rec-fresh", aged["fresh"])
    monkeypatch.setenv("HOTLINE_RECORDING_KEY", KEY_HEX)
    monkeypatch.setenv("HOTLINE_TOKEN", add_person(db, "kim", "qa"))
    out_file = tmp_path / "out" / "fresh.wav"
    base = ["recordings", "export", "fresh", "--to", str(out_file), "--db", db]
    code, _, err = run(capsys, *base, "--reason", "customer dispute 88")
    assert code == 0, err
    assert out_file.read_bytes() == clear
    assert out_file.stat().st_mode & 0o777 == 0o600  # readable by its owner only
    assert audit(db)[-1] == (
        "kim",
        "recording.export",
        "recording:rec-fresh",
        "customer dispute 88",
    )
    out_file.write_bytes(b"someone else's file")
    code, _, err = run(capsys, *base, "--reason", "again")
    assert code == 1
    assert "never overwrites" in err
    assert out_file.read_bytes() == b"someone else's file"
    assert audit(db)[-1][:2] == ("kim", "recording.export_refused")


def test_export_refusals_are_audited(
    capsys: pytest.CaptureFixture[str],
    db: str,
    aged: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOTLINE_RECORDING_KEY", raising=False)
    encrypt_file(bytes(range(32)), aged["fresh"], recording_id="rec-fresh")
    recatalogue(db, "rec-fresh", aged["fresh"])
    out_file = tmp_path / "x.wav"
    base = ["recordings", "export", "fresh", "--to", str(out_file), "--reason", "r", "--db", db]
    code, _, err = run(capsys, *base, "--token", add_person(db, "ann", "agent"))
    assert code == 1
    assert "may not export" in err
    code, _, err = run(capsys, *base, "--token", add_person(db, "bob", "supervisor"))
    assert code == 1
    assert "no key" in err
    assert not out_file.exists()
    actions = [(who, action) for who, action, _, _ in audit(db)]
    assert actions == [("ann", "recording.export_refused"), ("bob", "recording.export_refused")]


def test_export_refuses_a_file_that_is_not_the_catalogued_one(
    capsys: pytest.CaptureFixture[str],
    db: str,
    aged: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTLINE_TOKEN", add_person(db, "kim", "qa"))
    aged["fresh"].write_bytes(aged["old"].read_bytes() + b"x")  # replaced on disk
    out_file = tmp_path / "x.wav"
    base = ["recordings", "export", "fresh", "--to", str(out_file), "--reason", "r", "--db", db]
    code, _, err = run(capsys, *base)
    assert code == 1
    assert "checksum" in err
    assert not out_file.exists()
    assert audit(db)[-1][1] == "recording.export_refused"
    assert "[checksum]" in (audit(db)[-1][3] or "")


def test_search_filters(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> None:
    day = datetime(2026, 11, 18, 9, tzinfo=UTC)
    wav = tmp_path / "x.wav"
    add_rows(
        db,
        [
            *recorded_call("s1", started_at=day, path=wav, number="+8613811112222", order="O-1"),
            *recorded_call(
                "s2", started_at=day + timedelta(days=2), path=wav, agent="a2", queue="complaints"
            ),
            *recorded_call("s3", started_at=day - timedelta(days=5), path=wav, number="555"),
        ],
    )

    def ids(*filters: str) -> list[str]:
        code, out, _ = run(capsys, "recordings", "search", "--db", db, "--json", *filters)
        assert code == 0
        return [r["call_id"] for r in json.loads(out)["recordings"]]

    assert ids() == ["s2", "s1", "s3"]  # newest first
    assert ids("--number", "2222") == ["s1"]
    assert ids("--order", "O-1") == ["s1"]
    assert ids("--agent", "a2") == ["s2"]
    assert ids("--queue", "complaints") == ["s2"]
    assert ids("--from", "2026-11-18", "--to", "2026-11-18") == ["s1"]
    assert ids("--from", "2026-11-14") == ["s2", "s1"]
    assert ids("--number", "%") == []  # LIKE wildcards are escaped


def test_exit_codes_for_unreachable_db_and_bad_usage(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = f"sqlite+aiosqlite:///{tmp_path}/none.db"
    code, _, err = run(capsys, "recordings", "search", "--db", missing)
    assert code == 3
    assert "unreachable" in err
    code, _, _ = run(capsys, "recordings", "search", "--db", "mysql://x/y")
    assert code == 2
    code, _, _ = run(
        capsys, "recordings", "search", "--db", "postgresql+asyncpg://postgres@127.0.0.1:1/x"
    )
    assert code == 3
    with pytest.raises(SystemExit) as exc:
        main(["recordings", "hold", "c1", "--reason", "x", "--who", "y"])  # --on/--off missing
    assert exc.value.code == 2


def test_play_and_download_are_audited_and_agents_refused(db: str) -> None:
    async def body() -> list[bool]:
        engine = create_engine(db)
        try:
            async with session_factory(engine)() as session, session.begin():
                return [
                    record_access(
                        session,
                        who="sue",
                        role="qa",
                        action="recording.play",
                        recording_id="r1",
                        reason="weekly QA",
                        now=NOW,
                    ),
                    record_access(
                        session,
                        who="al",
                        role="agent",
                        action="recording.download",
                        recording_id="r1",
                        reason="curious",
                        now=NOW,
                    ),
                ]
        finally:
            await engine.dispose()

    assert asyncio.run(body()) == [True, False]
    assert audit(db) == [
        ("sue", "recording.play", "recording:r1", "weekly QA"),
        ("al", "recording.download_refused", "recording:r1", "curious"),
    ]
