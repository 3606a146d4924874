"""The agent desktop and the wallboard in headless Chromium, against the demo as shipped: sign in
with the keys the demo prints, follow a call from the screen pop to its disposition, and read
the wallboard in a browser whose own time zone is not the centre's.

``HOTLINE_SCREENSHOTS=docs`` also writes the README's screenshots (docs/desk.png,
docs/wallboard.png) from this run.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from acd.cli.demo.access import DemoAccess
from acd.cli.demo.plan import DemoParams, demo_settings
from acd.cli.demo.run import DemoResult, run_demo
from acd.cli.features import hotline_features
from acd.cli.main import main
from acd.settings.loader import load_settings
from acd.storage.engine import create_engine, session_factory
from acd.storage.migrate import ensure_schema
from acd.storage.models import Call
from tests.http.headless import CHROMIUM, Browser

CONFIG = Path(__file__).resolve().parents[2] / "config"
CENTRE = ZoneInfo("Asia/Shanghai")
CUSTOMER = "13900139000"  # Chen Ming, a seeded demo customer
# Seed 16: agent 1001's phone answers after 0.9 s and talks for over a minute; the first caller
# 1001 can serve (7.2 s in, menu 1 then 2: orders) is Chen Ming; the caller before wants a
# complaint handled, the next ones come 8 s later.
PARAMS = DemoParams(
    calls_per_hour=900,
    duration_s=120,
    seed=16,
    talk_mean_s=120,
    ring_mean_s=1.0,
    answer_probability=1.0,
    impatient_share=0.0,
    returning_share=0.6,
)


def need_chromium() -> None:
    if not CHROMIUM.exists():
        reason = "needs Debian's chromium (/usr/bin/chromium; scripts/test.sh installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the browser test")
        pytest.skip(reason)


async def earlier_calls(db: Path) -> None:
    """Chen Ming called before: two calls with the dispositions their agents recorded."""
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        await ensure_schema(engine)
        async with session_factory(engine)() as session, session.begin():
            now = datetime.now(UTC)
            session.add_all(
                [
                    Call(id="earlier-1", caller_number=CUSTOMER, arrived_at=now - timedelta(days=1),
                         queue="orders", agent_id="1002", outcome="answered",
                         disposition_code="order_status_given"),
                    Call(id="earlier-2", caller_number=CUSTOMER, arrived_at=now - timedelta(days=3),
                         queue="after_sales", agent_id="1003", outcome="answered",
                         disposition_code="return_created"),
                ]
            )  # fmt: skip
    finally:
        await engine.dispose()


class Page:
    """One browser tab, driven from the test's event loop (the browser calls block)."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser

    async def js(self, expression: str) -> Any:
        return await asyncio.to_thread(self.browser.evaluate, expression)

    async def until(self, expression: str, limit_s: float = 30.0) -> Any:
        return await asyncio.to_thread(self.browser.wait_for, expression, limit_s)

    async def click(self, element: str) -> None:
        await self.js(f"document.getElementById('{element}').click(); true")

    async def sign_in(self, url: str, key: str) -> None:
        await asyncio.to_thread(self.browser.open, url)
        await asyncio.to_thread(self.browser.viewport, 1400, 1000)
        form = "document.getElementById('signin')"
        await self.until(f"{form} && {form}.dataset.ready")
        await self.js(f"document.getElementById('key').value = '{key}'; true")
        await self.click("submit")
        await self.until("document.getElementById('status') && document.getElementById('status')"
                         ".dataset.updates")  # fmt: skip

    async def screenshot(self, name: str, tmp_path: Path) -> None:
        await asyncio.to_thread(self.browser.screenshot, tmp_path / name)
        target = os.environ.get("HOTLINE_SCREENSHOTS")
        if target:
            await asyncio.to_thread(self.browser.screenshot, Path(target) / name)


def text(element: str) -> str:
    return f"document.getElementById('{element}').textContent"


