"""Real SQLite files migrated to head, real WAV files written with the ``wave`` module, and
helpers to put calls and their recordings in the database the way the daemon would."""

from __future__ import annotations

import asyncio
import hashlib
import math
import wave
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from acd.identity.users import add_user
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import upgrade
from acd.storage.models import Call, Recording

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
RATE = 8000


def write_wav(path: Path, segments: Sequence[tuple[str, float]], channels: int = 1) -> Path:
    """A 16-bit 8 kHz WAV made of ("tone", seconds) and ("gap", seconds) segments."""
    frames = bytearray()
    for kind, seconds in segments:
        for i in range(int(seconds * RATE)):
            value = int(8000 * math.sin(2 * math.pi * 400 * i / RATE)) if kind == "tone" else 0
            frames += value.to_bytes(2, "little", signed=True) * channels
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/hotline.db"

    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    return url


@pytest.fixture
def db(tmp_path: Path) -> str:
    return migrated_sqlite(tmp_path)


def recorded_call(
    call_id: str,
    *,
    started_at: datetime,
    path: Path,
    agent: str | None = "a1",
    queue: str | None = "orders",
    talk_s: float = 120.0,
    number: str | None = "+8613800000000",
    order: str | None = None,
    hung_up_by: str | None = "caller",
    transfers: list[Any] | None = None,
    legal_hold: bool = False,
    duration_s: float | None = None,
) -> list[Any]:
    call = Call(
        id=call_id,
        arrived_at=started_at - timedelta(seconds=30),
        answered_at=started_at,
        ended_at=started_at + timedelta(seconds=talk_s),
        agent_id=agent,
        queue=queue,
        caller_number=number,
        order_number=order,
        hung_up_by=hung_up_by,
        transfers=transfers,
        outcome="answered",
    )
    rec = Recording(
        id=f"rec-{call_id}",
        call_id=call_id,
        agent_id=agent,
        queue=queue,
        started_at=started_at,
        duration_s=talk_s if duration_s is None else duration_s,
        path=str(path),
        legal_hold=legal_hold,
        # as catalogued: the stored file's hash, which playback and export check
        sha256=hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None,
    )
    return [call, rec]


def recatalogue(url: str, recording_id: str, path: Path, *, encrypted: bool = True) -> None:
    """The row's hash (and flag) as cataloguing would have stored them for ``path`` now."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                row = await session.get(Recording, recording_id)
                assert row is not None
                row.sha256, row.encrypted = digest, encrypted
        finally:
            await engine.dispose()

    asyncio.run(run())


def add_person(url: str, user_id: str, role: str) -> str:
    """A user with a personal key (``hotline users add``); returns the key."""

    async def run() -> str:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                _, issued = await add_user(
                    session, user_id=user_id, name=user_id, role=role,
                    agent_id="a1" if role == "agent" else None, by="test", now=datetime.now(UTC),
                )  # fmt: skip
                return issued.key
        finally:
            await engine.dispose()

    return asyncio.run(run())


def add_rows(url: str, rows: Sequence[Any]) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                session.add_all(rows)
        finally:
            await engine.dispose()

    asyncio.run(run())


def query(url: str, stmt: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                return list((await session.execute(stmt)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def at(day: int, hour: int = 10) -> datetime:
    """A time in November 2026 (UTC); 2026-11-16..22 is ISO week 2026-W47."""
    return datetime(2026, 11, day, hour, tzinfo=UTC)
