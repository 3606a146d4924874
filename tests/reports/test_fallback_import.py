"""The fallback import job on real files and real databases (SQLite file, scratch PostgreSQL).

The files hold the lines Asterisk 22.10.1 wrote for the q6 calls (tests/fixtures/asterisk-dev);
the capture machine ran in UTC, so Master.csv is read in UTC here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, text

from acd.reports.build import build_report
from acd.reports.fallback_import import FallbackImport, agent_ids_by_member
from acd.settings.schema_system import FallbackImportSettings
from acd.storage.apply import apply_batch
from acd.storage.commands import UpsertCall
from acd.storage.engine import create_engine
from acd.storage.migrate import upgrade
from acd.storage.models import Call
from acd.storage.timeline import TimelineStep
from tests.dev_captures import capture_text
from tests.storage.conftest import db_url  # noqa: F401 - the fixture

LOG = capture_text("q6_queue_log_sample.txt").splitlines(keepends=True)
CDR = capture_text("q6_cdr_master_csv_sample.txt").splitlines(keepends=True)
NOW = 1796421043 + 3600.0
MEMBERS = {"Agent 1003": "1003"}
ANSWERED = "1796421003.52"


class Files:
    def __init__(self, root: Path) -> None:
        self.queue_log = root / "queue_log"
        self.cdr = root / "cdr-csv" / "Master.csv"
        self.cdr.parent.mkdir(parents=True)

    def append(self, log: list[str], cdr: list[str]) -> None:
        with self.queue_log.open("a", encoding="utf-8") as f:
            f.writelines(log)
        with self.cdr.open("a", encoding="utf-8") as f:
            f.writelines(cdr)

    def write_raw(self, part: str) -> None:
        with self.queue_log.open("a", encoding="utf-8") as f:
            f.write(part)

    def settings(self) -> FallbackImportSettings:
        return FallbackImportSettings(
            queue_log=str(self.queue_log), cdr_csv=str(self.cdr), cdr_timezone="UTC"
        )


@pytest_asyncio.fixture
async def engine(db_url: str) -> AsyncIterator[Any]:  # noqa: F811 - the fixture
    engine = create_engine(db_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


def job(engine: Any, files: Files, **kw: Any) -> FallbackImport:
    kw.setdefault("from_start", True)
    return FallbackImport(engine, files.settings(), MEMBERS, clock=lambda: NOW, **kw)


async def rows(engine: Any) -> dict[str, Any]:
    async with engine.connect() as conn:
        result = await conn.execute(select(Call).order_by(Call.id))
        return {row.id: row for row in result}


@pytest.mark.asyncio
async def test_the_calls_are_imported_once_whatever_runs_again(engine: Any, tmp_path: Path) -> None:
    files = Files(tmp_path)
    files.append(LOG, CDR)
    first = await job(engine, files).run_once()
    assert (first.inserted, first.completed, first.pending) == (5, 0, False)
    stored = await rows(engine)
    assert list(stored) == sorted(
        ["1796421003.52", "1796421020.58", "1796421028.62", "1796421029.66", "1796421037.70"]
    )
    answered = stored[ANSWERED]
    assert answered.handled_by == "fallback"
    assert (answered.outcome, answered.agent_id, answered.hung_up_by) == (
        "answered",
        "1003",
        "caller",
    )
    assert answered.answered_at == datetime.fromtimestamp(1796421009, UTC)
    assert answered.ended_at == datetime.fromtimestamp(1796421017, UTC)
    assert (answered.linkedid, answered.caller_number, answered.ring_count) == (
        "1796421003.51",
        "5556765",
        1,
    )
    assert [s["kind"] for s in answered.timeline] == ["queued", "offered", "answered", "ended"]
    assert {r.outcome for r in stored.values()} == {"answered", "abandoned", "timeout"}
    # a new process (a restart) continues from the stored positions: nothing again
    again = await job(engine, files).run_once()
    assert (again.inserted, again.completed, again.already) == (0, 0, 0)
    assert len(await rows(engine)) == 5


@pytest.mark.asyncio
async def test_a_call_split_across_runs_and_a_half_written_line(
    engine: Any, tmp_path: Path
) -> None:
    files = Files(tmp_path)
    files.append(LOG[:3], [])  # the answered call is talking
    files.write_raw(LOG[3][:20])  # COMPLETECALLER half written
    importer = job(engine, files)
    assert (await importer.run_once()).inserted == 0
    files.write_raw(LOG[3][20:])
    files.append([], [r for r in CDR if ANSWERED in r])
    assert (await importer.run_once()).inserted == 1
    files.append(LOG[4:], [r for r in CDR if ANSWERED not in r])
    assert (await importer.run_once()).inserted == 4
    assert len(await rows(engine)) == 5


@pytest.mark.asyncio
async def test_the_first_run_starts_at_the_end_of_the_files(engine: Any, tmp_path: Path) -> None:
    files = Files(tmp_path)
    files.append(LOG[:4], [r for r in CDR if ANSWERED in r])  # history before hotline
    importer = job(engine, files, from_start=False)
    assert (await importer.run_once()).inserted == 0
    files.append(LOG[4:], [r for r in CDR if ANSWERED not in r])
    assert (await importer.run_once()).inserted == 4
    assert ANSWERED not in await rows(engine)


@pytest.mark.asyncio
async def test_a_missing_file_is_waited_for_then_read_from_its_start(
    engine: Any, tmp_path: Path
) -> None:
    files = Files(tmp_path)
    importer = job(engine, files, from_start=False)
    assert (await importer.run_once()).inserted == 0  # nothing there yet
    files.append(LOG, CDR)  # Asterisk writes its first lines
    assert (await importer.run_once()).inserted == 5


@pytest.mark.asyncio
async def test_a_rotated_file_is_read_from_its_start_and_makes_no_row_twice(
    engine: Any, tmp_path: Path
) -> None:
    files = Files(tmp_path)
    files.append(LOG[:4], [r for r in CDR if ANSWERED in r])
    assert (await job(engine, files).run_once()).inserted == 1
    # logrotate: a new queue_log (another inode) holding the same call and the rest
    files.queue_log.rename(tmp_path / "queue_log.1")
    files.cdr.rename(tmp_path / "Master.csv.1")
    files.append(LOG, CDR)
    result = await job(engine, files).run_once()
    assert (result.inserted, result.already) == (4, 1)
    assert len(await rows(engine)) == 5


@pytest.mark.asyncio
async def test_a_daemon_row_is_completed_and_keeps_what_the_daemon_knew(
    engine: Any, tmp_path: Path
) -> None:
    arrived = datetime.fromtimestamp(1796420990, UTC)
    queued = datetime.fromtimestamp(1796420995, UTC)
    daemon_row = {
        "arrived_at": arrived,
        "caller_number": "5556765",
        "queue": "orders",
        "queued_at": queued,
        "ivr_reason": "order_enquiry",
        "outcome": "fallback",  # handed back to the dialplan when the daemon stopped
        "ended_at": datetime.fromtimestamp(1796421002, UTC),
        "hung_up_by": "system",
    }
    steps = (TimelineStep(seq=1, at=arrived, kind="arrived"),)
    async with engine.begin() as conn:
        await apply_batch(
            conn,
            [UpsertCall(idempotency_key="k1", call_id=ANSWERED, values=daemon_row, timeline=steps)],
            datetime.now(UTC),
        )
    files = Files(tmp_path)
    files.append(LOG, CDR)
    result = await job(engine, files).run_once()
    assert (result.inserted, result.completed) == (4, 1)
    row = (await rows(engine))[ANSWERED]
    assert (row.handled_by, row.outcome, row.agent_id) == ("fallback", "answered", "1003")
    assert (row.arrived_at, row.queued_at, row.queue, row.ivr_reason) == (
        arrived,
        queued,
        "orders",
        "order_enquiry",
    )
    assert row.answered_at == datetime.fromtimestamp(1796421009, UTC)
    assert row.ended_at == datetime.fromtimestamp(1796421017, UTC)
    assert [s["kind"] for s in row.timeline] == [
        "arrived",
        "queued",
        "offered",
        "answered",
        "ended",
    ]
    assert [s["seq"] for s in row.timeline] == [1, 2, 3, 4, 5]
    # the daemon's spool replayed late (it was cut off from the database): the row stays
    async with engine.begin() as conn:
        late = UpsertCall(idempotency_key="k2", call_id=ANSWERED, values=daemon_row)
        await apply_batch(conn, [late], datetime.now(UTC))
        await apply_batch(
            conn,
            [UpsertCall(idempotency_key="k3", call_id=ANSWERED, values={"outcome": "failed"})],
            datetime.now(UTC),
        )
    row = (await rows(engine))[ANSWERED]
    assert (row.outcome, row.handled_by) == ("answered", "fallback")


@pytest.mark.asyncio
async def test_reports_count_the_fallback_calls(engine: Any, tmp_path: Path) -> None:
    files = Files(tmp_path)
    files.append(LOG, CDR)
    await job(engine, files).run_once()
    url = engine.url
    start = datetime.fromtimestamp(1796421000, UTC)
    end = datetime.fromtimestamp(1796421100, UTC)
    report = await build_report(url, start=start, end=end, by="handled_by")
    total = report.total.summary
    assert (total.offered, total.answered, total.abandoned, total.fallback_handled) == (5, 1, 4, 5)
    assert [(r.group, r.calls) for r in report.rows] == [("fallback", 5)]


@pytest.mark.asyncio
async def test_bad_lines_are_counted_and_skipped(engine: Any, tmp_path: Path) -> None:
    files = Files(tmp_path)
    files.append(["not a queue_log line\n", *LOG], ['"broken\n', *CDR])
    result = await job(engine, files).run_once()
    assert (result.inserted, result.bad_lines) == (5, 2)


def test_member_names_two_agents_share_are_left_out() -> None:
    names = agent_ids_by_member([("Li Na", "1001"), ("Wang Wei", "1002"), ("Li Na", "1009")])
    assert names == {"Wang Wei": "1002"}


@pytest.mark.asyncio
async def test_the_position_is_stored_with_the_rows(engine: Any, tmp_path: Path) -> None:
    files = Files(tmp_path)
    files.append(LOG, CDR)
    await job(engine, files).run_once()
    async with engine.connect() as conn:
        stored = dict(
            (await conn.execute(text('SELECT source, "offset" FROM import_positions'))).all()
        )
    assert stored == {
        "queue_log": len("".join(LOG).encode()),
        "cdr_csv": len("".join(CDR).encode()),
    }


@pytest.mark.asyncio
async def test_no_run_while_the_daemons_writes_wait_in_its_spool(
    engine: Any, tmp_path: Path
) -> None:
    # The daemon's rows of these calls may be in its spool: a run now would insert the
    # fallback's rows, lose to the replayed ones and still move the positions past the lines.
    files = Files(tmp_path)
    files.append(LOG, CDR)
    settings = files.settings().model_copy(update={"every_s": 0.01})
    asked = 0
    held_twice, round_after_release = asyncio.Event(), asyncio.Event()

    def hold() -> bool:
        nonlocal asked
        asked += 1
        if asked == 2:
            held_twice.set()
        elif asked == 4:  # the 3rd round (released) is over
            round_after_release.set()
        return asked <= 2

    imports = FallbackImport(
        engine, settings, MEMBERS, clock=lambda: NOW, from_start=True, hold=hold
    )
    task = asyncio.create_task(imports.run())
    try:
        await held_twice.wait()
        assert (imports.runs, await rows(engine)) == (0, {})
        await round_after_release.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert imports.runs == 1
    assert len(await rows(engine)) == 5