async def desk_flow(page: Page, access: DemoAccess, supervisor: httpx.AsyncClient) -> str:
    """The agent's side of one call; returns its call id."""
    state = "document.body.dataset.state"
    await page.until(f"{state} == 'ready'")
    await page.js("document.getElementById('pause-reason').value = 'lunch'; true")
    await page.click("pause")
    await page.until(f"{state} == 'paused' && {text('reason')}.includes('Lunch')")
    await page.click("ready")
    await page.until(f"{state} != 'paused'")
    # the phone rings: the pop is there before the conversation
    number = await page.until(
        f"['ringing', 'talking'].includes(document.body.dataset.call) && {text('pop-number')}", 60
    )
    assert number == CUSTOMER
    assert await page.js(text("pop-name")) == "Chen Ming"
    assert await page.js(text("pop-ivr")) == "main [1] → orders [2]"
    recent = await page.js(
        "[...document.querySelectorAll('#recent tbody tr')].map(r => r.textContent)"
    )
    assert len(recent) == 2
    assert "order_status_given" in recent[0]
    assert "return_created" in recent[1]
    call_id: str = await page.js("document.getElementById('call-panel').dataset.callId")
    (listed,) = [c for c in (await supervisor.get("/calls")).json() if c["agent"] == "1001"]
    assert (listed["call_id"], listed["caller"]) == (call_id, CUSTOMER)
    await page.until("document.body.dataset.call == 'talking'")
    await page.until(f"{text('recording')} == 'recording'")
    await page.click("record-pause")
    await page.until(f"{text('recording')} == 'recording paused'")
    await page.click("record-resume")
    await page.until(
        f"{text('recording')} == 'recording' && {text('message')} == 'recording resumed'"
    )
    return call_id


async def wrap_up_flow(page: Page, call_id: str) -> None:
    state = "document.body.dataset.state"
    await page.js(
        "document.getElementById('transfer-target').value = 'queue:after_sales';"
        " document.getElementById('transfer-reason').value = 'wants a return'; true"
    )
    await page.click("transfer-go")
    await page.until(f"{text('message')} == 'transferring to after_sales'")
    await page.until(f"{state} == 'wrap_up' && !document.getElementById('wrap-panel').hidden")
    assert await page.js("document.getElementById('wrap-panel').dataset.callId") == call_id
    tomorrow = (datetime.now(CENTRE) + timedelta(days=1)).strftime("%Y-%m-%d")
    await page.js(
        "document.getElementById('disposition-code').value = 'follow_up';"
        " document.getElementById('disposition-notes').value = 'call back about the return';"
        f" document.getElementById('follow-up').value = '{tomorrow}T10:00'; true"
    )
    await page.click("disposition-save")
    await page.until(f"{text('disposition-saved')} == 'recorded: follow_up'")
    await page.click("wrapup-end")
    await page.until(f"{state} != 'wrap_up'")


