"""What every chaos test places and checks (``tests.chaos``): a burst of patient callers, and
afterwards: each put through, one terminal row each, no agent's phone rung while it talks."""

from __future__ import annotations

import asyncio

from acd.asterisk.ami.message import Message
from tests.app.standby_rig import Rig

BURST = 10
SETTLE_LIMIT_S = 60.0


async def burst(rig: Rig, first: int, size: int = BURST) -> list[str]:
    numbers = [f"555{first + i:05d}" for i in range(size)]
    for number in numbers:
        await rig.place(number)
        await asyncio.sleep(0.05)
    return numbers


def phones_rung_while_talking(events: list[Message]) -> list[str]:
    """Agent phone channels (``PJSIP/<ext>-...``) created while the same phone is bridged."""
    bridged: dict[str, str] = {}  # phone -> its bridged channel
    found: list[str] = []
    for m in events:
        channel = m.get("Channel") or ""
        if not channel.startswith("PJSIP/"):
            continue
        phone = channel.split("-", 1)[0]
        if m.name == "Newchannel" and phone in bridged:
            found.append(f"{channel} while {bridged[phone]} talks")
        elif m.name == "BridgeEnter":
            bridged[phone] = channel
        elif m.name == "Hangup" and bridged.get(phone) == channel:
            del bridged[phone]
    return found


async def _imported_to_the_end(rig: Rig) -> bool:
    """The fallback import (``acd.reports.fallback_import``) has read all Asterisk wrote: a
    caller the fallback ``Queue()`` served has its row completed by then (same transaction)."""
    files = {"queue_log": rig.log_dir / "queue_log", "cdr_csv": rig.log_dir / "cdr-csv/Master.csv"}
    sizes = {source: path.stat().st_size for source, path in files.items() if path.exists()}
    rows = await rig.rows('SELECT source, "offset" FROM import_positions')
    offsets = {r["source"]: r["offset"] for r in rows}
    return all(offsets.get(source) == size for source, size in sizes.items())


async def check_calls(rig: Rig, placed: list[str], *, all_answered: bool = False) -> None:
    """``all_answered``: also every row says ``answered`` (each patient caller was put through,
    by a daemon or the fallback ``Queue()``, so any other outcome is a wrong row). Not yet for
    a daemon that dies or stops (``test_daemon_dies``): a caller ringing an agent at that
    moment whose agent answers afterwards (the Dial outlives the session, RECORDED q2 c2) keeps
    a row without the answer: ``abandoned`` after SIGKILL (the next daemon's reconcile follows
    the channel to its Hangup but not its answer), ``fallback`` after SIGTERM (the stopping
    daemon handed it back; nothing reopens that row, and no queue_log line completes it)."""
    async with asyncio.timeout(SETTLE_LIMIT_S):
        await rig.sim.wait_idle()
        while True:  # the daemons write a call's last row after its channel is gone
            rows = await rig.rows("SELECT caller_number, outcome, ended_at, handled_by FROM calls")
            terminal = all(r["outcome"] and r["ended_at"] for r in rows)
            if len(rows) >= len(placed) and terminal and await _imported_to_the_end(rig):
                break
            await asyncio.sleep(0.2)
    numbers = sorted(r["caller_number"] for r in rows)
    assert numbers == sorted(placed)  # one row per call: none lost, none twice
    assert set(placed) <= rig.served_numbers()  # nobody dropped: all put through
    if all_answered:
        wrong = [tuple(r) for r in rows if r["outcome"] != "answered"]
        assert wrong == [], wrong
    events = list(rig.sim.emitted or ())
    talks = [
        m for m in events if m.name == "BridgeEnter" and m.get("Channel", "").startswith("PJSIP/")
    ]
    assert len(talks) >= len(placed)  # the check below sees the agents' phones
    assert phones_rung_while_talking(events) == []
