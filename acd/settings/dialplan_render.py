"""Render ``extensions.conf`` from the settings: pure text, same settings -> same bytes.

Contexts (names from acd/settings/names.py):
- ``hotline``: customer calls. Answer, call id, FastAGI ``ivr``, then hang up if the caller left
  during the AGI, or go to the fallback unless the daemon set HOTLINE_HANDLED=1.
- ``hotline-fallback``: a plain app_queue Queue() per configured queue.
- ``hotline-callback``: the answered customer leg of a call-back the daemon originated: FastAGI
  ``callback`` (the daemon queues the customer at their kept place), fallback as above.
- ``hotline-agents``: softphone feature codes (FastAGI ``agent``) and one extension per agent
  softphone, so ``Local/<ext>@hotline-agents/n`` endpoints ring ``PJSIP/<ext>``.
"""

from __future__ import annotations

from collections.abc import Mapping

from acd.settings import names
from acd.settings.settings import Settings

HEADER = (
    "; Rendered by `hotline dialplan render` from config/. Do not edit: change config/ and\n"
    "; re-render; `hotline check-config` reports a stale copy.\n"
)

# Feature code -> (action for the agent route, comment). Codes are literal extensions; the
# pause-with-reason form is the pattern _*13. ("." is one or more characters). Patterns avoid
# N/n, which Asterisk reads as [2-9] (shared README).
FEATURE_CODES: tuple[tuple[str, str, str], ...] = (
    ("*11", "login", "log in: join your queues"),
    ("*12", "logout", "log out"),
    ("*13", "pause", "pause without a reason code"),
    ("*14", "unpause", "back from pause"),
    ("*15", "wrapup-end", "end wrap-up now, ready for the next call"),
    ("*16", "record-pause", "pause the recording of your call (card data), resumes by itself"),
    ("*17", "record-resume", "resume the recording of your call"),
)


PAUSE_WITH_REASON = "action=pause&reason=${EXTEN:3}"
RECORD_PAUSE_WITH_REASON = "action=record-pause&reason=${EXTEN:3}"


def agi_key_placeholder(settings: Settings) -> str:
    """``key=${HOTLINE_AGI_KEY}``: substituted at install (``envsubst '${HOTLINE_AGI_KEY}'``),
    never the key itself in a rendered file. An unsubstituted placeholder reaches the daemon
    as an empty key (Asterisk expands an unset variable to nothing): refused, so calls go to
    the fallback Queue() until the install is fixed."""
    return f"key=${{{settings.fastagi.key_env}}}"


def install_placeholders(text: str, values: Mapping[str, str]) -> str:
    """What ``envsubst '${A} ${B}'`` does when the rendered files are installed: replace only
    the named ``${NAME}`` placeholders. The dialplan's own ``${CHANNEL}``, ``${UNIQUEID}``...
    must survive (a plain envsubst blanks them: shared README gotcha)."""
    for name, value in values.items():
        text = text.replace(f"${{{name}}}", value)
    return text


def agi_url(settings: Settings, route: str, query: str = "") -> str:
    """``agi://host:port/route?[query&]key=...``; Asterisk passes the query on in
    agi_network_script, where the daemon checks the key."""
    fastagi = settings.fastagi
    url = f"agi://{fastagi.host}:{fastagi.port}/{route}"
    key = agi_key_placeholder(settings)
    return f"{url}?{query}&{key}" if query else f"{url}?{key}"


def _hotline_context(settings: Settings) -> list[str]:
    v = names
    return [
        f"[{v.CONTEXT_HOTLINE}]",
        "; Customer calls: the daemon runs the IVR and the queue over FastAGI.",
        "exten => s,1,NoOp(hotline call ${CHANNEL} from ${CALLERID(all)})",
        " same => n,Answer()",
        f" same => n,Set({v.VAR_CALL_ID}=${{UNIQUEID}})",
        f" same => n,AGI({agi_url(settings, v.ROUTE_IVR)},${{{v.VAR_CALL_ID}}},${{CALLERID(num)}})",
        f' same => n,GotoIf($["${{{v.ASTERISK_AGISTATUS}}}"="HANGUP"]?done)',
        "; AGISTATUS=SUCCESS alone proves nothing: when the kernel drops the FastAGI",
        "; connection (listen backlog full) Asterisk still reports SUCCESS with none of the",
        "; daemon's variables set (shared/asterisk README). Only HOTLINE_HANDLED=1 says the",
        "; daemon took the call; anything else (FAILURE, NOTFOUND, that silent SUCCESS) goes",
        "; to the plain Queue().",
        f' same => n,GotoIf($["${{{v.VAR_HANDLED}}}"!="1"]?{v.CONTEXT_FALLBACK},s,1)',
        " same => n(done),Hangup()",
        "; a trunk that delivers the dialled number lands here too",
        "exten => _X.,1,Goto(s,1)",
    ]


