"""Against the real daemon and the PBX simulator: the wallboard's figures are `hotline report`'s
over the same database, and `hotline calls` lists the call in conversation with its id."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from acd.cli.main import main
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.conftest import free_port
from tests.http.api_harness import SUPERVISOR
from tests.http.live_daemon import live_daemon

CONFIG = Path(__file__).resolve().parents[2] / "config"
QUICK = AgentBehaviour(answer_after=0.5, talk_time=5.0, hangs_up="agent")  # simulated seconds
FIGURES = {
    "offered": "offered",
    "answered": "answered",
    "abandoned": "abandoned",
    "abandon_rate": "abandonment_rate",
    "asa_s": "asa_s",
    "aht_s": "aht_s",
    "service_level": "service_level_15s",
}


async def report(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> dict[str, Any]:
    """``hotline report ... --format json`` over the daemon's database."""
    capsys.readouterr()
    url = f"sqlite+aiosqlite:///{db}"
    argv = ("report", "--db", url, "--config", str(CONFIG), "--format", "json", *argv)
    code = await asyncio.to_thread(main, list(argv))
    assert code == 0
    found: dict[str, Any] = json.loads(capsys.readouterr().out)
    return found


@pytest.mark.asyncio
async def test_wallboard_figures_are_the_reports_over_the_same_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with live_daemon(tmp_path, monkeypatch, agents=1, behaviour=QUICK) as (h, url):
        queue = h.settings.default_queue
        await h.place()  # answered by 2001
        await h.wait_for(h.quiet, "the first call to end")
        async with httpx.AsyncClient(base_url=url, headers=SUPERVISOR) as client:
            r = await client.post("/agents/2001/pause", json={"reason": "break"})
            assert r.status_code == 200
            await h.place(CallerBehaviour(hangup_after=10.0))  # nobody ready: abandons
            await h.wait_for(h.quiet, "the caller to give up")
            await client.post("/agents/2001/unpause")
            await h.place()  # answered again
            await h.wait_for(h.quiet, "the third call to end")
            await h.wait_for(
                lambda: h.daemon.floor.agents["2001"].state.value == "ready", "wrap-up over"
            )
            await h.daemon.writer.wait_drained()
            board = (await client.get("/wallboard.json")).json()
        now = datetime.now(UTC)
    day = board["date"]  # the centre's day the wallboard's "today" is (even across midnight)
    today = await report(capsys, h.db_path, "--by", "queue", "--from", day)
    by_agent = await report(capsys, h.db_path, "--by", "agent", "--from", day)
    window = (now - timedelta(minutes=15)).astimezone(ZoneInfo("Asia/Shanghai"))
    last_15 = await report(capsys, h.db_path, "--by", "queue", "--from", window.isoformat())
    shown = board["queues"][queue]["figures"]
    for label, rows in (("today", today), ("last_15m", last_15)):
        (row,) = [r for r in rows["rows"] if r["queue"] == queue]
        assert {k: shown[label][k] for k in FIGURES} == {k: row[v] for k, v in FIGURES.items()}
    assert (shown["today"]["offered"], shown["today"]["abandoned"]) == (3, 1)
    assert shown["today"]["sl_colour"] in ("good", "warn", "bad")
    (agent,) = [a for a in board["agents"] if a["agent"] == "2001"]
    (handled,) = [r["handled"] for r in by_agent["rows"] if r["agent"] == "2001"]
    assert agent["handled_today"] == handled == 2
    for other in board["queues"].values():  # queues with no call show zeros, never an error
        assert set(other["figures"]) == {"today", "last_15m", "last_30m"}


@pytest.mark.asyncio
async def test_hotline_calls_shows_the_call_in_conversation_with_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with live_daemon(tmp_path, monkeypatch, agents=1) as (h, url):
        await h.place()
        await h.wait_for(lambda: any(c.state.talking for c in h.daemon.registry), "an answer")
        call = next(c.state for c in h.daemon.registry)
        sup = ("--api", url, "--token", "tok-sup")
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["calls", *sup]) == 0
        table = capsys.readouterr().out.splitlines()
        assert table[0].split() == [
            "call", "state", "queue", "agent", "caller", "since", "waited", "talk",
        ]  # fmt: skip
        assert table[1].split()[:4] == [call.call_id, "talking", call.queue, "2001"]
        assert await asyncio.to_thread(main, ["calls", "--json", *sup]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert (listed["call_id"], listed["caller"]) == (call.call_id, call.facts.number)
        mine = ("--api", url, "--token", "tok-agent")  # agent 2001's own token
        assert await asyncio.to_thread(main, ["calls", "--json", *mine]) == 0
        assert [c["call_id"] for c in json.loads(capsys.readouterr().out)] == [call.call_id]
        assert await asyncio.to_thread(main, ["calls", "--state", "waiting", *sup]) == 0
        assert capsys.readouterr().out.strip() == "no calls (waiting)"
        assert await asyncio.to_thread(main, ["calls", "--api", url, "--token", "tok-viewer"]) == 1
        assert "refused (403)" in capsys.readouterr().err
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["calls", "--api", closed, "--token", "t"]) == 3
    with pytest.raises(SystemExit) as usage:
        main(["calls", "--state", "gone", "--api", closed, "--token", "t"])
    assert usage.value.code == 2


@pytest.mark.asyncio
async def test_agent_list_shows_no_time_in_state_for_agents_never_seen_changing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with live_daemon(tmp_path, monkeypatch, agents=2, login=False) as (_h, url):
        sup = ("--api", url, "--token", "tok-sup")
        assert await asyncio.to_thread(main, ["agent", "login", "2001", *sup]) == 0
        capsys.readouterr()
        assert await asyncio.to_thread(main, ["agent", "list", *sup]) == 0
        rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert rows["2001"][1] == "ready"
    assert rows["2001"][2].endswith("s")  # seconds since the login
    assert rows["2002"][1:3] == ["logged_out", "-"]  # never "29940240 min"
