"""Roles and audit on the supervisor side: spy, recordings, metrics, the wallboard stream."""

from __future__ import annotations

import hashlib
import json
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.asterisk.ami.message import Message
from acd.storage.commands import AppendAudit
from acd.storage.models import AuditLog, Recording
from tests.http.api_harness import (
    AGENT,
    QA,
    SUPERVISOR,
    VIEWER,
    FakeAmi,
    person,
    running_api,
)

SPY = {"agent": "1002", "mode": "whisper", "from": "Local/phone@supervisor/n"}


@pytest.mark.asyncio
async def test_agent_token_cannot_spy(tmp_path: Path) -> None:
    ami = FakeAmi()
    async with running_api(tmp_path, ami=ami) as api:
        api.on_call("1002", "PJSIP/1002-0000000a")
        r = await api.client.post("/spy", headers=AGENT, json={**SPY, "mode": "barge"})
    assert r.status_code == 403
    assert ami.sent == []


@pytest.mark.asyncio
async def test_spy_refusals_are_clear(tmp_path: Path) -> None:
    async with running_api(tmp_path, ami=FakeAmi()) as api:
        r = await api.client.post("/spy", headers=SUPERVISOR, json=SPY)
        assert r.status_code == 409
        assert r.json()["detail"] == "agent 1002 is not on a call"
        r = await api.client.post("/spy", headers=SUPERVISOR, json={**SPY, "agent": "42"})
        assert r.status_code == 404
        r = await api.client.post("/spy", headers=SUPERVISOR, json={**SPY, "mode": "shout"})
        assert r.status_code == 422


@pytest.mark.asyncio
async def test_spy_rings_only_the_supervisors_own_phones(tmp_path: Path) -> None:
    ami = FakeAmi()
    async with running_api(tmp_path, ami=ami) as api:
        api.on_call("1002", "PJSIP/1002-0000000a")
        c = api.client
        for outside in ("PJSIP/0049301234567@trunk", "Local/0900123456@outbound/n", "PJSIP/1003"):
            r = await c.post("/spy", headers=SUPERVISOR, json={**SPY, "from": outside})
            assert r.status_code == 403, outside  # never an arbitrary dial string
        assert ami.sent == []
        no_phone = await person(api, "chen", "supervisor")  # no supervisors entry: no phones
        r = await c.post("/spy", headers=no_phone, json={"agent": "1002"})
        assert r.status_code == 403
        assert "no phone" in r.json()["detail"]
        zhao = await person(api, "zhao", "supervisor", supervisor_id="zhao")
        r = await c.post("/spy", headers=zhao, json={"agent": "1002", "mode": "listen"})
        assert r.status_code == 200  # the first of zhao's phones by default
        r = await c.post("/spy", headers=zhao, json={**SPY, "from": "PJSIP/1006"})
        assert r.status_code == 200
    assert [dict(headers)["Channel"] for _, headers in ami.sent] == [
        "Local/phone@supervisor/n",
        "PJSIP/1006",
    ]
    audit = [w for w in api.written if isinstance(w, AppendAudit)]
    assert {a.who for a in audit} == {"zhao"}  # the audit log names the person


@pytest.mark.asyncio
async def test_a_spy_asterisk_refuses_is_reported_and_audited_as_refused(tmp_path: Path) -> None:
    async with running_api(tmp_path, ami=FakeAmi(refuse=True)) as api:
        api.on_call("1002", "PJSIP/1002-0000000a")
        r = await api.client.post("/spy", headers=SUPERVISOR, json=SPY)
        assert r.status_code == 502
        assert "Originate failed" in r.json()["detail"]
        assert (await api.client.get("/spy", headers=SUPERVISOR)).json() == []
    audit = [w for w in api.written if isinstance(w, AppendAudit)]
    assert [a.action for a in audit] == ["spy.refused"]


