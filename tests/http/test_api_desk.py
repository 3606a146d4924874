"""The agent desktop's data (``/desk.json``, ``/events/desk``), ``GET /calls``, pause reasons
from config, agents never seen changing, and state changes from a signed-in page (cookie plus the
session's anti-forgery header)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from acd.daemon.call_steps import Arrival, Identified, IvrFinished, Queued
from acd.daemon.calls import Call
from acd.http import routes_desk
from acd.http.board_figures import BoardFigures
from acd.storage.models import Call as CallRow
from tests.http.api_harness import AGENT, SUPERVISOR, VIEWER, Api, person, running_api


def _key(header: dict[str, str]) -> str:
    return header["Authorization"].split()[1]


async def _signed_in(api: Api, header: dict[str, str]) -> str:
    """Sign the client in with a key; the session's anti-forgery value."""
    r = await api.client.post("/session", json={"key": _key(header)})
    assert r.status_code == 200
    csrf: str = (await api.client.get("/session")).json()["csrf"]
    return csrf


def _waiting_call(
    api: Api, call_id: str, number: str, *, vip: bool = False, queue: str = "orders"
) -> Call:
    """A caller in the registry who went through the IVR (what the pop shows)."""
    now = time.time()
    call = Call(Arrival(call_id, f"u-{call_id}", "PJSIP/trunk-1", number, "Caller", now - 30))
    call.add_step(Identified(now - 29, "Wang Fang", vip, None))
    path = ({"node": "main", "keys": ["1"]}, {"node": "orders", "keys": ["1", "2"]})
    call.add_step(IvrFinished(now - 20, "queue", queue, path, "order_enquiry", "20261123"))
    call.add_step(Queued(now - 20, queue, 2))
    api.registry.open(call)
    return call


async def _add_rows(api: Api, *rows: CallRow) -> None:
    assert api.ctx.sessions is not None
    async with api.ctx.sessions() as session, session.begin():
        session.add_all(rows)


