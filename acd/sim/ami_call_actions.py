"""AMI actions that act on calls and recordings (handlers for ``acd.sim.ami_actions``).

Each handler asks the pure ``Pbx``, writes the reply in the recorded wording
(ami_login_and_actions.txt) and then lets the runtime dispatch the events the action caused.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING

from acd.asterisk.ami.message import Message
from acd.sim import ami_queue_actions as queues
from acd.sim.ami_dtmf import play_dtmf
from acd.sim.ami_queue_actions import Handler, ack, error, to_int, true
from acd.sim.outputs import OriginateRejected, OriginateRequest, OriginateResult

if TYPE_CHECKING:
    from acd.sim.ami_actions import SimHost
    from acd.sim.ami_server import AmiSession

_sync_tokens = itertools.count(1)


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
        priority=to_int(action.get("Priority"), 1),
        application=action.get("Application") or None,
        data=action.get("Data") or "",
        variables=_variables(action),
        caller_id=action.get("CallerID") or None,
        timeout_ms=to_int(action.get("Timeout"), 30000),
        is_async=true(action.get("Async")),
        action_id=action.action_id,
    )


async def originate(host: SimHost, s: AmiSession, action: Message) -> None:
    if not action.get("Channel"):
        error(s, action, "Channel not specified")
        return
    req = originate_request(action)
    if req.is_async:
        accepted = host.pbx.originate(host.now(), req)
        if isinstance(accepted, OriginateRejected):
            error(s, action, accepted.message)
            host.flush()
            return
        ack(host, s, action, "Originate successfully queued")
        return
    # Synchronous: the reply waits for the outcome. A private token stands in for the ActionID so
    # two sessions using the same ActionID cannot answer each other's Originate.
    token = f"sim-sync-{next(_sync_tokens)}"
    waiter = host.expect_originate(token)
    accepted = host.pbx.originate(host.now(), dataclasses.replace(req, action_id=token))
    if isinstance(accepted, OriginateRejected):
        waiter.cancel()
        error(s, action, accepted.message)
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
        error(s, action, "Originate failed")


async def hangup(host: SimHost, s: AmiSession, action: Message) -> None:
    channel = action.get("Channel") or ""
    if not channel:
        error(s, action, "No channel specified")
        return
    # main/manager.c ast_manager_hangup_helper: no (or a bad) Cause header sets no cause, so
    # the hang-up events carry 0 (RECORDED q4_q5_q5.txt: Hangup/HangupRequest Cause 0)
    if not host.pbx.hangup(host.now(), channel, to_int(action.get("Cause"), 0)):
        error(s, action, "No such channel")
        return
    ack(host, s, action, "Channel Hungup")


async def redirect(host: SimHost, s: AmiSession, action: Message) -> None:
    channel = action.get("Channel") or ""
    if not channel:
        error(s, action, "Channel not specified")  # main/manager.c action_redirect
        return
    ok = host.pbx.redirect(
        host.now(),
        channel,
        action.get("Context") or "",
        action.get("Exten") or "",
        to_int(action.get("Priority"), 1),
    )
    if not ok:
        error(s, action, f"Channel does not exist: {channel}")
        return
    ack(host, s, action, "Redirect successful")


async def getvar(host: SimHost, s: AmiSession, action: Message) -> None:
    name = action.get("Variable") or ""
    if not name:
        error(s, action, "No variable specified")  # main/manager.c action_getvar
        return
    value = host.pbx.get_var(action.get("Channel") or None, name)
    if value is None:
        error(s, action, "No such channel")
        return
    s.write(s.conn.response(action, headers=[("Variable", name), ("Value", value)]))


async def setvar(host: SimHost, s: AmiSession, action: Message) -> None:
    name = action.get("Variable") or ""
    if not name:
        error(s, action, "Variable not specified")  # main/manager.c action_setvar
        return
    value = action.get("Value") or ""
    if not host.pbx.set_var(host.now(), action.get("Channel") or None, name, value):
        error(s, action, "No such channel")
        return
    ack(host, s, action, "Variable Set")


async def status(host: SimHost, s: AmiSession, action: Message) -> None:
    items = host.pbx.status(host.now(), action.action_id, action.get("Channel") or None)
    if items is None:
        error(s, action, "No such channel")
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


def _known_channel(host: SimHost, name: str) -> bool:
    return any(c.name == name for c in host.pbx.channels())


async def mixmonitor(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_mixmonitor.c manager_mixmonitor
    channel = action.get("Channel") or ""
    if not channel:
        error(s, action, "No channel specified")
        return
    mm_id = host.pbx.mixmonitor(
        host.now(), channel, action.get("File") or "", action.get("Options") or ""
    )
    if mm_id is None:
        error(s, action, "No such channel")
        return
    s.write(s.conn.response(action, headers=[("MixMonitorID", mm_id)] if mm_id else []))
    host.flush()


async def stop_mixmonitor(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_mixmonitor.c manager_stop_mixmonitor
    channel = action.get("Channel") or ""
    if not channel:
        error(s, action, "No channel specified")
        return
    if not host.pbx.stop_mixmonitor(host.now(), channel, action.get("MixMonitorID") or ""):
        known = _known_channel(host, channel)
        error(s, action, "Could not stop monitoring channel" if known else "No such channel")
        return
    ack(host, s, action)


async def mixmonitor_mute(host: SimHost, s: AmiSession, action: Message) -> None:
    # apps/app_mixmonitor.c manager_mute_mixmonitor
    channel, direction = action.get("Channel") or "", (action.get("Direction") or "").lower()
    state = action.get("State") or ""
    if not direction:
        error(s, action, "No direction specified. Must be read, write or both")
        return
    if direction not in ("read", "write", "both"):
        error(s, action, "Invalid direction specified. Must be read, write or both")
        return
    if not channel:
        error(s, action, "No channel specified")
        return
    if not state:
        error(s, action, "No state specified")
        return
    if not host.pbx.mixmonitor_mute(host.now(), channel, direction, true(state)):
        known = _known_channel(host, channel)
        error(s, action, "Cannot set mute flag" if known else "No such channel")
        return
    ack(host, s, action)


HANDLERS: dict[str, Handler] = {
    "originate": originate,
    "hangup": hangup,
    "redirect": redirect,
    "getvar": getvar,
    "setvar": setvar,
    "status": status,
    "mixmonitor": mixmonitor,
    "stopmixmonitor": stop_mixmonitor,
    "mixmonitormute": mixmonitor_mute,
    "playdtmf": play_dtmf,
    **queues.HANDLERS,
}