@pytest.mark.asyncio
async def test_supervisor_whispers_and_the_session_is_audited(tmp_path: Path) -> None:
    ami = FakeAmi()
    channel = "Local/agent2@agents-00000012;1"
    async with running_api(tmp_path, ami=ami) as api:
        api.on_call("1002", channel)
        r = await api.client.post("/spy", headers=SUPERVISOR, json=SPY)
        assert r.status_code == 200
        assert r.json()["agent_channel"] == channel
        spyer = "Local/phone@supervisor-00000013;1"
        for name in ("ChanSpyStart", "ChanSpyStop"):
            api.ctx.desk.on_event(
                Message.build(Event=name, SpyerChannel=spyer, SpyeeChannel=channel)
            )
        sessions = (await api.client.get("/spy", headers=SUPERVISOR)).json()
    assert ami.sent == [
        (
            "Originate",
            [
                ("Channel", "Local/phone@supervisor/n"),
                ("Application", "ChanSpy"),
                ("Data", f"{channel},qwdE"),
                ("Async", "true"),
            ],
        )
    ]
    audit = [w for w in api.written if isinstance(w, AppendAudit)]
    assert [(a.who, a.action, a.target) for a in audit] == [
        ("supervisors", "spy.whisper", "agent:1002"),
        ("supervisors", "spy.stop", "agent:1002"),
    ]
    assert json.loads(audit[0].reason or "")["from"] == "Local/phone@supervisor/n"
    assert sessions[0]["started_at"] is not None
    assert sessions[0]["ended_at"] is not None


def _write_wav(path: Path) -> str:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * 800)
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _add_recording(api_sessions: object, path: Path) -> None:
    digest = _write_wav(path)
    async with api_sessions() as session:  # type: ignore[operator]
        session.add(
            Recording(
                id="rec-1",
                agent_id="1003",
                queue="complaints",
                started_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
                path=str(path),
                sha256=digest,
            )
        )
        await session.commit()


@pytest.mark.asyncio
async def test_recordings_are_for_qa_and_supervisors_and_every_play_is_audited(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        await _add_recording(api.ctx.sessions, tmp_path / "rec-1.wav")
        c = api.client
        assert (await c.get("/recordings", headers=AGENT)).status_code == 403
        hits = (await c.get("/recordings?agent=1003&queue=complaints", headers=QA)).json()
        assert [h["recording_id"] for h in hits] == ["rec-1"]
        none = await c.get("/recordings?from=2026-11-24T00:00:00Z", headers=QA)
        assert none.json() == []
        r = await c.get("/recordings/rec-1/audio?reason=peek", headers=AGENT)
        assert r.status_code == 403
        r = await c.get("/recordings/rec-1/audio", headers=SUPERVISOR)
        assert r.status_code == 422  # no reason given
        r = await c.get("/recordings/rec-1/audio?reason=complaint%20review", headers=SUPERVISOR)
        assert r.status_code == 200
        assert r.content == (tmp_path / "rec-1.wav").read_bytes()
        assert r.headers["content-type"] == "audio/wav"
        assert (await c.get("/recordings/nope/audio?reason=x", headers=QA)).status_code == 404
        assert api.ctx.sessions is not None
        async with api.ctx.sessions() as session:
            rows = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(a.who, a.role, a.action, a.reason) for a in rows] == [
        ("agent-1001", "agent", "recording.play_refused", "peek"),
        ("supervisors", "supervisor", "recording.play", "complaint review"),
        ("qa", "qa", "recording.play_failed", "x [unknown recording]"),
    ]


@pytest.mark.asyncio
async def test_metrics_are_prometheus_text(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        await api.enqueue("call-1", "orders")
        r = await api.client.get("/metrics", headers=AGENT)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples = dict(line.rsplit(" ", 1) for line in r.text.splitlines() if not line.startswith("#"))
    assert samples['hotline_callers_waiting{queue="orders"}'] == "1"
    assert samples['hotline_callers_waiting{queue="complaints"}'] == "0"
    assert samples["hotline_calls_offered_total"] == "0"
    assert samples["hotline_service_level"] == "NaN"
    assert samples["hotline_ami_up"] == "0"
    assert "# TYPE hotline_ami_reconnects_total counter" in r.text


@pytest.mark.asyncio
async def test_wallboard_page_is_open_and_its_data_needs_a_token(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        page = await api.client.get("/wallboard")
        assert page.status_code == 200
        assert '<script src="/static/wallboard.js"' in page.text
        script = await api.client.get("/static/wallboard.js")
        assert 'new EventSource("/events/wallboard")' in script.text  # no token in the URL
        assert (await api.client.get("/wallboard.json")).status_code == 401
        assert (await api.client.get("/wallboard.json?token=tok-viewer")).status_code == 401
        await api.enqueue("call-1", "complaints", waited_s=40)
        snap = (await api.client.get("/wallboard.json", headers=VIEWER)).json()
    assert snap["queues"]["complaints"]["waiting"] == 1
    assert snap["queues"]["complaints"]["longest_wait_s"] >= 40
    kinds = {a["kind"] for a in snap["alerts"]}
    assert kinds == {"ami_down", "service_level"}  # nobody logged in: the caller will wait
