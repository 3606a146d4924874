"""app_queue member administration: AMI QueueAdd/QueueRemove/QueuePause and device states.

Event shapes per ami_login_and_actions.txt 14-20 (QueueMemberAdded, QueueMemberPause with the
``Queue:<q>_pause_<iface>`` DeviceStateChange) and QueueMemberStatus on device changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acd.asterisk.ami.message import Message
from acd.sim import events as ev
from acd.sim.queue_state import DEVICE_STATUS, Member, QueueState

if TYPE_CHECKING:
    from acd.sim.world import World


class QueueAdmin:
    def __init__(self, world: World) -> None:
        self.world = world
        login = int(world.naming.wall(0.0))
        self.queues: dict[str, QueueState] = {
            q.name: QueueState(
                q,
                [
                    Member(
                        m.interface,
                        m.name,
                        m.state_interface or world.device_of(m.interface),
                        m.penalty,
                        paused=m.paused,
                        login_time=login,
                        status=DEVICE_STATUS[world.device_state(m.state_interface or m.interface)],
                    )
                    for m in q.members
                ],
            )
            for q in world.plan.queues
        }
        # device -> its memberships, in queue then member order (the order of the events);
        # rebuilt after QueueAdd/QueueRemove: a device change must not scan every member of
        # every queue (10,000 agents: 40,000 members per phone state change)
        self._by_device: dict[str, list[tuple[QueueState, Member]]] | None = None

    def whole_seconds(self, start: float, end: float) -> int:
        """app_queue measures hold and talk time with ``time(NULL)``: a difference of whole
        wall-clock seconds (RECORDED q6: COMPLETECALLER talk 8 after 7.5 s of talk)."""
        wall = self.world.naming.wall
        return int(wall(end)) - int(wall(start))

    # -- member administration (AMI QueueAdd/QueueRemove/QueuePause) ----------------------------
    def add_member(
        self,
        now: float,
        queue: str,
        interface: str,
        *,
        name: str = "",
        penalty: int = 0,
        paused: bool = False,
        state_interface: str = "",
    ) -> str:
        q = self.queues.get(queue)
        if q is None:
            return "no-queue"
        if q.member(interface) is not None:
            return "exists"
        member = Member(
            interface,
            name or interface,
            state_interface or self.world.device_of(interface),
            penalty,
            dynamic=True,
            paused=paused,
            login_time=int(self.world.naming.wall(now)),
        )
        member.status = DEVICE_STATUS[self.world.device_state(member.state_interface)]
        q.members.append(member)
        self._by_device = None
        self._member_event("QueueMemberAdded", q, member)
        return "ok"

    def remove_member(self, now: float, queue: str, interface: str) -> str:
        q = self.queues.get(queue)
        if q is None:
            return "no-queue"
        member = q.member(interface)
        if member is None:
            return "missing"
        q.members.remove(member)
        self._by_device = None
        self._member_event("QueueMemberRemoved", q, member)
        return "ok"

    def pause_member(
        self, now: float, interface: str, paused: bool, *, queue: str | None, reason: str
    ) -> bool:
        found = False
        for q in self.queues.values():
            member = q.member(interface)
            if member is None or (queue is not None and q.name != queue):
                continue
            found = True
            member.paused, member.paused_reason = paused, reason if paused else ""
            if paused:
                member.last_pause = int(self.world.naming.wall(now))
            self.world.emit(
                ev.device_state_change(
                    f"Queue:{q.name}_pause_{interface}", "INUSE" if paused else "NOT_INUSE"
                )
            )
            self._member_event("QueueMemberPause", q, member)
        return found

    def device_changed(self, now: float, device: str) -> None:
        status = DEVICE_STATUS[self.world.device_state(device)]
        if self._by_device is None:
            self._by_device = {}
            for q in self.queues.values():
                for member in q.members:
                    self._by_device.setdefault(member.state_interface, []).append((q, member))
        for q, member in self._by_device.get(device, ()):
            if member.status != status:
                member.status = status
                self._member_event("QueueMemberStatus", q, member)

    def _member_event(self, name: str, q: QueueState, member: Member) -> None:
        self.world.emit(ev.event(name, ev.AGENT, member.headers(q.name)))

    # -- the Queue() application ---------------------------------------------------------------


def queue_list_items(q: QueueState, now: float) -> list[Message]:
    """QueueStatus items without ActionID (lists.py appends it)."""
    items = [Message.build([("Event", "QueueParams"), *q.params()])]
    items += [Message.build([("Event", "QueueMember"), *m.list_item(q.name)]) for m in q.members]
    for pos, e in enumerate((e for e in q.entries if not e.connected), start=1):
        c = e.caller
        items.append(
            Message.build(
                [
                    ("Event", "QueueEntry"),
                    ("Queue", q.name),
                    ("Position", str(pos)),
                    ("Channel", c.name),
                    ("Uniqueid", c.uniqueid),
                    ("CallerIDNum", c.cid_num),
                    ("CallerIDName", c.cid_name),
                    ("ConnectedLineNum", c.conn_num),
                    ("ConnectedLineName", c.conn_name),
                    ("Wait", str(int(now - e.joined_at))),
                    ("Priority", str(e.priority)),  # QUEUE_PRIO (RECORDED q6_results.json)
                ]
            )
        )
    return items