async def wallboard_checks(page: Page, tmp_path: Path) -> None:
    assert await page.js("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
    await page.until("!!document.querySelector('tr[data-agent=\"1002\"]')")
    shown = await page.js(text("clock"))
    now = datetime.now(CENTRE)
    clock = datetime.combine(now.date(), datetime.strptime(shown.split()[0], "%H:%M:%S").time())
    # the last snapshot's time (at most a push old), not New York's, 13 hours apart
    apart = (now.replace(tzinfo=None) - clock).total_seconds()
    assert min(apart % 86400, -apart % 86400) < 10  # (also across midnight)
    assert shown.endswith("Asia/Shanghai (UTC+08:00)")
    # every value sits under its own header, in every table
    misplaced = await page.js(
        "[...document.querySelectorAll('table')].flatMap(t => {"
        " const heads = [...t.querySelectorAll('thead th')].map(h => h.dataset.field);"
        " return [...t.querySelectorAll('tbody tr')].flatMap(r => [...r.children]"
        "   .map((c, i) => c.dataset.field === heads[i] ? null : t.id + ':' + c.dataset.field)"
        "   .filter(x => x)); })"
    )
    assert misplaced == []
    paused = "document.querySelector('tr[data-agent=\"1002\"] [data-field=reason]').textContent"
    assert await page.js(paused) == "Team meeting"
    waiting = "document.querySelector('tr[data-queue=\"after_sales\"] [data-field=waiting]')"
    assert int(await page.until(f"Number({waiting}.textContent) >= 1 && {waiting}.textContent"))
    # Chen Ming's call counts in the queue it ended up in, as the report counts it
    figures = (
        'document.querySelector(\'#figures tr[data-queue="after_sales"][data-period="today"]\')'
    )
    offered = await page.until(f"{figures}.querySelector('[data-field=answered]').textContent")
    assert int(offered) >= 1
    normal = await page.js("parseFloat(getComputedStyle(document.body).fontSize)")
    await page.screenshot("wallboard.png", tmp_path)
    await page.click("wall-toggle")
    await page.until("document.body.classList.contains('wall')")
    big = await page.js("parseFloat(getComputedStyle(document.body).fontSize)")
    assert big >= 1.5 * normal


async def revoked_wall_screen(page: Page, db: Path) -> None:
    """The wall screen's key is revoked: the page says so instead of reconnecting forever."""
    url = f"sqlite+aiosqlite:///{db}"
    revoke = ["users", "revoke", "demo-wallboard", "--db", url, "--config", str(CONFIG)]
    assert await asyncio.to_thread(main, revoke) == 0
    await page.until("document.getElementById('status').dataset.link == 'signed-out'", 20)
    assert "sign in again" in await page.js(text("status"))


def stored(db: Path, call_id: str) -> None:
    """What the desktop's buttons left in the database for the call."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "select disposition_code, notes, transfers from calls where id = ?", (call_id,)
        ).fetchone()
        due = conn.execute("select due_at from callbacks where call_id = ?", (call_id,)).fetchone()
        pauses = conn.execute(
            "select count(*) from recording_pauses where call_id = ?", (call_id,)
        ).fetchone()
    assert (row[0], row[1]) == ("follow_up", "call back about the return")
    assert row[2] is not None  # transferred to after-sales
    assert due is not None  # the follow-up call-back, at 10:00 tomorrow in the centre's zone
    assert pauses == (1,)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.asyncio
async def test_agent_desktop_and_wallboard_against_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_chromium()
    monkeypatch.setenv("TZ", "America/New_York")  # the browser's zone; the centre's is Shanghai
    settings = demo_settings(load_settings(CONFIG, require_secrets=False), PARAMS)
    await earlier_calls(tmp_path / "hotline.db")
    ready: asyncio.Queue[DemoAccess] = asyncio.Queue()
    stop = asyncio.Event()
    demo: asyncio.Task[DemoResult] = asyncio.create_task(
        run_demo(
            settings, PARAMS, hotline_features(settings), workdir=tmp_path, drain_s=1.0,
            on_ready=ready.put_nowait, stop_arrivals=stop,
        )
    )  # fmt: skip
    browsers: list[Browser] = []
    try:
        access = await asyncio.wait_for(ready.get(), 30)
        keys = access.keys
        sup = {"Authorization": f"Bearer {keys.supervisor}"}
        async with httpx.AsyncClient(base_url=access.base_url, headers=sup) as supervisor:
            for agent in ("1002", "1003", "1004", "1005", "1006"):  # 1001 takes the calls
                await supervisor.post(f"/agents/{agent}/pause", json={"reason": "meeting"})
            browsers.append(await asyncio.to_thread(Browser))
            desk = Page(browsers[0])
            await desk.sign_in(access.desk_url, keys.agent)
            assert await desk.js("location.pathname") == "/desk"
            call_id = await desk_flow(desk, access, supervisor)
            await desk.screenshot("desk.png", tmp_path)
            await wrap_up_flow(desk, call_id)
            browsers.append(await asyncio.to_thread(Browser))
            board = Page(browsers[1])
            await board.sign_in(access.wallboard_url, keys.viewer)
            await wallboard_checks(board, tmp_path)
            await revoked_wall_screen(board, tmp_path / "hotline.db")
        stop.set()
        result = await asyncio.wait_for(demo, 60)
    finally:
        stop.set()
        for browser in browsers:
            await asyncio.to_thread(browser.close)
        if not demo.done():
            demo.cancel()
        await asyncio.gather(demo, return_exceptions=True)
    assert result.summary["answered"] >= 1
    stored(tmp_path / "hotline.db", call_id)
