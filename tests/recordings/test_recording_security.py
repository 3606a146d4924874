"""Recordings that cannot be swapped, left in clear, or taken unnoticed: encryption bound to the
recording, checksums checked at playback, dual-channel legs encrypted and catalogued, format-1
files converted only when their checksum still holds, every access attempt audited."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from acd.cli.main import main
from acd.storage.apply import apply_command
from acd.storage.commands import InsertRecording, decode_command, encode_command
from acd.storage.engine import create_engine, session_factory
from acd.storage.models import AuditLog, Recording, RecordingLeg
from recordings.catalogue import catalogue_file, dual_channel_paths
from recordings.crypto import LEGACY_MAGIC, read_recording
from tests.http.api_harness import QA, running_api
from tests.recordings.conftest import CONFIG_DIR, add_rows, query, recorded_call, write_wav

KEY = bytes(range(32))
T0 = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def _dual(tmp_path: Path, call_id: str) -> Path:
    mixed = write_wav(tmp_path / f"{call_id}.wav", [("tone", 1.0)])
    for leg in dual_channel_paths(mixed):
        write_wav(leg, [("tone", 1.0)])
    return mixed


def test_dual_channel_legs_are_encrypted_and_catalogued(tmp_path: Path, db: str) -> None:
    mixed = _dual(tmp_path, "c1")
    clear_in = dual_channel_paths(mixed)[0].read_bytes()
    command = catalogue_file(
        mixed, call_id="c1", agent_id="a1", queue="orders", started_at=T0, key=KEY
    )
    assert isinstance(command, InsertRecording)
    assert [leg[0] for leg in command.legs] == ["in", "out"]
    for _part, path, size, sha, encrypted in command.legs:
        stored = Path(path).read_bytes()
        assert encrypted
        assert b"RIFF" not in stored[:16]
        assert (size, sha) == (len(stored), hashlib.sha256(stored).hexdigest())
        assert Path(path).stat().st_mode & 0o777 == 0o600
    assert mixed.stat().st_mode & 0o777 == 0o600
    in_leg = Path(command.legs[0][1])
    assert read_recording(in_leg, KEY, recording_id="c1", part="in") == clear_in
    assert decode_command(encode_command(command)) == command  # survives the spool
    add_rows(db, recorded_call("c1", started_at=T0, path=mixed)[:1])  # the call row
    asyncio.run(_apply(db, command))
    rows = query(db, select(RecordingLeg.leg, RecordingLeg.encrypted).order_by(RecordingLeg.leg))
    assert rows == [("in", True), ("out", True)]


def test_reencrypt_converts_format_1_only_when_the_checksum_holds(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = {n: write_wav(tmp_path / f"{n}.wav", [("tone", 0.3)]).read_bytes() for n in "ab"}
    for name, audio in plain.items():  # as hotline 0.1 wrote them
        nonce = bytes([ord(name)]) * 12
        sealed = LEGACY_MAGIC + nonce + AESGCM(KEY).encrypt(nonce, audio, b"hotline-recording")
        (tmp_path / f"{name}.wav").write_bytes(sealed)
    rows = [*recorded_call("a", started_at=T0, path=tmp_path / "a.wav")]
    rows += recorded_call("b", started_at=T0, path=tmp_path / "b.wav")
    for row in rows:
        if isinstance(row, Recording):
            row.encrypted = True
    add_rows(db, rows)
    (tmp_path / "b.wav").write_bytes((tmp_path / "b.wav").read_bytes() + b"!")  # altered since
    monkeypatch.setenv("HOTLINE_RECORDING_KEY", KEY.hex())
    code = main(["recordings", "reencrypt", "--db", db, "--config", str(CONFIG_DIR), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert result["converted"] == [str(tmp_path / "a.wav")]
    assert result["problems"][0]["path"] == str(tmp_path / "b.wav")
    assert "checksum" in result["problems"][0]["error"]
    stored = (tmp_path / "a.wav").read_bytes()
    assert read_recording(tmp_path / "a.wav", KEY, recording_id="rec-a") == plain["a"]
    (sha,) = query(db, select(Recording.sha256).where(Recording.id == "rec-a"))[0]
    assert sha == hashlib.sha256(stored).hexdigest()
    assert query(db, select(AuditLog.action, AuditLog.target)) == [
        ("recording.reencrypt", "recording:rec-a")
    ]


async def _apply(db: str, command: InsertRecording) -> None:
    """What the daemon's storage writer does with the command."""
    engine = create_engine(db)
    try:
        async with session_factory(engine)() as session, session.begin():
            await apply_command(session, command, datetime.now(UTC))
    finally:
        await engine.dispose()