def _fallback_context(settings: Settings) -> list[str]:
    v = names
    default = settings.default_queue
    queue_var = f"${{{v.VAR_QUEUE}}}"
    lines = [
        f"[{v.CONTEXT_FALLBACK}]",
        "; The daemon did not take the call: plain app_queue with members from config/.",
        f"; {v.VAR_QUEUE} is the queue the IVR chose, if it got that far; else {default}.",
        f"exten => s,1,NoOp(hotline fallback: AGISTATUS=${{{v.ASTERISK_AGISTATUS}}}"
        f" {v.VAR_QUEUE}={queue_var})",
        f' same => n,Set({v.VAR_QUEUE}=${{IF($["{queue_var}"=""]?{default}:{queue_var})}})',
        "; DIALPLAN_EXISTS: funcs/func_dialplan.c isexten_function_read (1 if it exists)",
        f" same => n,GotoIf(${{DIALPLAN_EXISTS({v.CONTEXT_FALLBACK},{queue_var},1)}}"
        f"?{queue_var},1)",
        f" same => n,Goto({default},1)",
    ]
    for queue in settings.queues:
        timeout = queue.fallback.queue_timeout_s
        lines += [
            f"; {queue.display_name}: Queue(name,options,URL,announce,timeout); t = the agent may"
            " transfer",
            f"exten => {queue.name},1,Queue({queue.name},t,,,{timeout})",
            f" same => n,NoOp({queue.name} fallback ended: {v.ASTERISK_QUEUESTATUS}="
            f"${{{v.ASTERISK_QUEUESTATUS}}})",
            " same => n,Hangup()",
        ]
    return lines


def _callback_context(settings: Settings) -> list[str]:
    v = names
    return [
        f"[{v.CONTEXT_CALLBACK}]",
        "; Call-backs: the daemon originates the customer's number into this context (AMI",
        f"; Originate Exten=s, Variables {v.VAR_CALLBACK_ID} and {v.VAR_QUEUE}); the channel",
        "; arrives here once the customer answered, and the daemon queues them at their place.",
        f"exten => s,1,NoOp(hotline call-back ${{{v.VAR_CALLBACK_ID}}} on ${{CHANNEL}})",
        f" same => n,Set({v.VAR_CALL_ID}=${{UNIQUEID}})",
        f" same => n,AGI({agi_url(settings, v.ROUTE_CALLBACK)},${{{v.VAR_CALLBACK_ID}}})",
        f' same => n,GotoIf($["${{{v.ASTERISK_AGISTATUS}}}"="HANGUP"]?done)',
        "; not taken by the daemon (see [hotline]): the plain Queue() of the booked queue",
        f' same => n,GotoIf($["${{{v.VAR_HANDLED}}}"!="1"]?{v.CONTEXT_FALLBACK},s,1)',
        " same => n(done),Hangup()",
    ]


def _agents_context(settings: Settings) -> list[str]:
    v = names
    lines = [
        f"[{v.CONTEXT_AGENTS}]",
        "; Feature codes dialled from agent softphones; the daemon knows the agent by agi_channel.",
    ]
    for code, action, comment in FEATURE_CODES:
        lines += [
            f"; {code}: {comment}",
            f"exten => {code},1,AGI({agi_url(settings, v.ROUTE_AGENT, f'action={action}')})",
            " same => n,Hangup()",
        ]
    lines += [
        "; *13<code>: pause with a reason code, e.g. *132 (the digits after *13)",
        f"exten => _*13.,1,AGI({agi_url(settings, v.ROUTE_AGENT, PAUSE_WITH_REASON)})",
        " same => n,Hangup()",
        "; *16<code>: pause the recording with a reason code, e.g. *161 (the digits after *16)",
        f"exten => _*16.,1,AGI({agi_url(settings, v.ROUTE_AGENT, RECORD_PAUSE_WITH_REASON)})",
        " same => n,Hangup()",
        "; Agent softphones: Local/<ext>@hotline-agents/n endpoints (and colleagues) ring here.",
    ]
    for agent in sorted(settings.agents, key=lambda a: a.softphone):
        lines += [
            f"exten => {agent.softphone},1,NoOp(agent {agent.id} {agent.name})",
            f" same => n,Dial(PJSIP/{agent.softphone})",
            " same => n,Hangup()",
        ]
    return lines


def render_extensions_conf(settings: Settings) -> str:
    general = [
        "[general]",
        "static = yes",
        "writeprotect = yes",
        "clearglobalvars = no",
        "",
        "[globals]",
    ]
    blocks = [general, _hotline_context(settings), _fallback_context(settings)]
    blocks.append(_callback_context(settings))
    blocks.append(_agents_context(settings))
    return HEADER + "\n" + "\n\n".join("\n".join(block) for block in blocks) + "\n"
