"""Agent state control, queues, assignment and dispositions over the ASGI app."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.storage.commands import AppendAudit, InsertCallback, UpsertCall
from acd.storage.models import Callback
from tests.http.api_harness import (
    AGENT,
    SUPERVISOR,
    FakeAmi,
    person,
    running_api,
)


@pytest.mark.asyncio
async def test_openapi_schema_lists_the_api(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        paths = (await api.client.get("/openapi.json")).json()["paths"]
    for path in ("/agents", "/agents/{agent_id}/{action}", "/spy", "/recordings", "/metrics"):
        assert path in paths


@pytest.mark.asyncio
async def test_tokens_are_required_and_checked(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        assert (await api.client.get("/agents")).status_code == 401
        bad = await api.client.get("/agents", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        assert (await api.client.get("/agents", headers=AGENT)).status_code == 200


@pytest.mark.asyncio
async def test_agent_logs_in_pauses_with_a_reason_and_unpauses(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        r = await c.post("/agents/1001/login", headers=AGENT)
        assert r.status_code == 200
        assert r.json()["state"] == "ready"
        r = await c.post("/agents/1001/pause", headers=AGENT, json={"reason": "lunch"})
        assert r.json()["state"] == "paused"
        assert r.json()["pause_reason"] == "lunch"
        listed = {a["agent"]: a for a in (await c.get("/agents", headers=AGENT)).json()}
        assert listed["1001"]["state"] == "paused"
        assert listed["1002"]["state"] == "logged_out"
        r = await c.post("/agents/1001/unpause", headers=AGENT)
        assert r.json()["state"] == "ready"
        assert r.json()["pause_reason"] is None


@pytest.mark.asyncio
async def test_bad_agent_requests_are_refused_clearly(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        r = await c.post("/agents/9999/login", headers=AGENT)
        assert r.status_code == 404
        assert r.json()["detail"] == "unknown agent"  # the request is never echoed
        r = await c.post("/agents/1001/pause", headers=AGENT)  # logged out: cannot pause
        assert r.status_code == 409
        assert "not allowed in state logged_out" in r.json()["detail"]
        assert (await c.post("/agents/1001/dance", headers=AGENT)).status_code == 404
        r = await c.post("/agents/1001/logout?force=true", headers=AGENT)
        assert r.status_code == 403


@pytest.mark.asyncio
async def test_supervisor_forces_an_agent_out(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        await api.client.post("/agents/1002/login", headers=SUPERVISOR)
        r = await api.client.post("/agents/1002/logout?force=true", headers=SUPERVISOR)
        assert r.status_code == 200
        assert r.json()["state"] == "logged_out"


@pytest.mark.asyncio
async def test_agents_act_only_on_themselves_and_their_own_calls(tmp_path: Path) -> None:
    async with running_api(tmp_path, ami=FakeAmi()) as api:
        c = api.client
        key = await person(api, "wang.wei", "agent", agent_id="1002")
        assert (await c.post("/agents/1002/login", headers=key)).status_code == 200
        for action in ("login", "logout", "pause", "unpause"):
            r = await c.post(f"/agents/1001/{action}", headers=key)
            assert r.status_code == 403, action  # someone else's state: never
        assert (await c.post("/agents/1001/login", headers=AGENT)).status_code == 200  # 1001's
        theirs = api.on_call("1001", "PJSIP/1001-00000001")
        body = {"queue": "after_sales", "reason": "wrong queue"}
        assert (await c.post(f"/calls/{theirs.call_id}/transfer", headers=key, json=body)
                ).status_code == 403  # fmt: skip
        r = await c.post(f"/calls/{theirs.call_id}/recording/pause", headers=key)
        assert r.status_code == 403
        r = await c.post(
            f"/calls/{theirs.call_id}/disposition", headers=key, json={"code": "resolved"}
        )
        assert r.status_code == 403
        r = await c.post(
            f"/calls/{theirs.call_id}/disposition", headers=AGENT, json={"code": "resolved"}
        )
        assert r.status_code == 200
        audit = [w for w in api.written if isinstance(w, AppendAudit)]
        assert [(a.who, a.action) for a in audit] == [("agent-1001", "call.disposition")]
        r = await c.post("/agents/1001/pause?force=true", headers=key)
        assert r.status_code == 403


@pytest.mark.asyncio
async def test_queues_and_waiting_calls_show_a_waiting_caller(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        await api.enqueue("call-1", "orders")
        queues = (await api.client.get("/queues", headers=AGENT)).json()
        assert queues["orders"]["waiting"] == 1
        assert queues["complaints"]["waiting"] == 0
        assert queues["orders"]["agents_by_state"] == {"logged_out": 4}
        waiting = (await api.client.get("/calls/waiting", headers=AGENT)).json()
        assert [w["call_id"] for w in waiting] == ["call-1"]


@pytest.mark.asyncio
async def test_assign_needs_a_supervisor_and_reports_the_refusal_reason(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        await api.enqueue("call-1", "complaints")
        body = {"agent": "1003"}
        assert (await c.post("/calls/call-1/assign", headers=AGENT, json=body)).status_code == 403
        r = await c.post("/calls/call-1/assign", headers=SUPERVISOR, json=body)
        assert r.status_code == 409
        assert r.json()["detail"]["reason"] == "agent-not-ready"
        r = await c.post("/calls/gone/assign", headers=SUPERVISOR, json=body)
        assert r.status_code == 409
        assert r.json()["detail"]["reason"] == "caller-gone"


@pytest.mark.asyncio
async def test_malformed_json_is_a_422_with_fastapis_detail(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        r = await api.client.post(
            "/calls/call-1/assign",
            headers={**SUPERVISOR, "Content-Type": "application/json"},
            content=b"{not json",
        )
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.asyncio
async def test_disposition_codes_come_from_the_calls_queue(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        api.on_call("1001", "PJSIP/1001-00000001", queue="orders")
        url = "/calls/c-1001/disposition"
        r = await api.client.post(url, headers=AGENT, json={"code": "compensated"})
        assert r.status_code == 422
        assert "order_status_given" in r.json()["detail"]
        body = {
            "code": "follow_up",
            "resolved": False,
            "notes": "ring back",
            "follow_up_due": "2026-11-24T10:00:00+08:00",
        }
        r = await api.client.post(url, headers=AGENT, json=body)
        assert r.status_code == 200
        missing = await api.client.post("/calls/nope/disposition", headers=AGENT, json=body)
        assert missing.status_code == 404
    upserts = [w for w in api.written if isinstance(w, UpsertCall)]
    assert [(u.call_id, dict(u.values)) for u in upserts] == [
        ("c-1001", {"disposition_code": "follow_up", "resolved": False, "notes": "ring back"})
    ]
    audit = [w for w in api.written if isinstance(w, AppendAudit)]
    assert audit[0].action == "call.disposition"
    assert "2026-11-24T10:00:00+08:00" in (audit[0].reason or "")
    # the follow-up is booked as a call-back, which the scheduler dials when it is due
    (follow_up,) = [w for w in api.written if isinstance(w, InsertCallback)]
    assert (follow_up.call_id, follow_up.number, follow_up.queue) == ("c-1001", "5550100", "orders")
    assert follow_up.due_at == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.asyncio
async def test_a_follow_up_time_without_a_time_zone_is_refused(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        api.on_call("1001", "PJSIP/1001-00000001", queue="orders")
        body = {"code": "follow_up", "follow_up_due": "2026-11-24T10:00:00"}
        r = await api.client.post("/calls/c-1001/disposition", headers=AGENT, json=body)
        assert r.status_code == 422
        assert "time zone" in r.json()["detail"]
    assert not [w for w in api.written if isinstance(w, InsertCallback)]


@pytest.mark.asyncio
async def test_supervisors_list_call_backs_by_state(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        assert api.ctx.sessions is not None
        async with api.ctx.sessions() as session, session.begin():
            for i, state in enumerate(("pending", "done", "pending")):
                session.add(
                    Callback(
                        id=f"cb-{i}",
                        number=f"555000{i}",
                        queue="orders",
                        state=state,
                        requested_at=datetime(2026, 11, 23, tzinfo=UTC),
                        due_at=datetime(2026, 11, 23, 10 + i, tzinfo=UTC),
                    )
                )
        c = api.client
        assert (await c.get("/callbacks", headers=AGENT)).status_code == 403
        pending = (await c.get("/callbacks?state=pending", headers=SUPERVISOR)).json()
        assert [p["id"] for p in pending] == ["cb-2", "cb-0"]  # newest due first
        assert (await c.get("/callbacks?state=lost", headers=SUPERVISOR)).status_code == 422


@pytest.mark.asyncio
async def test_a_vip_caller_designated_to_an_experienced_agent_waits_for_that_agent(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        await api.enqueue("vip-1", "complaints", priority=15)
        body = {"agent": "1005"}  # Chen Jing: complaints level 5
        assert (await c.post("/calls/vip-1/designate", headers=AGENT, json=body)).status_code == 403
        r = await c.post("/calls/vip-1/designate", headers=SUPERVISOR, json=body)
        assert r.status_code == 200
        # another complaints agent logs in first: the VIP keeps waiting for 1005
        assert (await c.post("/agents/1006/login", headers=SUPERVISOR)).status_code == 200
        waiting = (await c.get("/calls/waiting", headers=SUPERVISOR)).json()
        assert [(w["call_id"], w["designated_agent"]) for w in waiting] == [("vip-1", "1005")]
        assert (await c.post("/agents/1005/login", headers=SUPERVISOR)).status_code == 200
        assert (await c.get("/calls/waiting", headers=SUPERVISOR)).json() == []
        assert api.floor.engaged_calls() == ["vip-1"]
        r = await c.post("/calls/gone/designate", headers=SUPERVISOR, json=body)
        assert (r.status_code, r.json()["detail"]["reason"]) == (409, "caller-gone")