async def _catalogued(api_sessions: object, call_id: str, command: InsertRecording) -> None:
    async with api_sessions() as session:  # type: ignore[operator]
        session.add(
            Recording(
                id=command.recording_id,
                call_id=None,
                started_at=command.started_at,
                path=command.path,
                sha256=command.sha256,
                size_bytes=command.size_bytes,
                encrypted=command.encrypted,
            )
        )
        await session.commit()


@pytest.mark.asyncio
async def test_swapped_or_missing_files_are_never_played_and_every_attempt_is_audited(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        api.ctx.recording_key = KEY
        sessions = api.ctx.sessions
        assert sessions is not None
        played = {}
        for call_id in ("c1", "c2", "c3"):
            path = write_wav(tmp_path / f"{call_id}.wav", [("tone", 0.2 + len(played) / 10)])
            played[call_id] = path.read_bytes()
            command = catalogue_file(
                path, call_id=call_id, agent_id=None, queue="orders", started_at=T0, key=KEY
            )
            assert isinstance(command, InsertRecording)
            await _catalogued(sessions, call_id, command)
        c = api.client
        r = await c.get("/recordings/c1/audio?reason=dispute", headers=QA)
        assert (r.status_code, r.content) == (200, played["c1"])
        one, two = (tmp_path / "c1.wav").read_bytes(), (tmp_path / "c2.wav").read_bytes()
        (tmp_path / "c1.wav").write_bytes(two)  # swapped on disk
        (tmp_path / "c2.wav").write_bytes(one)
        for call_id in ("c1", "c2"):
            r = await c.get(f"/recordings/{call_id}/audio?reason=dispute", headers=QA)
            assert r.status_code == 409
            assert "checksum" in r.json()["detail"]
            assert b"RIFF" not in r.content
        (tmp_path / "c3.wav").unlink()
        r = await c.get("/recordings/c3/audio?reason=dispute", headers=QA)
        assert r.status_code == 410
        assert str(tmp_path) not in r.text  # no server paths in answers
        async with sessions() as session:
            rows = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(a.who, a.action, a.target, a.reason) for a in rows] == [
        ("qa", "recording.play", "recording:c1", "dispute"),
        ("qa", "recording.play_failed", "recording:c1", "dispute [checksum]"),
        ("qa", "recording.play_failed", "recording:c2", "dispute [checksum]"),
        ("qa", "recording.play_failed", "recording:c3", "dispute [missing]"),
    ]


@pytest.mark.asyncio
async def test_a_recording_swapped_together_with_its_checksum_still_fails_to_decrypt(
    tmp_path: Path,
) -> None:
    """Even with the catalogue rewritten to match, another call's file does not decrypt as
    this recording: the encryption is bound to the recording id."""
    async with running_api(tmp_path) as api:
        api.ctx.recording_key = KEY
        sessions = api.ctx.sessions
        assert sessions is not None
        for call_id in ("c1", "c2"):
            path = write_wav(tmp_path / f"{call_id}.wav", [("tone", 0.2)])
            command = catalogue_file(
                path, call_id=call_id, agent_id=None, queue="orders", started_at=T0, key=KEY
            )
            assert isinstance(command, InsertRecording)
            if call_id == "c1":  # c1's row now describes c2's file
                continue
            await _catalogued(sessions, "c1", _as(command, "c1"))
        r = await api.client.get("/recordings/c1/audio?reason=audit", headers=QA)
        assert r.status_code == 409
        assert "another recording" in r.json()["detail"]


def _as(command: InsertRecording, recording_id: str) -> InsertRecording:
    return replace(command, recording_id=recording_id)
