"""AMI actions that act on calls, queues and recordings (handlers for ``acd.sim.ami_actions``).

Each handler asks the pure ``Pbx``, writes the reply in the recorded wording
(ami_login_and_actions.txt) and then lets the runtime dispatch the events the action caused.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from acd.asterisk.ami.message import Message
from acd.sim.outputs import OriginateRejected, OriginateRequest, OriginateResult

if TYPE_CHECKING:
    from acd.sim.ami_actions import SimHost
    from acd.sim.ami_server import AmiSession

_TRUE = ("yes", "true", "y", "t", "1", "on")  # main/utils.c ast_true
_sync_tokens = itertools.count(1)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def _int(value: str | None, default: int) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return default


def _error(s: AmiSession, action: Message, text: str) -> None:
    s.write(s.conn.response(action, "Error", message=text))


def _ack(host: SimHost, s: AmiSession, action: Message, text: str | None = None) -> None:
    s.write(s.conn.response(action, message=text))
    host.flush()


def _variables(action: Message) -> tuple[tuple[str, str], ...]:
    # main/manager.c astman_get_variables_order: every Variable header, each split on ','.
    pairs: list[tuple[str, str]] = []
    for header in action.get_all("Variable"):
        for part in header.split(","):
            name, sep, value = part.partition("=")
            if sep and name.strip():
                pairs.append((name.strip(), value))
    return tuple(pairs)


def originate_request(action: Message) -> OriginateRequest:
    return OriginateRequest(
        channel=action.get("Channel") or "",
        context=action.get("Context") or None,
        exten=action.get("Exten") or None,
        priority=_int(action.get("Priority"), 1),
        application=action.get("Application") or None,
        data=action.get("Data") or "",
        variables=_variables(action),
        caller_id=action.get("CallerID") or None,
        timeout_ms=_int(action.get("Timeout"), 30000),
        is_async=_true(action.get("Async")),
        action_id=action.action_id,
    )


async def originate(host: SimHost, s: AmiSession, action: Message) -> None:
    if not action.get("Channel"):
        _error(s, action, "Channel not specified")
        return
    req = originate_request(action)
    if req.is_async:
        accepted = host.pbx.originate(host.now(), req)
        if isinstance(accepted, OriginateRejected):
            _error(s, action, accepted.message)
            host.flush()
            return
        _ack(host, s, action, "Originate successfully queued")
        return
    # Synchronous: the reply waits for the outcome. A private token stands in for the ActionID so
    # two sessions using the same ActionID cannot answer each other's Originate.
    token = f"sim-sync-{next(_sync_tokens)}"
    waiter = host.expect_originate(token)
    accepted = host.pbx.originate(host.now(), dataclasses.replace(req, action_id=token))
    if isinstance(accepted, OriginateRejected):
        waiter.cancel()
        _error(s, action, accepted.message)
        host.flush()
        return
    outputs = host.pbx.drain()
    done = [o for o in outputs if isinstance(o, OriginateResult) and o.action_id == token]
    if done:  # answered at once (Local channels): reply before the call's events, as recorded
        _originate_reply(s, action, done[0])
        host.dispatch(outputs)
        return
    host.dispatch(outputs)
    _originate_reply(s, action, await waiter)


def _originate_reply(s: AmiSession, action: Message, result: OriginateResult) -> None:
    if result.success:
        s.write(s.conn.response(action, message="Originate successfully queued"))
    else:
        _error(s, action, "Originate failed")


async def hangup(host: SimHost, s: AmiSession, action: Message) -> None:
    channel = action.get("Channel") or ""
    if not channel:
        _error(s, action, "No channel specified")
        return
    if not host.pbx.hangup(host.now(), channel, _int(action.get("Cause"), 16)):
        _error(s, action, "No such channel")
        return
    _ack(host, s, action, "Channel Hungup")


async def redirect(host: SimHost, s: AmiSession, action: Message) -> None:
    channel = action.get("Channel") or ""
    if not channel:
        _error(s, action, "Channel not specified")  # main/manager.c action_redirect
        return
    ok = host.pbx.redirect(
        host.now(),
        channel,
        action.get("Context") or "",
        action.get("Exten") or "",
        _int(action.get("Priority"), 1),
    )
    if not ok:
        _error(s, action, f"Channel does not exist: {channel}")
        return
    _ack(host, s, action, "Redirect successful")


async def getvar(host: SimHost, s: AmiSession, action: Message) -> None:
    name = action.get("Variable") or ""
    if not name:
        _error(s, action, "No variable specified")  # main/manager.c action_getvar
        return
    value = host.pbx.get_var(action.get("Channel") or None, name)
    if value is None:
        _error(s, action, "No such channel")
        return
    s.write(s.conn.response(action, headers=[("Variable", name), ("Value", value)]))


async def setvar(host: SimHost, s: AmiSession, action: Message) -> None:
    name = action.get("Variable") or ""
    if not name:
        _error(s, action, "Variable not specified")  # main/manager.c action_setvar
        return
    value = action.get("Value") or ""
    if not host.pbx.set_var(host.now(), action.get("Channel") or None, name, value):
        _error(s, action, "No such channel")
        return
    _ack(host, s, action, "Variable Set")


async def status(host: SimHost, s: AmiSession, action: Message) -> None:
    items = host.pbx.status(host.now(), action.action_id, action.get("Channel") or None)
    if items is None:
        _error(s, action, "No such channel")
        return
    s.write(
        s.conn.event_list(
            action,
            items,
            "StatusComplete",
            message="Channel status will follow",
            complete_headers=[("Items", str(len(items)))],
        )
    )


def _list(
    complete: str, message: str, items: Callable[[SimHost, Message], list[Message]]
) -> Callable[[SimHost, AmiSession, Message], Awaitable[None]]:
    async def handler(host: SimHost, s: AmiSession, action: Message) -> None:
        s.write(s.conn.event_list(action, items(host, action), complete, message=message))

    return handler


async def queue_add(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_queue.c manager_add_queue_member
    queue, interface = action.get("Queue") or "", action.get("Interface") or ""
    if not queue:
        _error(s, action, "'Queue' not specified.")
        return
    if not interface:
        _error(s, action, "'Interface' not specified.")
        return
    outcome = host.pbx.queue_add(
        host.now(),
        queue,
        interface,
        action.get("MemberName") or "",
        _int(action.get("Penalty"), 0),
        _true(action.get("Paused")),
        action.get("StateInterface") or "",
    )
    if outcome == "ok":
        _ack(host, s, action, "Added interface to queue")
    elif outcome == "exists":
        _error(s, action, "Unable to add interface: Already there")
    else:
        _error(s, action, "Unable to add interface to queue: No such queue")


async def queue_remove(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_queue.c manager_remove_queue_member
    queue, interface = action.get("Queue") or "", action.get("Interface") or ""
    if not queue or not interface:
        _error(s, action, "Need 'Queue' and 'Interface' parameters.")
        return
    outcome = host.pbx.queue_remove(host.now(), queue, interface)
    if outcome == "ok":
        _ack(host, s, action, "Removed interface from queue")
    elif outcome == "missing":
        _error(s, action, "Unable to remove interface: Not there")
    else:
        _error(s, action, "Unable to remove interface from queue: No such queue")


async def queue_pause(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_queue.c manager_pause_queue_member
    interface, paused = action.get("Interface") or "", action.get("Paused")
    if not interface or not paused:
        _error(s, action, "Need 'Interface' and 'Paused' parameters.")
        return
    pause = _true(paused)
    ok = host.pbx.queue_pause(
        host.now(), interface, pause, action.get("Queue") or None, action.get("Reason") or ""
    )
    if not ok:
        _error(s, action, "Interface not found")
        return
    _ack(host, s, action, f"Interface {'paused' if pause else 'unpaused'} successfully")


def _known_channel(host: SimHost, name: str) -> bool:
    return any(c.name == name for c in host.pbx.channels())


async def mixmonitor(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_mixmonitor.c manager_mixmonitor
    channel = action.get("Channel") or ""
    if not channel:
        _error(s, action, "No channel specified")
        return
    mm_id = host.pbx.mixmonitor(
        host.now(), channel, action.get("File") or "", action.get("Options") or ""
    )
    if mm_id is None:
        _error(s, action, "No such channel")
        return
    s.write(s.conn.response(action, headers=[("MixMonitorID", mm_id)] if mm_id else []))
    host.flush()


async def stop_mixmonitor(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_mixmonitor.c manager_stop_mixmonitor
    channel = action.get("Channel") or ""
    if not channel:
        _error(s, action, "No channel specified")
        return
    if not host.pbx.stop_mixmonitor(host.now(), channel, action.get("MixMonitorID") or ""):
        known = _known_channel(host, channel)
        _error(s, action, "Could not stop monitoring channel" if known else "No such channel")
        return
    _ack(host, s, action)


async def mixmonitor_mute(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_mixmonitor.c manager_mute_mixmonitor
    channel, direction = action.get("Channel") or "", (action.get("Direction") or "").lower()
    state = action.get("State") or ""
    if not direction:
        _error(s, action, "No direction specified. Must be read, write or both")
        return
    if direction not in ("read", "write", "both"):
        _error(s, action, "Invalid direction specified. Must be read, write or both")
        return
    if not channel:
        _error(s, action, "No channel specified")
        return
    if not state:
        _error(s, action, "No state specified")
        return
    if not host.pbx.mixmonitor_mute(host.now(), channel, direction, _true(state)):
        known = _known_channel(host, channel)
        _error(s, action, "Cannot set mute flag" if known else "No such channel")
        return
    _ack(host, s, action)


HANDLERS: dict[str, Callable[[SimHost, AmiSession, Message], Awaitable[None]]] = {
    "originate": originate,
    "hangup": hangup,
    "redirect": redirect,
    "getvar": getvar,
    "setvar": setvar,
    "status": status,
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
    "mixmonitor": mixmonitor,
    "stopmixmonitor": stop_mixmonitor,
    "mixmonitormute": mixmonitor_mute,
}
