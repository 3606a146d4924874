"""``hotline sim``: run the PBX simulator standalone (AMI server + FastAGI client + callers).

It listens for AMI like Asterisk (user/secret ``acd``/``acdsecret`` unless given), places seeded
Poisson traffic into the ``hotline`` context and connects each call's FastAGI to the daemon.
With ``--config DIR`` it runs the dialplan rendered from that configuration (the shipped
``[hotline]``, its fallback queues and agents; FastAGI address from the configuration), as
``hotline run --config DIR`` expects; without it, the reference-config ``[hotline]`` the shared
recordings were made with, with FastAGI at ``--agi-host``/``--agi-port``. ``--asterisk-log-dir``
writes the ``queue_log`` and ``cdr-csv/Master.csv`` a fallback Queue() leaves. Runs for
``--duration`` seconds of traffic, then until the last call has ended (or Ctrl-C). Exit status:
0 done, 2 bad usage or an invalid configuration, 3 the AMI port could not be bound.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import sys
from pathlib import Path
from typing import Any

from acd.exitcodes import ExitCode
from acd.sim.plan import SimPlan
from acd.sim.runtime import Simulator
from acd.sim.traffic import TrafficProfile, demo_plan


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sim",
        help="run the simulated Asterisk (AMI + FastAGI) with generated callers",
        description="Simulated Asterisk 22: AMI server, FastAGI to the daemon, seeded traffic.",
    )
    parser.add_argument("--ami-host", default="127.0.0.1", help="AMI bind address")
    parser.add_argument("--ami-port", type=int, default=5038, help="AMI port (0 = any free)")
    parser.add_argument("--ami-username", default="acd", help="AMI user the daemon logs in as")
    parser.add_argument("--ami-secret", default="acdsecret", help="that user's AMI secret")
    parser.add_argument(
        "--config",
        metavar="DIR",
        type=Path,
        help="run the dialplan, queues and agents of this configuration (e.g. config)",
    )
    parser.add_argument("--agi-host", default="127.0.0.1", help="the daemon's FastAGI host")
    parser.add_argument("--agi-port", type=int, default=4573, help="the daemon's FastAGI port")
    parser.add_argument(
        "--asterisk-log-dir", metavar="DIR", help="write queue_log and cdr-csv/Master.csv here"
    )
    parser.add_argument(
        "--calls-per-hour", type=float, default=120.0, help="new calls per hour (Poisson)"
    )
    parser.add_argument("--agents", type=int, default=5, help="simulated softphones PJSIP/1001..")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of new calls")
    parser.add_argument("--seed", type=int, default=1, help="same seed = same calls")
    parser.add_argument("--recordings-dir", default="recordings-sim", help="MixMonitor files")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.agents < 0 or args.calls_per_hour < 0 or args.duration < 0 or args.time_scale <= 0:
        print("hotline sim: counts, rates and durations must be positive", file=sys.stderr)
        return ExitCode.USAGE
    plan = _plan(args)
    if plan is None:
        return ExitCode.USAGE
    try:
        return asyncio.run(_serve(args, plan))
    except OSError as exc:
        print(f"hotline sim: cannot listen for AMI: {exc}", file=sys.stderr)
        return ExitCode.UNAVAILABLE


def _plan(args: argparse.Namespace) -> SimPlan | None:
    if args.config is None:
        plan = demo_plan(
            random.Random(f"agents-{args.seed}"),
            agents=args.agents,
            agi_host=args.agi_host,
            agi_port=args.agi_port,
            recordings_dir=args.recordings_dir,
        )
    else:
        from acd.cli.demo.plan import DemoParams, sim_plan
        from acd.settings.errors import ConfigError
        from acd.settings.loader import load_settings

        try:
            settings = load_settings(args.config, require_secrets=False)
        except ConfigError as exc:
            print(f"hotline sim: invalid configuration in {args.config}:\n{exc}", file=sys.stderr)
            return None
        args.agi_host, args.agi_port = settings.fastagi.host, settings.fastagi.port
        plan = sim_plan(
            settings,
            DemoParams(seed=args.seed),
            agi_port=settings.fastagi.port,
            recordings_dir=args.recordings_dir,
        )
    return dataclasses.replace(plan, asterisk_log_dir=args.asterisk_log_dir)


async def _serve(args: argparse.Namespace, plan: SimPlan) -> int:
    sim = Simulator(
        plan,
        seed=args.seed,
        ami_host=args.ami_host,
        ami_port=args.ami_port,
        ami_username=args.ami_username,
        ami_secret=args.ami_secret,
        time_scale=args.time_scale,
    )
    await sim.start()
    try:
        calls = sim.start_traffic(
            TrafficProfile(calls_per_hour=args.calls_per_hour, duration_s=args.duration)
        )
        print(
            f"hotline sim: AMI on {args.ami_host}:{sim.ami_port}, FastAGI to "
            f"{args.agi_host}:{args.agi_port}, {len(calls)} calls over {args.duration:.0f} s "
            f"(seed {args.seed})",
            flush=True,
        )
        await asyncio.sleep(args.duration / args.time_scale)
        await sim.wait_idle()  # let the last calls finish
        print(f"hotline sim: done, {sim.calls_placed} calls placed", flush=True)
    finally:
        await sim.close()
    return ExitCode.OK