@pytest.mark.asyncio
async def test_a_signed_in_page_changes_state_only_with_its_anti_forgery_header(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        key = await person(api, "li.na", "agent", agent_id="1001")
        csrf = await _signed_in(api, key)
        assert (await c.get("/session")).json()["agent"] == "1001"
        assert (await c.post("/agents/1001/login")).status_code == 401  # the cookie alone
        forged = {"X-Hotline-CSRF": "x" + csrf[1:]}
        assert (await c.post("/agents/1001/login", headers=forged)).status_code == 401
        page = {"X-Hotline-CSRF": csrf}
        r = await c.post("/agents/1001/login", headers=page)
        assert (r.status_code, r.json()["state"]) == (200, "ready")
        assert (await c.post("/agents/1002/login", headers=page)).status_code == 403
        # a rotated or different person's value does not fit this session
        other = await person(api, "wang.wei", "agent", agent_id="1002")
        async with httpx.AsyncClient(transport=c._transport, base_url=c.base_url) as second:
            await second.post("/session", json={"key": _key(other)})
            theirs = (await second.get("/session")).json()["csrf"]
        assert theirs != csrf
        r = await c.post("/agents/1001/logout", headers={"X-Hotline-CSRF": theirs})
        assert r.status_code == 401


@pytest.mark.asyncio
async def test_pause_reasons_come_from_agents_yaml_by_name_or_code(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        await c.post("/agents/1001/login", headers=AGENT)
        r = await c.post("/agents/1001/pause", headers=AGENT, json={"reason": "smoke"})
        assert r.status_code == 422
        assert "not a pause reason (one of break, lunch, training" in r.json()["detail"]
        r = await c.post("/agents/1001/pause", headers=AGENT, json={"reason": "3"})
        assert (r.json()["state"], r.json()["pause_reason"]) == ("paused", "training")
        snap = (await c.get("/wallboard.json", headers=VIEWER)).json()
        row = next(a for a in snap["agents"] if a["agent"] == "1001")
        assert (row["pause_reason"], row["pause_label"]) == ("training", "Training")


@pytest.mark.asyncio
async def test_agents_never_seen_changing_have_no_time_in_state(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        await c.post("/agents/1001/login", headers=AGENT)
        rows = {a["agent"]: a for a in (await c.get("/agents", headers=AGENT)).json()}
        snap = (await c.get("/wallboard.json", headers=VIEWER)).json()
    assert (rows["1002"]["since"], rows["1002"]["in_state_s"]) == (None, None)
    assert rows["1001"]["in_state_s"] is not None
    assert rows["1001"]["in_state_s"] < 60
    shown = {a["agent"]: a for a in snap["agents"]}
    assert (shown["1002"]["since_local"], shown["1002"]["in_state_s"]) == (None, None)
    assert shown["1001"]["since_local"] is not None


@pytest.mark.asyncio
async def test_calls_lists_waiting_and_talking_calls_and_agents_see_only_their_own(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        await c.post("/agents/1001/login", headers=AGENT)
        talking = _waiting_call(api, "t-1", "13900139000")
        offers = await api.enqueue(talking.call_id, "orders", waited_s=3)
        assert (await asyncio.wait_for(offers.get(), 5)).agent_id == "1001"
        ringing = (await c.get("/calls", headers=AGENT)).json()
        api.ctx.acd.offer_answered(talking.call_id)  # AMI DialEnd ANSWER, as the flow reports
        waiting = _waiting_call(api, "w-1", "13800138000", vip=True)
        await api.enqueue(waiting.call_id, "orders", waited_s=12)  # nobody else is logged in
        everything = (await c.get("/calls", headers=SUPERVISOR)).json()
        mine = (await c.get("/calls", headers=AGENT)).json()
        other = await person(api, "wang.wei", "agent", agent_id="1002")
        theirs = (await c.get("/calls", headers=other)).json()
        only = (await c.get("/calls?state=waiting&queue=orders", headers=SUPERVISOR)).json()
        assert (await c.get("/calls", headers=VIEWER)).status_code == 403
        assert (await c.get("/calls?state=bogus", headers=SUPERVISOR)).status_code == 422
    assert [(r["call_id"], r["state"]) for r in ringing] == [("t-1", "ringing")]
    assert [(r["call_id"], r["state"], r["agent"]) for r in everything] == [
        ("w-1", "waiting", None),
        ("t-1", "talking", "1001"),
    ]
    row = everything[0]
    assert (row["queue"], row["caller"], row["caller_name"], row["vip"]) == (
        "orders",
        "13800138000",
        "Wang Fang",
        True,
    )
    assert row["waited_s"] >= 12
    assert row["since"].endswith("+08:00")  # the centre's time (Asia/Shanghai)
    assert everything[1]["talk_s"] is not None
    assert [r["call_id"] for r in mine] == ["t-1"]  # agent 1001: their own call only
    assert theirs == []
    assert [r["call_id"] for r in only] == ["w-1"]


@pytest.mark.asyncio
async def test_desk_pop_shows_the_caller_their_ivr_path_and_recent_dispositions(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        earlier = datetime.now(UTC) - timedelta(days=2)
        await _add_rows(
            api,
            CallRow(
                id="old-1", caller_number="13800138000", arrived_at=earlier, queue="orders",
                agent_id="1002", outcome="answered", disposition_code="order_status_given",
            ),
            CallRow(id="other", caller_number="13999999999", arrived_at=earlier, queue="orders"),
        )  # fmt: skip
        call = _waiting_call(api, "w-1", "13800138000", vip=True)
        await c.post("/agents/1001/login", headers=AGENT)
        offers = await api.enqueue(call.call_id, "orders")
        offer = await asyncio.wait_for(offers.get(), 5)
        assert offer.agent_id == "1001"
        desk = (await c.get("/desk.json", headers=AGENT)).json()
        assert (await c.get("/desk.json?agent=1002", headers=AGENT)).status_code == 403
        assert (await c.get("/desk.json", headers=VIEWER)).status_code == 403
        theirs = (await c.get("/desk.json?agent=1002", headers=SUPERVISOR)).json()
    assert (desk["agent"]["agent"], desk["agent"]["state"]) == ("1001", "reserved")
    pop = desk["call"]
    assert (pop["call_id"], pop["state"], pop["queue_label"]) == ("w-1", "ringing", "Orders")
    assert (pop["number"], pop["name"], pop["vip"]) == ("13800138000", "Wang Fang", True)
    assert pop["ivr"] == {
        "menus": [{"node": "main", "keys": ["1"]}, {"node": "orders", "keys": ["1", "2"]}],
        "reason": "order_enquiry",
        "order_number": "20261123",
    }
    (recent,) = pop["recent_calls"]
    assert (recent["call_id"], recent["disposition"]) == ("old-1", "order_status_given")
    assert recent["arrived_at"].endswith("+08:00")
    assert [r["name"] for r in desk["pause_reasons"]][:3] == ["break", "lunch", "training"]
    assert desk["transfer"]["queues"]
    assert desk["transfer"]["reason_required"] is True
    assert theirs["agent"]["agent"] == "1002"
    assert theirs["call"] is None


@pytest.mark.asyncio
async def test_transfer_targets_follow_the_queues_rules_for_agents_not_supervisors(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        await api.client.post("/agents/1003/login", headers=SUPERVISOR)
        call = _waiting_call(api, "c-1", "13700137000", queue="complaints")
        offers = await api.enqueue(call.call_id, "complaints")
        assert (await asyncio.wait_for(offers.get(), 5)).agent_id == "1003"
        api.ctx.acd.offer_answered(call.call_id)
        agent = await person(api, "zhang.min", "agent", agent_id="1003")
        for_agent = (await api.client.get("/desk.json", headers=agent)).json()
        for_sup = (await api.client.get("/desk.json?agent=1003", headers=SUPERVISOR)).json()
    # complaints: agents_may_transfer_to [agents] -> a named colleague only
    assert for_agent["transfer"]["queues"] == []
    assert "1003" not in [a["id"] for a in for_agent["transfer"]["agents"]]
    assert len(for_agent["transfer"]["agents"]) == 5
    assert [q["name"] for q in for_sup["transfer"]["queues"]] == [
        "orders",
        "after_sales",
        "enquiries",
    ]


async def _events(stream: httpx.Response) -> Any:
    """Server-sent events' data, one JSON object at a time."""
    async for line in stream.aiter_lines():
        if line.startswith("data: "):
            yield json.loads(line[6:])


@pytest.mark.asyncio
async def test_the_desk_stream_pushes_a_state_change_as_it_happens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_desk, "REFRESH_S", 3600.0)  # only the change itself can push
    async with running_api(tmp_path, serve=True) as api:
        c = api.client
        async with c.stream("GET", "/events/desk", headers=AGENT, timeout=20) as stream:
            events = _events(stream)
            first = await anext(events)
            assert first["agent"]["state"] == "logged_out"
            assert (await c.post("/agents/1001/login", headers=AGENT)).status_code == 200
            second = await asyncio.wait_for(anext(events), 10)
            assert second["agent"]["state"] == "ready"
            call = _waiting_call(api, "w-2", "13900139000")
            await api.enqueue(call.call_id, "orders")
            third = await asyncio.wait_for(anext(events), 10)
    assert (third["agent"]["state"], third["call"]["call_id"]) == ("reserved", "w-2")
    assert third["call"]["number"] == "13900139000"


@pytest.mark.asyncio
async def test_wallboard_figures_are_shared_and_refreshed_at_most_every_few_seconds(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as api:
        now = [1_000_000.0]
        figures = BoardFigures(
            api.ctx.settings, api.ctx.sessions, clock=lambda: now[0], refresh_s=5.0,
            warn_margin=0.05,
        )  # fmt: skip
        first, second = await asyncio.gather(figures.get(), figures.get())
        assert first is second  # two screens asking at once: one refresh
        assert first.queues["orders"]["today"]["offered"] == 0
        at = datetime.fromtimestamp(now[0] - 60, UTC)
        answered = at + timedelta(seconds=4)
        await _add_rows(
            api,
            CallRow(id="c1", caller_number="555", arrived_at=at, queue="orders", queued_at=at,
                    answered_at=answered, ended_at=answered + timedelta(seconds=30),
                    agent_id="1001", outcome="answered"),
        )  # fmt: skip
        now[0] += 4.9
        assert await figures.get() is first  # still fresh enough
        now[0] += 0.2
        later = await figures.get()
    assert later.at == now[0]
    assert later.queues["orders"]["today"]["offered"] == 1
    assert later.queues["orders"]["last_15m"]["asa_s"] == 4.0
    assert later.handled_today == {"1001": 1}
