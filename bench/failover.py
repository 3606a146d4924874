"""Failover benchmark: the active ``hotline run`` dies under traffic, the standby takes over.

Two real ``hotline run`` processes share a scratch PostgreSQL database (the standby with
``--standby``) in front of the PBX simulator, which runs the shipped dialplan rendered for both
addresses and writes queue_log and Master.csv (the rig of tests/app/standby_rig.py, 2 s
wrap-up). Patient callers (they press 0 for an agent and never hang up first) arrive every
``--interval`` seconds; after ``--before`` seconds the active daemon gets ``--signal`` (kill =
SIGKILL, term = SIGTERM), traffic goes on for ``--after`` seconds, then every call is let finish
and the standby's fallback import is let catch up. Agents are logged in on the active daemon at
start, and on the standby once it is up unless it restored them itself.

Printed (``--json``):
- ``detect_s``: the signal -> the standby holds the leadership (its ``leadership_acquired``);
- ``takeover_s``: the signal -> the standby's FastAGI server takes the next call;
- ``callers_dropped``: callers whose call ended without ever being bridged to an agent (by a
  daemon or the fallback ``Queue()``);
- ``rows_non_terminal``: call rows without an outcome or an end once everything is over;
- and the counts behind them (calls placed, served, rows, rows the fallback finished).
Targets (issue 12 item 8): takeover_s <= 5, callers_dropped = 0, rows_non_terminal = 0.

    python bench/failover.py --json [--signal kill|term] [--before 5] [--after 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.app.standby_rig import Rig, standby_rig

SIGNALS = {"kill": signal.SIGKILL, "term": signal.SIGTERM}
SETTLE_LIMIT_S = 180.0
POSITION_SQL = "SELECT \"offset\" FROM import_positions WHERE source = 'queue_log'"


async def _traffic(rig: Rig, numbers: list[str], interval: float, until: float) -> None:
    while time.monotonic() < until:
        number = f"555{len(numbers):05d}"
        numbers.append(number)
        await rig.place(number)
        await asyncio.sleep(interval)


async def _failover(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hotline-failover-") as tmp:
        async with standby_rig(Path(tmp), time_scale=args.time_scale) as rig:
            await rig.active.agents("login", rig.agent_ids)
            numbers: list[str] = []
            start = time.monotonic()
            await _traffic(rig, numbers, args.interval, start + args.before)
            hit = rig.active.signal(SIGNALS[args.signal])
            traffic = asyncio.create_task(_traffic(rig, numbers, args.interval, hit + args.after))
            try:
                acquired = await rig.standby.wait_event("leadership_acquired", since=hit)
                up = await rig.standby.wait_event("daemon_up", since=hit)
                floor = await rig.standby.floor_agents()
                restored = any(state != "logged_out" for state in floor.values())
                if not restored:
                    await rig.standby.agents("login", rig.agent_ids)
                taken = await rig.standby.wait_event("fastagi_session_started", since=hit)
            finally:
                await traffic
            async with asyncio.timeout(SETTLE_LIMIT_S):
                await rig.sim.wait_idle()
                await _imported(rig)
                rows = await _settled(rig)
            served = rig.served_numbers()
            placed = set(numbers)
            by_number = {r["caller_number"] for r in rows}
            return {
                "detect_s": round(acquired - hit, 3),
                "takeover_s": round(taken - hit, 3),
                "callers_dropped": len(placed - served),
                "rows_non_terminal": sum(
                    r["outcome"] is None or r["ended_at"] is None for r in rows
                ),
                "calls_placed": len(placed),
                "calls_served": len(placed & served),
                "calls_without_row": len(placed - by_number),
                "rows": len(rows),
                "rows_fallback": sum(r["handled_by"] == "fallback" for r in rows),
                "standby_up_s": round(up - hit, 3),
                "agents_restored": restored,
                "signal": args.signal,
                "before_s": args.before,
                "after_s": args.after,
                "interval_s": args.interval,
            }


async def _settled(rig: Rig, quiet_s: float = 3.0) -> list[Any]:
    """The call rows once they stopped changing for ``quiet_s`` (a daemon writes a call's
    last row after its channel is gone)."""
    last: list[tuple[str, ...]] = []
    since = time.monotonic()
    while True:
        rows = await rig.rows("SELECT caller_number, outcome, ended_at, handled_by FROM calls")
        shown = sorted(tuple(map(str, r.values())) for r in rows)
        if shown != last:
            last, since = shown, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return rows
        await asyncio.sleep(0.5)


async def _imported(rig: Rig) -> None:
    """Until the standby's import job has taken every finished call from queue_log."""
    queue_log = rig.log_dir / "queue_log"
    while True:
        size = queue_log.stat().st_size if queue_log.exists() else 0
        rows = await rig.rows(POSITION_SQL)
        if rows and rows[0]["offset"] >= size:
            return
        await asyncio.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--signal", choices=sorted(SIGNALS), default="kill")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of traffic first")
    parser.add_argument("--after", type=float, default=10.0, help="seconds of traffic after")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between calls")
    parser.add_argument("--time-scale", type=float, default=2.0, help="simulator speed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the numbers are the output, not the logs
    result = asyncio.run(_failover(args))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
