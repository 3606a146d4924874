"""Calls the dialplan's plain Queue() took while the daemon was away are in the reports (issue 12:
"the 23 calls the fallback Queue() took while the daemon was down left no trace").

The simulator runs the shipped dialplan and writes queue_log and Master.csv as Asterisk does;
the daemon's import job reads them (``fallback_import`` pointed at the simulator's files).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acd.engine.floor_inputs import AgentAction
from acd.settings.schema_system import FallbackImportSettings
from acd.settings.settings import Settings
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import Harness, floor_harness, floor_settings


def importing(settings: Settings, log_dir: Path) -> Settings:
    imports = FallbackImportSettings(
        queue_log=str(log_dir / "queue_log"),
        cdr_csv=str(log_dir / "cdr-csv" / "Master.csv"),
        every_s=0.1,
    )
    system = settings.system.model_copy(update={"fallback_import": imports})
    return settings.model_copy(update={"system": system})


async def imported(h: Harness, count: int) -> None:
    """Until ``count`` calls are marked as the fallback's (by whichever daemon's import job: the
    stopping one may still take a call the fallback finished quickly)."""

    def done() -> bool:
        rows = h.rows("SELECT count(*) FROM calls WHERE handled_by = 'fallback'")
        return bool(rows[0][0] >= count)

    await h.wait_for(done, f"{count} fallback calls imported")


async def _import_started(h: Harness) -> None:
    """The daemon's import job has run once: it knows where the (still missing) files begin. A
    database whose import never ran starts at the files' end (calls before hotline are not its
    to report), so without this a daemon stopped before its first run (a loaded machine) made
    the next one skip the fallback's calls."""

    def saved() -> bool:
        return bool(h.rows("SELECT count(*) FROM import_positions")[0][0] >= 2)

    await h.wait_for(saved, "the first import run")


@pytest.mark.asyncio
async def test_calls_the_fallback_took_while_the_daemon_was_down_are_reported(
    tmp_path: Path,
) -> None:
    log_dir = tmp_path / "asterisk-log"
    settings = importing(floor_settings(2), log_dir)
    async with floor_harness(tmp_path, settings=settings, asterisk_log_dir=log_dir) as h:
        await _import_started(h)
        agents = [a.id for a in settings.agents]
        # a caller waiting when the daemon stops: handed back to the dialplan's Queue()
        for agent in agents:
            await h.daemon.acd.agent_input(agent, AgentAction.PAUSE, "meeting")
        await h.place(CallerBehaviour(number="5558001", hangup_after=None))
        await h.wait_for(
            lambda: h.floor(lambda f, _now: len(f.router.waiting_calls()) == 1), "one waiting"
        )
        await h.stop_daemon()
        # two more while no daemon listens: straight to the fallback Queue()
        for number in ("5558002", "5558003"):
            await h.place(CallerBehaviour(number=number, hangup_after=None))
        await h.wait_for(lambda: not h.sim.pbx.channels(), "the fallback to finish the calls")
        await h.start_daemon()
        await imported(h, 3)
        await h.stop_daemon()
    rows = h.rows(
        "SELECT caller_number, outcome, handled_by, agent_id IS NOT NULL"
        " FROM calls ORDER BY caller_number"
    )
    assert rows == [
        ("5558001", "answered", "fallback", 1),  # the daemon's row, completed
        ("5558002", "answered", "fallback", 1),  # rows of their own
        ("5558003", "answered", "fallback", 1),
    ]
    # whichever form the daemon wrote its steps in, the fallback's follow them there
    first = h.rows("SELECT id, timeline FROM calls WHERE caller_number = '5558001'")[0]
    if first[1] is None:
        kinds = [
            k
            for (k,) in h.rows(
                "SELECT kind FROM call_events WHERE call_id = ? ORDER BY seq", (first[0],)
            )
        ]
    else:
        kinds = [step["kind"] for step in json.loads(first[1])]
    assert kinds[0] == "arrived"
    assert kinds[-4:] == ["queued", "offered", "answered", "ended"]
