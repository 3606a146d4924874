"""MixMonitor recordings (AMI action and application, also started by app_queue on answer).

Recorded behaviour (ami_login_and_actions.txt 26-28, ami_events_full_call.txt A): a relative
file goes to the monitor spool, VarSet MIXMONITOR_FILENAME carries the path (MixMonitorStart has
no file name), option ``i(VAR)`` stores the MixMonitorID in VAR, StopMixMonitor emits
MixMonitorStop, and a call that simply ends emits no MixMonitorStop. Option ``D`` (app_mixmonitor.c
mixmonitor_exec: interleaved stereo) gives a 2-channel file.

From apps/app_mixmonitor.c (not recorded): ``mixmonitor_thread`` opens the mixed file and the
``r(...)``/``t(...)`` leg files at once (``mixmonitor_save_prep``) and, with option ``b``,
writes a frame only while the channel is bridged; so the files hold the bridged time only, and
just a WAV header if the channel was never bridged. The legs get the same frames' read and
write halves, hence the same length here.
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
    legs: tuple[str, ...] = ()  # r(...) and t(...) files
    bridged_only: bool = False  # option b
    bridged_s: float = 0.0
    bridged_since: float | None = None


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
        flags = re.sub(r"\([^)]*\)", "", options)
        stereo = "D" in flags
        legs = tuple(
            leg if leg.startswith("/") else f"{world.plan.recordings_dir}/{leg}"
            for leg in re.findall(r"[rt]\(([^)]*)\)", options)
        )
        rec = Recording(
            mmid, ch, path, now, 2 if stereo else 1, legs=legs, bridged_only="b" in flags
        )
        if ch.bridge_id:
            rec.bridged_since = now
        self.active.append(rec)
        return mmid

    def bridge_changed(self, now: float, ch: Channel) -> None:
        """``ch`` entered or left a bridge: option ``b`` recordings count bridged time only."""
        for rec in self.active:
            if rec.channel is not ch:
                continue
            if ch.bridge_id and rec.bridged_since is None:
                rec.bridged_since = now
            elif not ch.bridge_id and rec.bridged_since is not None:
                rec.bridged_s += now - rec.bridged_since
                rec.bridged_since = None

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
        if rec.bridged_only:
            self.bridge_changed(now, rec.channel)  # close an open bridged interval
            seconds = rec.bridged_s + (now - rec.bridged_since if rec.bridged_since else 0.0)
        else:
            seconds = max(now - rec.started_at, 0.0)
        seed = sum(rec.path.encode()) & 0xFFFF
        self.world.output(WavFile(rec.path, seconds, rec.channels, seed))
        for leg in rec.legs:
            self.world.output(WavFile(leg, seconds, 1, sum(leg.encode()) & 0xFFFF))
