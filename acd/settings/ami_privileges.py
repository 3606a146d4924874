"""The AMI classes the daemon's user needs, action by action, and a check of an installed
``manager.conf`` against them.

Write classes, as each action is registered in Asterisk (an action runs when the user's write
classes share ANY class with the registered ones: main/manager.c ``process_message``,
``s->session->writeperm & act_found->authority``):

- Login, Challenge, Ping, Logoff: 0 (main/manager.c ``__init_manager``): none needed.
- Originate: originate (``__init_manager``); call-backs (Context/Exten) and supervisors'
  ChanSpy: we grant ``originate``.
- Hangup: system or call (``__init_manager``); transfers hang up the agent's leg: ``call``.
- Setvar: call (``__init_manager``); a transfer names the leg it hangs up on the caller's
  channel first (``HOTLINE_TRANSFERRED``, read by ``[hotline-resume]``).
- MixMonitorMute: system or call (apps/app_mixmonitor.c ``load_module``); recording pause:
  ``call``.
- DeviceStateList: call or reporting (res/res_manager_devicestate.c ``load_module``); resync:
  ``call``.
- CoreShowChannels: system or reporting (``__init_manager``); resync: ``reporting``.

Not needed and never granted: ``system`` (with it, ``Originate`` may run the System/Exec
applications and the ``MixMonitor`` action, registered with ``system`` only, takes a shell
``Command``), ``command`` (CLI commands), ``config``, ``agi``, ``all``. So the daemon starts
recordings with the ``MixMonitor`` application in the dialplan (the caller's Dial runs the
rendered ``[hotline-predial]`` as its pre-dial handler), not the AMI action. Originate of ChanSpy
needs no more than ``originate``: main/manager.c ``is_originate_app_permitted`` asks for
``system`` only for applications matching agi, exec, system, mixmonitor, originate, reload,
dbdeltree, externalivr (and Queue with an AGI argument) or data naming
CURL/DB/EVAL/FILE/ODBC/REALTIME/ SHELL; ChanSpy's data is a channel name and our options.

Read classes: the events the daemon consumes, with the ``Privilege`` recorded in
shared/asterisk/transcripts: DialEnd, DeviceStateChange, Hangup, OriginateResponse,
ChanSpyStart/Stop, MixMonitorMute are all ``call``. ``ContactStatus`` (the agents' phones'
qualify results, which pause an agent whose phone is unreachable or slow) is ``system``
(main/stasis_endpoints.c ``contactstatus_to_ami``: EVENT_FLAG_SYSTEM). Reading ``system``
events grants no action, so ``read = system`` is needed and harmless; ``write = system`` stays
refused. (Action responses and list events reach the session that asked whatever its read
classes.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from acd.asterisk.ami.event_filters import should_send, user_filters
from acd.asterisk.ami.message import Message, encode
from acd.settings.errors import ConfigIssue

# action -> the classes Asterisk registers it with (any one suffices)
ACTION_CLASSES: Final[dict[str, frozenset[str]]] = {
    "Originate": frozenset({"originate"}),
    "Hangup": frozenset({"system", "call"}),
    "Setvar": frozenset({"call"}),
    "MixMonitorMute": frozenset({"system", "call"}),
    "DeviceStateList": frozenset({"call", "reporting"}),
    "CoreShowChannels": frozenset({"system", "reporting"}),
}
EVENT_CLASSES: Final[dict[str, str]] = {
    "DialEnd": "call",
    "DeviceStateChange": "call",
    "OriginateResponse": "call",
    "ChanSpyStart": "call",
    "ChanSpyStop": "call",
    "ContactStatus": "system",
    # the call reconcile after a restart: a followed caller's end, a caller the fallback took
    "Hangup": "call",
    "QueueCallerJoin": "agent",  # app_queue's events are class agent (recorded)
}
# The events the daemon consumes, as manager.conf ``eventfilter`` lines of its user (criteria,
# pattern): Asterisk then queues nothing else for it (~170 events a call otherwise, ~27 after).
# Advanced filters (main/manager.c ``manager_add_filter``, 22.x): the event name is compared by
# hash before anything else, so an event of another name costs Asterisk one integer compare.
# Not the AMI ``Filter`` action: it is registered with ``system`` (``__init_manager``), a
# class the daemon never gets. Responses and list items (DeviceStateList, CoreShowChannels) are
# not filtered (only queued events are: ``process_events``).
EVENT_FILTERS: Final[tuple[tuple[str, str], ...]] = (
    # only the answer (ami_watch); DialEnd's other statuses come back through Dial itself
    ("eventfilter(action(include),name(DialEnd),header(DialStatus),method(exact))", "ANSWER"),
    ("eventfilter(action(include),name(DeviceStateChange))", ""),
    ("eventfilter(action(include),name(OriginateResponse))", ""),
    # res_pjsip qualify results: an unreachable or slow phone pauses its agent (phone_quality)
    ("eventfilter(action(include),name(ContactStatus))", ""),
    # callers' channels only (they run in the hotline* contexts), not every agent or spy leg
    ("eventfilter(action(include),name(Hangup),header(Context),method(starts_with))", "hotline"),
    ("eventfilter(action(include),name(QueueCallerJoin))", ""),
    ("eventfilter(action(include),name(ChanSpyStart))", ""),
    ("eventfilter(action(include),name(ChanSpyStop))", ""),
)
# classes that give more than the daemon needs: shell, CLI, configuration, everything
DANGEROUS: Final = frozenset({"system", "command", "config", "agi", "all"})
PREFERRED_ORDER: Final = (
    "call", "originate", "reporting", "system", "agent", "dialplan", "user",
)  # fmt: skip


def _ordered(classes: Iterable[str]) -> str:
    found = set(classes)
    return ",".join(c for c in PREFERRED_ORDER if c in found)


def write_classes() -> frozenset[str]:
    """The smallest set from outside ``DANGEROUS`` covering every action (call covers most)."""
    chosen: set[str] = set()
    for classes in ACTION_CLASSES.values():
        if not classes & chosen:
            safe = sorted(classes - DANGEROUS, key=PREFERRED_ORDER.index)
            chosen.add(safe[0])
    return frozenset(chosen)


def event_filter_lines() -> list[str]:
    """The ``eventfilter`` lines of the daemon's AMI user (``key = value``, as rendered)."""
    return [f"{criteria} = {pattern}".rstrip() for criteria, pattern in EVENT_FILTERS]


