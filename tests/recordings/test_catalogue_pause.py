"""File layout, the MixMonitor options the daemon sends, cataloguing finished files, pauses."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.asterisk.agi import commands as cmd
from acd.storage.apply import apply_command
from acd.storage.commands import InsertRecording, UpsertCall
from acd.storage.engine import create_engine, session_factory
from acd.storage.models import Recording, RecordingPause
from recordings.catalogue import (
    CatalogueProblem,
    catalogue_file,
    dual_channel_paths,
    mixmonitor_options,
    recording_path,
)
from recordings.crypto import read_recording
from recordings.pause import RecordingPause as PauseState
from recordings.repository import save_pause
from tests.recordings.conftest import query, write_wav

T0 = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def test_path_layout_by_utc_date_queue_and_call() -> None:
    local = T0.astimezone(timezone(timedelta(hours=8)))
    path = recording_path(Path("/rec"), call_id="c-42", queue="orders", started_at=local)
    assert path == Path("/rec/2026/11/18/orders/c-42.wav")
    none = recording_path(Path("r"), call_id="c-1", queue=None, started_at=T0)
    assert none == Path("r/2026/11/18/_none/c-1.wav")


def test_path_follows_the_configured_layout() -> None:
    path = recording_path(
        Path("/rec"), "{queue}/{date}/{call_id}", call_id="c-7", queue="orders", started_at=T0
    )
    assert path == Path("/rec/orders/2026/11/18/c-7.wav")
    flat = recording_path(
        Path("/rec"), "{queue}-{call_id}", call_id="c-8", queue="q", started_at=T0
    )
    assert flat == Path("/rec/q-c-8.wav")


@pytest.mark.parametrize(("call_id", "queue"), [("../x", "q"), ("c1", "a/b"), ("..", "q")])
def test_path_refuses_names_escaping_the_root(call_id: str, queue: str) -> None:
    with pytest.raises(ValueError, match="file name"):
        recording_path(
            Path("/rec"), "{queue}/{call_id}", call_id=call_id, queue=queue, started_at=T0
        )


def test_path_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        recording_path(Path("/rec"), call_id="c", queue="q", started_at=datetime(2026, 1, 1))


def test_mixmonitor_options_travel_in_an_agi_exec() -> None:
    """On the agent's channel (the Dial's U() at the answer) the audio read is the agent's and
    the audio written the caller's: ``-in`` stays the caller's side, ``-out`` the agent's."""
    path = Path("/rec/2026/11/18/orders/c-42.wav")
    assert mixmonitor_options(path, dual_channel=False) == "b"
    dual = mixmonitor_options(path, dual_channel=True)
    assert dual == "br(/rec/2026/11/18/orders/c-42-out.wav)t(/rec/2026/11/18/orders/c-42-in.wav)"
    line = cmd.exec_("Dial", "PJSIP/1001", "20", f"U(hotline-answer^{path}^{dual})")
    assert line == f'EXEC Dial "PJSIP/1001,20,U(hotline-answer^{path}^{dual})"'


def test_each_answered_leg_has_its_own_file() -> None:
    at = datetime(2026, 11, 18, 9, tzinfo=UTC)
    first = recording_path(Path("/rec"), call_id="c-42", queue="orders", started_at=at)
    second = recording_path(Path("/rec"), call_id="c-42", queue="orders", started_at=at, leg=2)
    assert first == Path("/rec/2026/11/18/orders/c-42.wav")
    assert second == Path("/rec/2026/11/18/orders/c-42-2.wav")
    assert dual_channel_paths(second)[0] == Path("/rec/2026/11/18/orders/c-42-2-in.wav")
    with pytest.raises(ValueError, match="leg 0"):
        recording_path(Path("/rec"), call_id="c-42", queue="orders", started_at=at, leg=0)


@pytest.mark.parametrize(
    "name",
    ["/rec/c-42.wav", "/rec.d/c.tar.wav", "rel/x.y.z", "/rec/.wav", "/rec/x.", "/a.b/c", "c.wav"],
)
def test_leg_files_sit_beside_the_mixed_file_before_its_suffix(name: str) -> None:
    """The legs' names (built as strings on the way to the ring) are what pathlib would make:
    ``-in``/``-out`` after the stem, the suffix kept, none taken from a directory's dot."""
    path = Path(name)
    expected = tuple(path.with_name(f"{path.stem}-{leg}{path.suffix}") for leg in ("in", "out"))
    assert dual_channel_paths(path) == expected
    caller, agent = expected
    assert mixmonitor_options(path, dual_channel=True) == f"br({agent})t({caller})"


