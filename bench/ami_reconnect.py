"""AMI reconnect benchmark: how long the daemon stays blind after Asterisk's manager comes back.

The real daemon against the PBX simulator (the test harness of tests/daemon/harness.py, the
configuration in config/, so ``ami.reconnect_max_s`` as shipped). ``--rounds`` times: AMI goes
down (the simulator's ``refuse_ami`` fault: every connection dropped, new ones closed before the
banner) for a random 0.5 to ``--down`` seconds, so the back-off is caught at every phase, then
comes back; measured is the time from AMI being back to the daemon's resync having run (device
states applied, calls reconciled).

Printed (``--json``): ``reconnect_s`` (max, p50, each round), ``cap_s`` (the configured back-off
cap), ``rounds``. Target (issue 12 item 3): reconnect_s max <= 1.0.

    python bench/ami_reconnect.py --json [--rounds 10] [--down 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.daemon.harness import floor_harness


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hotline-ami-reconnect-") as tmp:
        async with floor_harness(Path(tmp), agents=2) as h:
            watcher, ami = h.daemon.watcher, h.daemon.ami
            cap = h.settings.system.ami.reconnect_max_s
            for _ in range(args.rounds):
                h.sim.faults.refuse_ami()
                await h.wait_for(lambda: not ami.connected, "the link to go")
                await asyncio.sleep(rng.uniform(0.5, args.down))
                h.sim.faults.refuse_ami(on=False)
                back = time.monotonic()
                await watcher.synced.wait()  # cleared when the link went
                times.append(time.monotonic() - back)
            await h.stop_daemon()
    return {
        "reconnect_s": {
            "max": round(max(times), 3),
            "p50": round(statistics.median(times), 3),
            "each": [round(t, 3) for t in times],
        },
        "cap_s": cap,
        "rounds": args.rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=10, help="outages to measure")
    parser.add_argument("--down", type=float, default=3.0, help="longest outage, seconds")
    parser.add_argument("--seed", type=int, default=1, help="random outage lengths")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    result = asyncio.run(_run(args))
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
