"""ChanSpy for supervisors (Originate ``Application: ChanSpy``, ``Data: <prefix>,<options>``).

chanspy_events.txt: only ChanSpyStart/ChanSpyStop appear on AMI, the same for listen (q),
whisper (w) and barge (B); ChanSpyStart ~0.1 s after the spyer answers; when the supervisor's
phone hangs up: SoftHangupRequest ;2, HangupRequest ;1, Hangup ;2, ChanSpyStop, Hangup ;1.
Option E ends ChanSpy when the spied channel goes away; b only picks bridged channels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.channels import Channel

if TYPE_CHECKING:
    from acd.sim.world import World

START_DELAY = 0.1
SCAN_INTERVAL = 1.0  # app_chanspy.c common_exec waits between scans when nobody matches
WATCH_INTERVAL = 0.5  # how often the simulator checks that the spied channel still exists


def run_chanspy(
    world: World, now: float, spyer: Channel, data: str, done: Callable[[float], None]
) -> None:
    """``done`` continues the spyer's dialplan when ChanSpy ends on its own (option E)."""
    prefix, _, options = data.partition(",")
    state: dict[str, Channel | None] = {"spyee": None}

    def gone(t: float) -> None:
        spyee = state["spyee"]
        if spyee is not None:
            world.emit(ev.chanspy("ChanSpyStop", spyer, spyee))
        world.destroy(spyer, 16)

    def spyee_gone(t: float) -> None:
        spyee = state["spyee"]
        if spyee is None or spyee.alive or not spyer.alive:
            return
        world.emit(ev.chanspy("ChanSpyStop", spyer, spyee))
        state["spyee"] = None
        if "E" in options:
            done(t)
        else:
            world.timers.at(t + SCAN_INTERVAL, scan)

    def watch(t: float) -> None:
        spyee = state["spyee"]
        if spyee is None or not spyer.alive:
            return
        if not spyee.alive:
            spyee_gone(t)
        else:
            world.timers.at(t + WATCH_INTERVAL, watch)

    def scan(t: float) -> None:
        if not spyer.alive:
            return
        target = next(
            (
                c
                for c in world.channels.values()
                if c is not spyer
                and c.name.startswith(prefix)
                and c.alive
                and (c.bridge_id or "b" not in options)
            ),
            None,
        )
        if target is None:
            world.timers.at(t + SCAN_INTERVAL, scan)
            return
        state["spyee"] = target
        world.emit(ev.chanspy("ChanSpyStart", spyer, target))
        world.timers.at(t + WATCH_INTERVAL, watch)

    spyer.on_hangup = gone
    world.timers.at(now + START_DELAY, scan)
