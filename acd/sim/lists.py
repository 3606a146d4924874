"""Items of the AMI list actions (CoreShowChannels, Status, QueueStatus, QueueSummary,
DeviceStateList). The runtime sends the ``Response``/``EventList: start`` head and the
``...Complete`` tail; these are the item events, with ActionID where Asterisk puts it
(ami_login_and_actions.txt sections 8-12, 23, 24, 28c/d).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.asterisk.ami.message import Message
from acd.sim.channels import Channel, channel_headers
from acd.sim.queue_admin import queue_list_items

if TYPE_CHECKING:
    from acd.sim.world import World


def _aid(action_id: str | None) -> list[tuple[str, str]]:
    return [("ActionID", action_id)] if action_id is not None else []


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Lists:
    def __init__(self, world: World) -> None:
        self.world = world

    def core_show_channels(self, now: float, action_id: str | None) -> list[Message]:
        return [
            Message.build(
                [
                    ("Event", "CoreShowChannel"),
                    *_aid(action_id),
                    *channel_headers(ch),
                    ("Application", ch.application),
                    ("ApplicationData", ch.app_data),
                    ("Duration", _duration(now - ch.created_at)),
                    ("BridgeId", ch.bridge_id),
                ]
            )
            for ch in self._ordered()
        ]

    def _ordered(self) -> list[Channel]:
        # Asterisk lists newest first (the recorded ;2 came before ;1)
        return list(reversed(self.world.channels.values()))

    def status(
        self, now: float, action_id: str | None, channel: str | None
    ) -> list[Message] | None:
        chans = self._ordered()
        if channel is not None:
            chans = [c for c in chans if c.name == channel]
            if not chans:
                return None
        return [
            Message.build(
                [
                    ("Event", "Status"),
                    ("Privilege", "Call"),
                    *channel_headers(ch),
                    ("Type", ch.kind),
                    ("DNID", ""),
                    ("EffectiveConnectedLineNum", ch.conn_num),
                    ("EffectiveConnectedLineName", ch.conn_name),
                    ("TimeToHangup", "0"),
                    ("BridgeID", ch.bridge_id),
                    ("Application", ch.application),
                    ("Data", ch.app_data),
                    ("Nativeformats", "(slin)"),
                    ("Readformat", "slin"),
                    ("Readtrans", ""),
                    ("Writeformat", "slin"),
                    ("Writetrans", ""),
                    ("Callgroup", "0"),
                    ("Pickupgroup", "0"),
                    ("Seconds", str(int(now - ch.created_at))),
                    *_aid(action_id),
                ]
            )
            for ch in chans
        ]

    def queue_status(self, now: float, action_id: str | None, queue: str | None) -> list[Message]:
        out: list[Message] = []
        for q in self.world.queues.queues.values():
            if queue is None or q.name == queue:
                out += [
                    Message(m.headers + tuple(_aid(action_id))) for m in queue_list_items(q, now)
                ]
        return out

    def queue_summary(self, now: float, action_id: str | None, queue: str | None) -> list[Message]:
        out: list[Message] = []
        for q in self.world.queues.queues.values():
            if queue is not None and q.name != queue:
                continue
            waiting = [e for e in q.entries if not e.connected]
            free = [m for m in q.members if not m.paused and not m.in_call and m.status == 1]
            longest = max((now - e.joined_at for e in waiting), default=0.0)
            out.append(
                Message.build(
                    [
                        ("Event", "QueueSummary"),
                        ("Queue", q.name),
                        ("LoggedIn", str(len(q.members))),
                        ("Available", str(len(free))),
                        ("Callers", str(len(waiting))),
                        ("HoldTime", str(int(q.holdtime))),
                        ("TalkTime", str(int(q.talktime))),
                        ("LongestHoldTime", str(int(longest))),
                        *_aid(action_id),
                    ]
                )
            )
        return out

    def device_states(self, action_id: str | None) -> list[Message]:
        """One DeviceStateChange per cached device: Event, ActionID, Device, State, no Privilege.

        res/res_manager_devicestate.c action_devicestatelist; the runtime sends the ack
        "Device State Changes will follow" and the DeviceStateListComplete tail. Local devices
        are not cached, so not listed (RECORDED q3_devstate_local_results.json).
        """
        return [
            Message.build(
                [
                    ("Event", "DeviceStateChange"),
                    *_aid(action_id),
                    ("Device", device),
                    ("State", state),
                ]
            )
            for device, state in sorted(self.world.devices.cached.items())
        ]
