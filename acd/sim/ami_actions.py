"""What each AMI action does in the simulator, answered in the recorded reply shapes.

Reply texts come from ami_login_and_actions.txt; where an answer is not recorded the Asterisk
function that produces it is named next to it. Each handler writes its response first and only then
lets the runtime dispatch the events the action caused, because that is the order the recording
shows (e.g. ``Channel Hungup`` before the Hangup events).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Protocol

from acd.asterisk.ami.message import Message, encode
from acd.sim import ami_call_actions as calls
from acd.sim.ami_queue_actions import Handler
from acd.sim.ami_server import event_classes, parse_event_mask
from acd.sim.pbx import Pbx

if TYPE_CHECKING:
    from acd.sim.ami_server import AmiSession
    from acd.sim.outputs import OriginateResult, Output


class SimHost(Protocol):
    """What the action handlers need from the runtime."""

    pbx: Pbx
    started_wall: float

    def now(self) -> float: ...
    def wall(self) -> float: ...
    def catch_up(self) -> None: ...
    def dispatch(self, outputs: list[Output]) -> None: ...
    def flush(self) -> None: ...
    def broadcast(self, message: Message) -> None: ...
    def expect_originate(self, token: str) -> asyncio.Future[OriginateResult]: ...

    @property
    def secrets(self) -> dict[str, str]: ...

    @property
    def auth_failure_delay(self) -> float: ...

    @property
    def version(self) -> str: ...

    @property
    def time_scale(self) -> float: ...


#: actions allowed before login (main/manager.c process_message answers the others with
#: "Permission denied")
_PRE_AUTH = {"login", "challenge", "logoff"}


def _event_tv(wall: float) -> str:
    """``EventTV``/``SessionTV`` as recorded: ``2026-11-22T06:04:16.822+0000``."""
    ms = int((wall % 1) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + f".{ms:03d}+0000"


def security_headers(host: SimHost, severity: str) -> list[tuple[str, str]]:
    return [
        ("Privilege", "security,all"),
        ("EventTV", _event_tv(host.wall())),
        ("Severity", severity),
        ("Service", "AMI"),
        ("EventVersion", "1"),
    ]


class ActionHandler:
    """Dispatches one action of one session."""

    def __init__(self, host: SimHost) -> None:
        self.host = host
        self._rng = random.Random()  # challenges only; never the call model's rng
        self._table: dict[str, Handler] = {
            "ping": _ping,
            "logoff": _logoff,
            "events": _events,
            "corestatus": _core_status,
            "coresettings": _core_settings,
            "userevent": _user_event,
            "command": _command,
            **calls.HANDLERS,
        }

    async def handle(self, s: AmiSession, action: Message) -> None:
        self.host.catch_up()
        name = (action.get("Action") or "").strip()
        key = name.lower()
        if key == "login":
            await self._login(s, action)
        elif key == "challenge":
            s.write(s.conn.challenge_response(action, self._rng.randrange(1, 2**31)))
        elif not s.authenticated and key not in _PRE_AUTH:
            s.write(s.conn.response(action, "Error", message="Permission denied"))
        elif key in self._table:
            await self._table[key](self.host, s, action)
        else:
            self._unknown(s, action, name)

    async def _login(self, s: AmiSession, action: Message) -> None:
        if s.authenticated:  # main/manager.c action_login
            s.write(s.conn.response(action, message="Already authenticated"))
            return
        user = s.conn.check_login(action, self.host.secrets)
        if user is None:
            # Recorded: the error comes about 1 s later, then Asterisk closes the socket.
            await asyncio.sleep(self.host.auth_failure_delay)
            s.write(s.conn.login_response(action, ok=False))
            s.close()
            return
        s.authenticated = True
        s.username = user
        s.logged_in_wall = self.host.wall()
        if "Events" in action:
            s.event_mask = parse_event_mask(action.get("Events"))
        s.write(s.conn.login_response(action, ok=True))
        host = self.host
        uptime = str(int(host.wall() - host.started_wall))
        # FullyBooted goes to this session only (main/manager.c action_login sends it itself).
        booted = Message.build(
            (("Event", "FullyBooted"), ("Privilege", "system,all")),
            Uptime=uptime,
            LastReload=uptime,
            Status="Fully Booted",
        )
        s.deliver_event(booted, encode(booted), event_classes(booted), queued=False)
        host.broadcast(
            Message(
                (
                    ("Event", "SuccessfulAuth"),
                    *security_headers(host, "Informational"),
                    ("AccountID", user),
                    ("SessionID", s.session_id),
                    ("LocalAddress", s.local_address),
                    ("RemoteAddress", s.remote_address),
                    ("UsingPassword", "0"),
                    ("SessionTV", _event_tv(s.logged_in_wall)),
                )
            )
        )

    def _unknown(self, s: AmiSession, action: Message, name: str) -> None:
        text = (
            f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
        )
        s.write(s.conn.response(action, "Error", message=text))
        self.host.broadcast(
            Message(
                (
                    ("Event", "RequestBadFormat"),
                    *security_headers(self.host, "Error"),
                    ("SessionID", s.session_id),
                    ("LocalAddress", s.local_address),
                    ("RemoteAddress", s.remote_address),
                    ("RequestType", f"Action: {name}"),
                    ("SessionTV", _event_tv(s.logged_in_wall or self.host.wall())),
                    ("AccountID", s.username),
                )
            )
        )


async def _ping(host: SimHost, s: AmiSession, action: Message) -> None:
    stamp = f"{host.wall():.6f}"
    s.write(s.conn.response(action, headers=[("Ping", "Pong"), ("Timestamp", stamp)]))


async def _logoff(host: SimHost, s: AmiSession, action: Message) -> None:
    s.write(s.conn.response(action, "Goodbye", message="Thanks for all the fish."))
    s.close()


async def _events(host: SimHost, s: AmiSession, action: Message) -> None:
    s.event_mask = parse_event_mask(action.get("EventMask"))
    state = "On" if s.event_mask else "Off"  # main/manager.c action_events
    s.write(s.conn.response(action, headers=[("Events", state)]))


async def _core_status(host: SimHost, s: AmiSession, action: Message) -> None:
    started = time.gmtime(host.started_wall)
    calls_now = len({c.linkedid for c in host.pbx.channels()})
    headers = [
        ("CoreStartupDate", time.strftime("%Y-%m-%d", started)),
        ("CoreStartupTime", time.strftime("%H:%M:%S", started)),
        ("CoreReloadDate", time.strftime("%Y-%m-%d", started)),
        ("CoreReloadTime", time.strftime("%H:%M:%S", started)),
        ("CoreCurrentCalls", str(calls_now)),
        ("CoreProcessedCalls", "0"),
    ]
    s.write(s.conn.response(action, headers=headers))


async def _core_settings(host: SimHost, s: AmiSession, action: Message) -> None:
    headers = [
        ("AMIversion", "11.0.0"),
        ("AsteriskVersion", host.version),
        ("SystemName", ""),
        ("CoreMaxCalls", "0"),
        ("CoreMaxLoadAvg", "0.000000"),
        ("CoreRunUser", ""),
        ("CoreRunGroup", ""),
        ("CoreMaxFilehandles", "0"),
        ("CoreRealTimeEnabled", "No"),
        ("CoreCDRenabled", "Yes"),
        ("CoreHTTPenabled", "No"),
        ("SoundsSearchCustomDir", "No"),
    ]
    s.write(s.conn.response(action, headers=headers))


async def _user_event(host: SimHost, s: AmiSession, action: Message) -> None:
    # Recorded (38e): UserEvent first, then the action's other headers in order.
    rest = [(k, v) for k, v in action if k.lower() not in ("action", "userevent")]
    s.write(s.conn.response(action, message="Event Sent"))
    host.broadcast(
        Message(
            (
                ("Event", "UserEvent"),
                ("Privilege", "user,all"),
                ("UserEvent", action.get("UserEvent") or ""),
                *rest,
            )
        )
    )


async def _command(host: SimHost, s: AmiSession, action: Message) -> None:
    """Only ``core show version``; anything else gets the recorded unknown-command answer."""
    command = " ".join((action.get("Command") or "").split())
    if command == "core show version":
        output = f"Asterisk {host.version} (hotline PBX simulator)"
        s.write(
            s.conn.response(action, message="Command output follows", headers=[("Output", output)])
        )
        return
    words = command.split()
    hint = " ".join(words[:-1]) if len(words) > 1 else command
    output = (
        f"No such command '{command}' (type 'core show help {hint}' for other possible commands)"
    )
    s.write(
        s.conn.response(
            action, "Error", message="Command output follows", headers=[("Output", output)]
        )
    )
