"""MixMonitor recordings (AMI action and application, also started by app_queue on answer).

Recorded behaviour (ami_login_and_actions.txt 26-28, ami_events_full_call.txt A): a relative
file goes to the monitor spool, VarSet MIXMONITOR_FILENAME carries the path (MixMonitorStart has
no file name), option ``i(VAR)`` stores the MixMonitorID in VAR, StopMixMonitor emits
MixMonitorStop, and a call that simply ends emits no MixMonitorStop. Option ``D`` (app_mixmonitor.c
mixmonitor_exec: interleaved stereo) gives a 2-channel file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from acd.sim import events as ev
from acd.sim.channels import Channel
from acd.sim.outputs import WavFile

if TYPE_CHECKING:
    from acd.sim.world import World


@dataclass(eq=False)
class Recording:
    mixmonitor_id: str
    channel: Channel
    path: str
    started_at: float
    channels: int
    muted: set[str] = field(default_factory=set)


class Recorder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.active: list[Recording] = []
        self._next = 0x7F8C28010FE0

    def start(
        self, now: float, channel: str, file: str, options: str, *, via_app: bool
    ) -> str | None:
        world = self.world
        ch = world.find(channel)
        if ch is None:
            return None
        path = file if file.startswith("/") else f"{world.plan.recordings_dir}/{file}"
        mmid = f"0x{self._next:x}"
        self._next += 0x1000
        world.setvar(ch, "MIXMONITOR_FILENAME", path)
        match = re.search(r"i\(([^)]*)\)", options)
        if match:
            world.setvar(ch, match.group(1), mmid)
        world.emit(ev.chan("MixMonitorStart", ev.CALL, ch))
        stereo = "D" in re.sub(r"\([^)]*\)", "", options)
        self.active.append(Recording(mmid, ch, path, now, 2 if stereo else 1))
        return mmid

    def _find(self, channel: str, mixmonitor_id: str = "") -> list[Recording]:
        return [
            r
            for r in self.active
            if r.channel.name == channel and (not mixmonitor_id or r.mixmonitor_id == mixmonitor_id)
        ]

    def stop(self, now: float, channel: str, mixmonitor_id: str = "") -> bool:
        found = self._find(channel, mixmonitor_id)
        if not found:
            return False
        for rec in found:
            self.world.emit(ev.chan("MixMonitorStop", ev.CALL, rec.channel))
            self._finish(now, rec)
        return True

    def mute(self, now: float, channel: str, direction: str, state: bool) -> bool:
        """AMI MixMonitorMute (app_mixmonitor.c manager_mute_mixmonitor); not recorded."""
        found = self._find(channel)
        if not found:
            return False
        for rec in found:
            if state:
                rec.muted.add(direction)
            else:
                rec.muted.discard(direction)
            self.world.emit(
                ev.chan(
                    "MixMonitorMute",
                    ev.CALL,
                    rec.channel,
                    ("Direction", direction),
                    ("State", "1" if state else "0"),
                )
            )
        return True

    def channel_gone(self, now: float, ch: Channel) -> None:
        for rec in [r for r in self.active if r.channel is ch]:
            self._finish(now, rec)

    def _finish(self, now: float, rec: Recording) -> None:
        self.active.remove(rec)
        seconds = max(now - rec.started_at, 0.0)
        seed = sum(rec.path.encode()) & 0xFFFF
        self.world.output(WavFile(rec.path, seconds, rec.channels, seed))
