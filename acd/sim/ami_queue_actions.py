"""AMI actions on queues and the list actions (handlers for ``acd.sim.ami_actions``).

Replies in the recorded wording (ami_login_and_actions.txt sections 8-21); list replies come out
of ``ServerConnection.event_list`` with the items the pure ``Pbx`` builds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from acd.asterisk.ami.message import Message

if TYPE_CHECKING:
    from acd.sim.ami_actions import SimHost
    from acd.sim.ami_server import AmiSession

Handler = Callable[["SimHost", "AmiSession", Message], Awaitable[None]]

_TRUE = ("yes", "true", "y", "t", "1", "on")  # main/utils.c ast_true


def true(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def to_int(value: str | None, default: int) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return default


def error(s: AmiSession, action: Message, text: str) -> None:
    s.write(s.conn.response(action, "Error", message=text))


def ack(host: SimHost, s: AmiSession, action: Message, text: str | None = None) -> None:
    """Success reply first, then the events the action caused (the recorded order)."""
    s.write(s.conn.response(action, message=text))
    host.flush()


def _list(
    complete: str, message: str, items: Callable[[SimHost, Message], list[Message]]
) -> Handler:
    async def handler(host: SimHost, s: AmiSession, action: Message) -> None:
        s.write(s.conn.event_list(action, items(host, action), complete, message=message))

    return handler


async def queue_add(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_queue.c manager_add_queue_member
    queue, interface = action.get("Queue") or "", action.get("Interface") or ""
    if not queue:
        error(s, action, "'Queue' not specified.")
        return
    if not interface:
        error(s, action, "'Interface' not specified.")
        return
    outcome = host.pbx.queue_add(
        host.now(),
        queue,
        interface,
        action.get("MemberName") or "",
        to_int(action.get("Penalty"), 0),
        true(action.get("Paused")),
        action.get("StateInterface") or "",
    )
    if outcome == "ok":
        ack(host, s, action, "Added interface to queue")
    elif outcome == "exists":
        error(s, action, "Unable to add interface: Already there")
    else:
        error(s, action, "Unable to add interface to queue: No such queue")


async def queue_remove(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_queue.c manager_remove_queue_member
    queue, interface = action.get("Queue") or "", action.get("Interface") or ""
    if not queue or not interface:
        error(s, action, "Need 'Queue' and 'Interface' parameters.")
        return
    outcome = host.pbx.queue_remove(host.now(), queue, interface)
    if outcome == "ok":
        ack(host, s, action, "Removed interface from queue")
    elif outcome == "missing":
        error(s, action, "Unable to remove interface: Not there")
    else:
        error(s, action, "Unable to remove interface from queue: No such queue")


async def queue_pause(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_queue.c manager_pause_queue_member
    interface, paused = action.get("Interface") or "", action.get("Paused")
    if not interface or not paused:
        error(s, action, "Need 'Interface' and 'Paused' parameters.")
        return
    pause = true(paused)
    ok = host.pbx.queue_pause(
        host.now(), interface, pause, action.get("Queue") or None, action.get("Reason") or ""
    )
    if not ok:
        error(s, action, "Interface not found")
        return
    ack(host, s, action, f"Interface {'paused' if pause else 'unpaused'} successfully")


HANDLERS: dict[str, Handler] = {
    "coreshowchannels": _list(
        "CoreShowChannelsComplete",
        "Channels will follow",
        lambda h, a: h.pbx.core_show_channels(h.now(), a.action_id),
    ),
    "queuestatus": _list(
        "QueueStatusComplete",
        "Queue status will follow",
        lambda h, a: h.pbx.queue_status(h.now(), a.action_id, a.get("Queue") or None),
    ),
    "queuesummary": _list(
        "QueueSummaryComplete",
        "Queue summary will follow",
        lambda h, a: h.pbx.queue_summary(h.now(), a.action_id, a.get("Queue") or None),
    ),
    # main/manager.c action_devicestatelist
    "devicestatelist": _list(
        "DeviceStateListComplete",
        "Device State Changes will follow",
        lambda h, a: h.pbx.device_states(a.action_id),
    ),
    "queueadd": queue_add,
    "queueremove": queue_remove,
    "queuepause": queue_pause,
}