def read_classes() -> frozenset[str]:
    return frozenset(EVENT_CLASSES.values())


AMI_READ: Final = _ordered(read_classes())
AMI_WRITE: Final = _ordered(write_classes())

_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
_SETTING = re.compile(r"^\s*(read|write|permit|deny|bindaddr)\s*=>?\s*(.*?)\s*$", re.IGNORECASE)


def _sections(text: str) -> dict[str, list[tuple[int, str, str]]]:
    """section name -> (line number, key, value) of the settings this check reads."""
    sections: dict[str, list[tuple[int, str, str]]] = {}
    current = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0]
        header = _SECTION.match(line)
        if header:
            current = header.group(1).strip()
            sections.setdefault(current, [])
            continue
        setting = _SETTING.match(line)
        if setting:
            sections.setdefault(current, []).append(
                (number, setting.group(1).lower(), setting.group(2))
            )
    return sections


# One event of each kind the daemon consumes, as Asterisk would queue it for the user.
_SAMPLE_HEADERS: Final[dict[str, dict[str, str]]] = {
    "DialEnd": {"DialStatus": "ANSWER"},
    "Hangup": {"Context": "hotline-resume"},
}
# one sample of each event the daemon consumes, as Asterisk sends it (DialEnd: only the answer)
_USED_EVENTS: Final = tuple(
    Message.build(
        (("Event", name), ("Privilege", f"{cls},all")),
        **_SAMPLE_HEADERS.get(name, {}),
    )
    for name, cls in EVENT_CLASSES.items()
)


def _filter_issues(text: str, username: str, file: str) -> list[ConfigIssue]:
    """The user's eventfilter lines: none (every call event is sent: ~100 a call), malformed,
    or holding back an event the daemon needs."""
    where = f"[{username}] eventfilter"
    try:
        filters = user_filters(text, username)
    except ValueError as exc:
        return [ConfigIssue(file, where, f"Asterisk would refuse it: {exc}")]
    if not filters:
        return [
            ConfigIssue(
                file,
                where,
                "none: Asterisk sends this user every call event (~100 a call, ~10 with the"
                " rendered filters); install the rendered manager.conf",
            )
        ]
    blocked = [m.name for m in _USED_EVENTS if not should_send(filters, m, encode(m).decode())]
    if blocked:
        return [
            ConfigIssue(file, where, f"holds back {', '.join(blocked)}, which the daemon needs")
        ]
    return []


def check_manager_conf(text: str, username: str, file: str) -> list[ConfigIssue]:
    """The installed manager.conf's user ``username`` against what the daemon needs."""
    sections = _sections(text)
    if username not in sections:
        return [ConfigIssue(file, f"[{username}]", "no such AMI user (hotline.yaml ami.username)")]
    issues: list[ConfigIssue] = []
    granted: dict[str, set[str]] = {"read": set(), "write": set()}
    for number, key, value in sections[username]:
        if key in granted:
            granted[key] |= {c.strip().lower() for c in value.split(",") if c.strip()}
            extra = granted[key] & (DANGEROUS - (read_classes() if key == "read" else set()))
            if extra:
                issues.append(
                    ConfigIssue(
                        file,
                        f"[{username}] line {number}",
                        f"{key} grants {', '.join(sorted(extra))}: more than the daemon needs"
                        f" (system lets Originate and MixMonitor run shell commands); expected"
                        f" {key} = {AMI_READ if key == 'read' else AMI_WRITE}",
                    )
                )
    needed = {"read": read_classes(), "write": write_classes()}
    for key, classes in needed.items():
        missing = classes - granted[key]
        if missing:
            issues.append(
                ConfigIssue(
                    file,
                    f"[{username}] {key}",
                    f"missing {', '.join(sorted(missing))} (expected {key} ="
                    f" {AMI_READ if key == 'read' else AMI_WRITE})",
                )
            )
        unneeded = granted[key] - classes - DANGEROUS
        if unneeded:
            issues.append(
                ConfigIssue(
                    file,
                    f"[{username}] {key}",
                    f"grants {', '.join(sorted(unneeded))}, which the daemon does not use"
                    f" (least privilege: {key} = {AMI_READ if key == 'read' else AMI_WRITE})",
                )
            )
    issues += _filter_issues(text, username, file)
    permits = [v for _, k, v in sections[username] if k == "permit"]
    if not permits or any(not v.startswith(("127.", "::1")) for v in permits):
        issues.append(
            ConfigIssue(
                file,
                f"[{username}] permit",
                "expected deny = 0.0.0.0/0.0.0.0 and permit = 127.0.0.1/255.255.255.255 (loopback)",
            )
        )
    return issues
