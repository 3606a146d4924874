"""Bulk log-in and log-out (``POST /agents/bulk``): one floor input for many agents."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from acd.cli.main import main
from acd.engine.agent import AgentState
from acd.exitcodes import ExitCode
from tests.http.api_harness import AGENT, SUPERVISOR, VIEWER, running_api


@pytest.mark.asyncio
async def test_a_supervisor_logs_the_whole_floor_in_and_out(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        everyone = [a.id for a in api.ctx.settings.agents]
        applied = api.ctx.acd.requests_applied
        r = await api.client.post(
            "/agents/bulk", headers=SUPERVISOR, json={"action": "login", "all": True}
        )
        assert r.status_code == 200
        body = r.json()
        assert (body["requested"], body["changed"], body["refused"]) == (
            len(everyone),
            len(everyone),
            [],
        )
        assert [a["agent"] for a in body["agents"]] == everyone
        assert {a["state"] for a in body["agents"]} == {"ready"}
        assert api.ctx.acd.requests_applied == applied + 1  # one floor input for the batch
        assert all(a.state is AgentState.READY for a in api.floor.agents.values())
        r = await api.client.post(
            "/agents/bulk", headers=SUPERVISOR, json={"action": "logout", "all": True}
        )
        assert r.json()["changed"] == len(everyone)
        assert all(a.state is AgentState.LOGGED_OUT for a in api.floor.agents.values())


@pytest.mark.asyncio
async def test_a_queue_logs_in_its_members_only_and_refusals_say_why(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        members = [a.id for a in api.ctx.settings.members("complaints")]
        others = [a.id for a in api.ctx.settings.agents if a.id not in members]
        assert members
        assert others
        await api.client.post(f"/agents/{members[0]}/login", headers=SUPERVISOR)
        r = await api.client.post(
            "/agents/bulk", headers=SUPERVISOR, json={"action": "login", "queue": "complaints"}
        )
        body = r.json()
        assert body["changed"] == len(members) - 1
        (refused,) = body["refused"]
        assert refused["agent"] == members[0]
        assert "not allowed in state ready" in refused["reason"]
        assert all(api.floor.agents[a].state is AgentState.READY for a in members)
        assert all(api.floor.agents[a].state is AgentState.LOGGED_OUT for a in others)
        r = await api.client.post(
            "/agents/bulk", headers=SUPERVISOR, json={"action": "logout", "agents": members[:1]}
        )
        assert r.json()["agents"] == [{"agent": members[0], "state": "logged_out", "refused": None}]


@pytest.mark.asyncio
async def test_bulk_requests_need_a_supervisor_and_one_clear_selection(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        login_all = {"action": "login", "all": True}
        assert (await c.post("/agents/bulk", headers=AGENT, json=login_all)).status_code == 403
        assert (await c.post("/agents/bulk", headers=VIEWER, json=login_all)).status_code == 403
        assert (await c.post("/agents/bulk", json=login_all)).status_code == 401
        both = {"action": "login", "all": True, "queue": "orders"}
        assert (await c.post("/agents/bulk", headers=SUPERVISOR, json=both)).status_code == 422
        none = {"action": "login"}
        assert (await c.post("/agents/bulk", headers=SUPERVISOR, json=none)).status_code == 422
        pause = {"action": "pause", "all": True}
        assert (await c.post("/agents/bulk", headers=SUPERVISOR, json=pause)).status_code == 422
        queue = {"action": "login", "queue": "nowhere"}
        assert (await c.post("/agents/bulk", headers=SUPERVISOR, json=queue)).status_code == 404
        who = {"action": "login", "agents": ["9999"]}
        r = await c.post("/agents/bulk", headers=SUPERVISOR, json=who)
        assert r.status_code == 404
        assert all(a.state is AgentState.LOGGED_OUT for a in api.floor.agents.values())


@pytest.mark.asyncio
async def test_the_cli_logs_a_queue_in_prints_a_table_and_says_refusals_by_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_api(tmp_path, serve=True) as api:
        url = str(api.client.base_url)
        cli = ["--api", url, "--token", "tok-sup"]
        members = [a.id for a in api.ctx.settings.members("complaints")]
        code = await asyncio.to_thread(main, ["agents", "login", "--queue", "complaints", *cli])
        assert code == ExitCode.OK
        out = capsys.readouterr().out
        assert out.splitlines()[0].split() == ["agent", "state", "refused"]
        assert f"{len(members)} of {len(members)} agents logged in" in out
        code = await asyncio.to_thread(main, ["agents", "login", members[0], "--json", *cli])
        assert code == ExitCode.PROBLEMS  # already logged in
        answer = json.loads(capsys.readouterr().out)
        assert answer["refused"][0]["agent"] == members[0]
        code = await asyncio.to_thread(main, ["agents", "logout", members[0], "--all", *cli])
        assert code == ExitCode.USAGE
        code = await asyncio.to_thread(
            main, ["agents", "logout", "--all", "--token", "tok-agent", "--api", url]
        )
        assert code == ExitCode.PROBLEMS  # an agent may not
        assert all(api.floor.agents[a].state is AgentState.READY for a in members)
