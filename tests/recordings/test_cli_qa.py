"""``hotline qa sample|score|report|flags`` on real SQLite files, and the sampling query on
the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd.cli.main import main
from acd.storage.engine import create_engine
from acd.storage.migrate import upgrade
from acd.storage.models import AuditLog, QaSample, QaScore
from recordings.sampling import default_seed
from tests.recordings.conftest import CONFIG_DIR, add_rows, at, query, recorded_call, write_wav
from tests.storage.conftest import PG_HOST_PART, admin_connection

ALL_YES = (
    "greeting=yes,identity_checked=yes,need_confirmed=yes,empathy=yes,"
    "solution_commitment=yes,closing=yes,customer_hung_up_first=yes,no_banned_phrases=yes"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", str(CONFIG_DIR)])
    out, err = capsys.readouterr()
    return code, out, err


def week_rows(tmp_path: Path) -> list[object]:
    """W47: 40 ordinary calls of a1..a4 plus rule calls; and calls outside the week."""
    wav = tmp_path / "x.wav"
    rows: list[object] = []
    for i in range(40):
        rows += recorded_call(
            f"c{i:02}", started_at=at(16 + i % 6, 3 + i % 5), path=wav, agent=f"a{1 + i % 4}"
        )
    rows += recorded_call("comp", started_at=at(18), path=wav, queue="complaints", agent="a1")
    rows += recorded_call("short", started_at=at(19), path=wav, talk_s=8, agent="a2")
    rows += recorded_call("xfer", started_at=at(20), path=wav, transfers=[{"to": "a3"}])
    rows += recorded_call("hangup", started_at=at(20, 12), path=wav, hung_up_by="agent")
    rows += recorded_call("rare", started_at=at(21), path=wav, agent="a9")
    rows += recorded_call("prev", started_at=at(14), path=wav, queue="complaints")
    rows += recorded_call("next", started_at=at(23, 18), path=wav, queue="complaints")
    return rows


def check_sample(capsys: pytest.CaptureFixture[str], db: str) -> dict[str, Any]:
    code, out, err = run(capsys, "qa", "sample", "--week", "2026-W47", "--db", db, "--json")
    assert code == 0, err
    body: dict[str, Any] = json.loads(out)
    assert set(body) == {"population", "sampled", "by_agent", "seed"}
    assert body["population"] == 45
    assert body["seed"] == default_seed("2026-W47")
    sampled = body["sampled"]
    assert {"comp", "short", "xfer", "hangup", "rare"} <= set(sampled)
    assert not {"prev", "next"} & set(sampled)
    assert len(sampled) >= 5  # ceil(0.10 * 45)
    assert {"a1", "a2", "a3", "a4", "a9"} <= set(body["by_agent"])
    return body


def test_sample_is_stored_and_fixed_once_drawn(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    add_rows(db, week_rows(tmp_path))
    first = check_sample(capsys, db)
    # drawn again: refused, the stored sample stays (shown with its time in the centre's zone)
    code, out, err = run(capsys, "qa", "sample", "--week", "2026-W47", "--db", db, "--json")
    assert (code, out) == (1, "")
    assert "the sample of 2026-W47 was drawn 20" in err
    assert "+08:00 (" in err  # Asia/Shanghai, not UTC
    assert f"of 45 calls, seed {first['seed']}, rate 0.1) and is fixed" in err
    replace = ("qa", "sample", "--week", "2026-W47", "--seed", "7", "--rate", "0.5", "--db", db)
    assert run(capsys, *replace, "--replace")[0] == 2  # a redraw says who and why
    assert run(capsys, *replace, "--by", "sue")[0] == 2  # --by without --replace
    code, out, err = run(
        capsys, *replace, "--replace", "--by", "sue", "--reason", "wrong rate", "--json"
    )
    assert code == 0, err
    other = json.loads(out)
    assert other["seed"] == 7
    assert len(other["sampled"]) >= 23
    stored = query(
        db, select(QaSample.week, QaSample.drawing, QaSample.seed, QaSample.rate, QaSample.call_ids)
    )
    assert [(w, d, s, r) for w, d, s, r, _ in stored] == [
        ("2026-W47", 1, first["seed"], 0.1),
        ("2026-W47", 2, 7, 0.5),
    ]
    assert stored[0][4] == first["sampled"]
    audit = query(db, select(AuditLog.who, AuditLog.role, AuditLog.action, AuditLog.target,
                             AuditLog.reason))  # fmt: skip
    assert [tuple(a) for a in audit] == [
        ("sue", "qa", "qa.sample_redrawn", "2026-W47",
         "wrong rate (drawing 2 replaces drawing 1)"),
    ]  # fmt: skip
    # the flags follow the current drawing
    code, out, _ = run(capsys, "qa", "flags", "--week", "2026-W47", "--db", db, "--json")
    assert code == 0
    assert set(json.loads(out)["flags"]) == set(other["sampled"])


def test_sample_usage_errors(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert run(capsys, "qa", "sample", "--week", "2026-47", "--db", db)[0] == 2
    assert run(capsys, "qa", "sample", "--week", "2026-W47", "--rate", "2", "--db", db)[0] == 2


def test_scores_are_versioned_never_overwritten(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    add_rows(db, week_rows(tmp_path))
    code, out, err = run(
        capsys, "qa", "score", "c00", "--answers", ALL_YES, "--by", "sue", "--db", db, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["score"] == 100.0
    assert json.loads(out)["version"] == 1
    corrected = ALL_YES.replace("identity_checked=yes", "identity_checked=no")
    code, out, _ = run(
        capsys,
        "qa",
        "score",
        "c00",
        "--form",
        "standard",
        "--answers",
        corrected,
        "--by",
        "tom",
        "--db",
        db,
        "--json",
    )
    body = json.loads(out)
    assert (code, body["version"], body["score"], body["instant_fail"]) == (0, 2, 0.0, True)
    rows = query(db, select(QaScore.version, QaScore.score, QaScore.scored_by).order_by(QaScore.id))
    assert [tuple(r) for r in rows] == [(1, 100.0, "sue"), (2, 0.0, "tom")]

    empathy_no = ALL_YES.replace("empathy=yes", "empathy=no")
    run(capsys, "qa", "score", "c01", "--answers", empathy_no, "--by", "sue", "--db", db)
    code, out, _ = run(capsys, "qa", "report", "--by", "agent", "--db", db, "--json")
    assert code == 0
    assert json.loads(out)["rows"] == [  # c00 -> a1 (latest version only), c01 -> a2
        {"key": "a1", "scored_calls": 1, "average": 0.0, "instant_fails": 1},
        {"key": "a2", "scored_calls": 1, "average": 90.0, "instant_fails": 0},
    ]
    code, out, _ = run(capsys, "qa", "report", "--by", "form", "--db", db, "--json")
    assert json.loads(out)["rows"] == [
        {"key": "standard", "scored_calls": 2, "average": 45.0, "instant_fails": 1}
    ]


def test_a_score_for_an_unknown_call_is_refused(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    add_rows(db, week_rows(tmp_path))
    code, out, err = run(capsys, "qa", "score", "c99", "--answers", ALL_YES, "--by", "sue",
                         "--db", db)  # fmt: skip
    assert (code, out) == (1, "")
    assert "no call 'c99' in the database" in err
    assert query(db, select(QaScore.id)) == []


def test_score_usage_errors(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, err = run(
        capsys, "qa", "score", "c1", "--answers", "greeting=yes", "--by", "x", "--db", db
    )
    assert code == 2
    assert "unanswered" in err
    code, _, err = run(
        capsys, "qa", "score", "c1", "--form", "nope", "--answers", ALL_YES, "--by", "x", "--db", db
    )
    assert code == 2
    assert "nope" in err


def test_flags_for_the_sampled_calls(
    capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path
) -> None:
    good = write_wav(tmp_path / "good.wav", [("tone", 30.0)])
    quiet = write_wav(tmp_path / "quiet.wav", [("tone", 2.0), ("gap", 12.0), ("tone", 16.0)])
    rows = [
        *recorded_call("ok", started_at=at(17), path=good, talk_s=30, agent="a1"),
        *recorded_call("deadair", started_at=at(17, 11), path=quiet, talk_s=30, agent="a2"),
        *recorded_call("lost", started_at=at(17, 12), path=tmp_path / "gone.wav", agent="a3"),
        *recorded_call(
            "curt", started_at=at(17, 13), path=good, talk_s=30, agent="a4", hung_up_by="agent"
        ),
    ]
    add_rows(db, rows)
    assert run(capsys, "qa", "flags", "--week", "2026-W47", "--db", db)[0] == 1  # no sample yet
    assert run(capsys, "qa", "sample", "--week", "2026-W47", "--db", db)[0] == 0
    code, out, _ = run(capsys, "qa", "flags", "--week", "2026-W47", "--db", db, "--json")
    assert code == 0
    flags = {k: [f["code"] for f in v] for k, v in json.loads(out)["flags"].items()}
    assert flags == {
        "ok": [],
        "deadair": ["dead_air"],
        "lost": ["recording_missing"],
        "curt": ["agent_hung_up_first"],
    }


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        admin = await admin_connection()
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        engine = create_engine(f"postgresql+asyncpg://{PG_HOST_PART}/{name}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    async def drop() -> None:
        admin = await admin_connection()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    try:
        yield f"postgresql+asyncpg://{PG_HOST_PART}/{name}"
    finally:
        asyncio.run(drop())


@pytest.mark.postgres
def test_sample_on_postgresql_matches_sqlite(
    capsys: pytest.CaptureFixture[str], pg_url: str, db: str, tmp_path: Path
) -> None:
    add_rows(pg_url, week_rows(tmp_path))
    add_rows(db, week_rows(tmp_path))
    assert check_sample(capsys, pg_url) == check_sample(capsys, db)
    stored = query(pg_url, select(QaSample.population, QaSample.reasons))
    assert stored[0][0] == 45
    assert stored[0][1]["comp"] == ["queue:complaints"]
