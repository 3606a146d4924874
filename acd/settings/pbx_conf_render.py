"""Render the other Asterisk files hotline needs: queues.conf, pjsip.conf, manager.conf sample,
musiconhold.conf; and ``render_all`` for the whole ``dialplan/`` directory.

No secret is ever rendered: passwords and the AMI secret appear as ``${ENV_NAME}`` placeholders
for the installer to substitute (e.g. ``envsubst``); Asterisk itself does not expand them.
"""

from __future__ import annotations

from acd.asterisk.devices import device_of
from acd.settings.ami_privileges import AMI_READ, AMI_WRITE, event_filter_lines
from acd.settings.dialplan_render import HEADER, render_extensions_conf
from acd.settings.pjsip_render import render_pjsip_conf
from acd.settings.schema_routing import AgentSettings
from acd.settings.settings import Settings

MAX_LEVEL = 5

# Least privilege for the daemon's AMI user: the classes and why, action by action, are in
# acd/settings/ami_privileges.py (no ``system``: it would let the AMI user run shell commands).


def _member_line(agent: AgentSettings, level: int) -> str:
    # app_queue: lower penalty is tried first, so an expert (level 5) gets penalty 0.
    penalty = MAX_LEVEL - level
    name = agent.name.replace(",", " ")
    # State interface = the device the endpoint really is: Local/1001@ctx for Local/1001@ctx/n
    # (shared README: device names carry no /n). PJSIP/1001 is not it: a Local endpoint into
    # another context may have no such device, and a real Asterisk then showed every fallback
    # member Invalid (issue 16).
    return f"member => {agent.endpoint},{penalty},{name},{device_of(agent.endpoint)}"


def render_queues_conf(settings: Settings) -> str:
    lines = [
        HEADER,
        "; Used only by the hotline-fallback context when the daemon did not take a call;",
        "; the daemon routes by skills itself. Members: every agent with the queue's skill.",
        "[general]",
        "persistentmembers = no",
        "autofill = yes",
        "monitor-type = MixMonitor",
        "shared_lastcall = yes",
        "log_membername_as_agent = yes",
    ]
    for queue in settings.queues:
        fb = queue.fallback
        lines += [
            "",
            f"; {queue.display_name} (skill {queue.skill})",
            f"[{queue.name}]",
            f"strategy = {fb.strategy}",
            f"timeout = {fb.member_timeout_s}",
            "retry = 1",
            f"wrapuptime = {round(queue.wrapup_s)}",
            f"weight = {queue.priority}",
            f"servicelevel = {round(queue.service_level.answer_within_s)}",
            "maxlen = 0",
            "joinempty = yes",
            "leavewhenempty = no",
            "ringinuse = no",
            f"musicclass = {queue.music_class}",
            "announce-frequency = 0",
            "periodic-announce-frequency = 0",
            "setinterfacevar = yes",
            "setqueuevar = yes",
            "setqueueentryvar = yes",
        ]
        if settings.recording.enabled:
            lines.append("monitor-format = wav")  # recordings are WAV, as the daemon's are
        for agent in settings.members(queue.name):
            lines.append(_member_line(agent, agent.skills[queue.skill]))
    return "\n".join(lines) + "\n"


def render_manager_conf(settings: Settings) -> str:
    ami = settings.ami
    lines = [
        HEADER,
        "; Sample AMI set-up: one least-privilege user for the daemon, loopback only. No",
        "; `system` class: recordings start over FastAGI; see docs/security.md and",
        "; `hotline check-config --manager-conf /etc/asterisk/manager.conf`.",
        "; The secret is a placeholder: substitute it from the environment when installing.",
        "[general]",
        "enabled = yes",
        f"port = {ami.port}",
        "bindaddr = 127.0.0.1",
        "displayconnects = no",
        "webenabled = no",
        "",
        f"[{ami.username}]",
        f"secret = ${{{ami.secret_env}}}",
        "deny = 0.0.0.0/0.0.0.0",
        "permit = 127.0.0.1/255.255.255.255",
        f"read = {AMI_READ}",
        f"write = {AMI_WRITE}",
        "writetimeout = 5000",
        "; Only the events the daemon uses (advanced filters, Asterisk 22): Asterisk queues",
        "; nothing else for this user. Responses and list items are never filtered.",
        *event_filter_lines(),
    ]
    return "\n".join(lines) + "\n"


def render_musiconhold_conf(settings: Settings) -> str:
    """One class per queues.yaml ``music_class`` (``default`` always): the daemon's
    StartMusicOnHold and the fallback queues.conf ``musicclass`` name them."""
    classes = sorted({"default", *(q.music_class for q in settings.queues)})
    lines = [HEADER, "[general]"]
    for name in classes:
        users = [q.name for q in settings.queues if q.music_class == name]
        lines += [
            "",
            f"; queues: {', '.join(users) or '-'}",
            f"[{name}]",
            "mode = files",
            "directory = moh" if name == "default" else f"directory = moh/{name}",
            "sort = alpha",
        ]
    return "\n".join(lines) + "\n"


def render_all(settings: Settings) -> dict[str, str]:
    """File name -> content for the whole ``dialplan/`` directory, in a fixed order."""
    return {
        "extensions.conf": render_extensions_conf(settings),
        "queues.conf": render_queues_conf(settings),
        "pjsip.conf": render_pjsip_conf(settings),
        "manager.conf": render_manager_conf(settings),
        "musiconhold.conf": render_musiconhold_conf(settings),
    }