def test_catalogue_good_file_and_store_it(tmp_path: Path, db: str) -> None:
    path = write_wav(tmp_path / "c1.wav", [("tone", 3.0), ("gap", 1.0)])
    command = catalogue_file(path, call_id="c1", agent_id="a1", queue="orders", started_at=T0)
    assert isinstance(command, InsertRecording)
    assert command.duration_s == pytest.approx(4.0)
    assert command.size_bytes == path.stat().st_size
    assert command.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()

    async def store() -> None:
        engine = create_engine(db)
        try:
            async with session_factory(engine)() as session, session.begin():
                call = UpsertCall(
                    idempotency_key="c1:call", call_id="c1", values={"arrived_at": T0}
                )
                assert await apply_command(session, call, T0)
                assert await apply_command(session, command, T0)
                assert not await apply_command(session, command, T0)  # replay is a no-op
        finally:
            await engine.dispose()

    asyncio.run(store())
    rows = query(db, select(Recording.call_id, Recording.duration_s, Recording.sha256))
    assert rows == [("c1", pytest.approx(4.0), command.sha256)]


def test_catalogue_reports_missing_and_corrupt_files(tmp_path: Path) -> None:
    missing = catalogue_file(
        tmp_path / "no.wav", call_id="c1", agent_id=None, queue=None, started_at=T0
    )
    assert isinstance(missing, CatalogueProblem)
    assert missing.reason == "missing"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    corrupt = catalogue_file(bad, call_id="c2", agent_id=None, queue=None, started_at=T0)
    assert isinstance(corrupt, CatalogueProblem)
    assert corrupt.reason == "corrupt"


def test_pause_mutes_both_directions_and_resumes() -> None:
    pause = PauseState("c1", "PJSIP/1001-01", max_pause_s=60)
    assert pause.pause(T0, reason="card", by="a1") == [
        ("Channel", "PJSIP/1001-01"),
        ("Direction", "both"),
        ("State", "1"),
    ]
    assert pause.resume_at == T0 + timedelta(seconds=60)
    assert pause.pause(T0 + timedelta(seconds=30)) is None  # no extension by pressing again
    assert pause.resume_at == T0 + timedelta(seconds=60)
    resumed = pause.resume(T0 + timedelta(seconds=20))
    assert resumed is not None
    headers, record = resumed
    assert ("State", "0") in headers
    assert (record.paused_at, record.resumed_at, record.auto_resumed) == (
        T0,
        T0 + timedelta(seconds=20),
        False,
    )
    assert pause.resume(T0 + timedelta(seconds=21)) is None


def test_pause_resumes_automatically_after_the_limit() -> None:
    pause = PauseState("c1", "PJSIP/1001-01", max_pause_s=60)
    pause.pause(T0, reason="card")
    assert pause.resume_due(T0 + timedelta(seconds=59)) is None
    due = pause.resume_due(T0 + timedelta(seconds=61))
    assert due is not None
    assert due[1].auto_resumed
    assert due[1].resumed_at == T0 + timedelta(seconds=61)
    assert not pause.paused


def test_pause_closed_when_call_ends_and_logged(db: str) -> None:
    pause = PauseState("c1", "PJSIP/1001-01")
    pause.pause(T0, reason="card", by="a1")
    record = pause.call_ended(T0 + timedelta(seconds=5))
    assert record is not None

    async def store() -> None:
        engine = create_engine(db)
        try:
            async with session_factory(engine)() as session, session.begin():
                save_pause(session, record)
        finally:
            await engine.dispose()

    asyncio.run(store())
    rows = query(
        db, select(RecordingPause.call_id, RecordingPause.reason, RecordingPause.resumed_at)
    )
    assert rows == [("c1", "card", T0 + timedelta(seconds=5))]


def test_catalogue_encrypts_at_rest_after_reading_the_duration(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "c1.wav", [("tone", 2.0)])
    clear = path.read_bytes()
    key = bytes(range(32))
    command = catalogue_file(
        path, call_id="c1", agent_id="a1", queue="orders", started_at=T0, key=key
    )
    assert isinstance(command, InsertRecording)
    assert command.encrypted
    assert command.duration_s == pytest.approx(2.0)
    stored = path.read_bytes()
    assert b"RIFF" not in stored[:16]
    assert command.sha256 == hashlib.sha256(stored).hexdigest()
    assert read_recording(path, key, recording_id="c1") == clear
    again = catalogue_file(
        path, call_id="c1", agent_id="a1", queue="orders", started_at=T0, key=key
    )
    assert isinstance(again, InsertRecording)
    assert again.encrypted
    assert again.sha256 == command.sha256
