"""The daemon's HTTP API over a real socket, with the PBX simulator behind it: supervisor spy end
to end, the CLI clients, and the wallboard in headless Chromium."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from acd.cli.main import main
from tests.conftest import free_port
from tests.http.api_harness import SUPERVISOR
from tests.http.headless import CHROMIUM, Browser
from tests.http.live_daemon import live_daemon

PHONE = "Local/phone@supervisor/n"  # the simulator's supervisor phone answers at once


def cli(*argv: str) -> int:
    return main(list(argv))


@pytest.mark.asyncio
async def test_supervisor_barges_into_a_live_call_and_the_session_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with live_daemon(tmp_path, monkeypatch) as (h, url):
        await h.place()
        await h.wait_for(lambda: any(c.state.agent_channel for c in h.daemon.registry), "an answer")
        call = next(c.state for c in h.daemon.registry if c.state.agent_channel)
        body = {"agent": call.agent_id, "mode": "barge", "from": PHONE}
        async with httpx.AsyncClient(base_url=url, headers=SUPERVISOR) as client:
            r = await client.post("/spy", json=body)
        assert r.status_code == 200
        await h.wait_for(lambda: bool(h.sim_events("ChanSpyStart")), "ChanSpyStart")
        start = h.sim_events("ChanSpyStart")[0]
        assert start.get("SpyeeChannel") == call.agent_channel
        idle = next(a.id for a in h.settings.agents if a.id != call.agent_id)
        refused = await asyncio.to_thread(cli, "spy", idle, "--api", url, "--token", "tok-sup")
        assert refused == 1
        outside = await asyncio.to_thread(
            cli, "spy", call.agent_id or "", "--from", "PJSIP/5550199@trunk", "--api", url,
            "--token", "tok-sup",
        )  # fmt: skip
        assert outside == 1  # not one of the supervisor's phones
        h.hang_up(start["SpyerChannel"])  # the supervisor puts the phone down
        desk = h.daemon.desk
        await h.wait_for(lambda: desk.sessions[0].ended_at is not None, "ChanSpyStop")
    rows = h.rows("select who, role, action, target from audit_log order by id")
    target = f"agent:{call.agent_id}"
    assert rows == [
        ("supervisors", "supervisor", "spy.barge", target),
        ("supervisors", "supervisor", "spy.stop", target),
    ]


@pytest.mark.asyncio
async def test_cli_controls_agents_through_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with live_daemon(tmp_path, monkeypatch) as (h, url):
        api = ("--api", url, "--token", "tok-agent")  # agent 2001's token
        code = await asyncio.to_thread(cli, "agent", "pause", "2001", "--reason", "coffee", *api)
        assert code == 1  # not one of agents.yaml's pause_reasons
        assert "not a pause reason (one of break, lunch" in capsys.readouterr().err
        code = await asyncio.to_thread(cli, "agent", "pause", "2001", "--reason", "2", *api)
        assert code == 0  # the code of "lunch", as keyed after *13 on the phone
        assert "agent 2001: paused (lunch)" in capsys.readouterr().out
        assert (await h.agent_states())["2001"] == "paused"
        assert await asyncio.to_thread(cli, "agent", "pause", "2002", *api) == 1
        assert "may act only on their own agent" in capsys.readouterr().err
        assert (await h.agent_states())["2002"] == "ready"
        assert await asyncio.to_thread(cli, "agent", "unpause", "2001", *api) == 0
        assert await asyncio.to_thread(cli, "agent", "unpause", "2001", *api) == 1
        assert "not allowed in state ready" in capsys.readouterr().err
        assert await asyncio.to_thread(cli, "assign", "nope", "2001", *api) == 1  # agent role
        sup = ("--api", url, "--token", "tok-sup")
        assert await asyncio.to_thread(cli, "assign", "nope", "2001", *sup) == 1
        assert "is not waiting" in capsys.readouterr().err
    closed = f"http://127.0.0.1:{free_port()}"
    assert cli("agent", "login", "2001", "--api", closed, "--token", "t") == 3
    assert cli("agent", "login", "--api", closed, "--token", "t") == 2


@pytest.mark.browser
@pytest.mark.asyncio
async def test_wallboard_shows_a_caller_arriving_and_an_agent_pausing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not CHROMIUM.exists():
        reason = "needs Debian's chromium (/usr/bin/chromium; scripts/test.sh installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the browser test")
        pytest.skip(reason)
    browser = await asyncio.to_thread(Browser)
    try:
        async with live_daemon(tmp_path, monkeypatch, agents=1) as (h, url):
            queue = h.settings.default_queue
            row = f"document.querySelector('tr[data-queue=\"{queue}\"] [data-field=waiting]')"
            agent = "document.querySelector('tr[data-agent=\"2001\"]')"
            # a wall screen signs in once with its viewer token; no credential in any URL
            await asyncio.to_thread(browser.open, f"{url}/wallboard")
            form = "document.getElementById('signin')"
            await asyncio.to_thread(browser.wait_for, f"{form} && {form}.dataset.ready")
            await asyncio.to_thread(
                browser.evaluate,
                "document.getElementById('key').value = 'tok-viewer';"
                " document.getElementById('submit').click(); true",
            )
            status = "document.getElementById('status')"
            signed_in = f"{status} && {status}.dataset.user"
            assert await asyncio.to_thread(browser.wait_for, signed_in) == "wallboard"
            assert await asyncio.to_thread(browser.evaluate, "location.href") == f"{url}/wallboard"
            shown = f"{agent} && {agent}.dataset.state == 'ready' && {row}.textContent"
            assert await asyncio.to_thread(browser.wait_for, shown) == "0"
            async with httpx.AsyncClient(base_url=url, headers=SUPERVISOR) as client:
                r = await client.post("/agents/2001/pause", json={"reason": "training"})
                assert r.status_code == 200
            await h.place()  # nobody ready: the caller waits
            paused = f"{agent}.dataset.state == 'paused' && {agent}.textContent"
            text = await asyncio.to_thread(browser.wait_for, paused)
            assert "Training" in text  # the reason's label from agents.yaml
            waiting = f"{row}.textContent == '1' && {row}.textContent"
            assert await asyncio.to_thread(browser.wait_for, waiting) == "1"
            await asyncio.to_thread(browser.screenshot, tmp_path / "wallboard.png")
        # the daemon stopped with the page's event stream still open
    finally:
        await asyncio.to_thread(browser.close)
