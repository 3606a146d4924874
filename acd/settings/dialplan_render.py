"""Render ``extensions.conf`` from the settings: pure text, same settings -> same bytes.

Contexts (names from acd/settings/names.py):
- ``hotline``: customer calls. Answer, call id, FastAGI ``ivr``, then ``hotline-resume``.
- ``hotline-resume``: after every daemon AGI(): the caller is finished only when the daemon said
  so (HOTLINE_DONE=1), the caller hung up (AGISTATUS=HANGUP) or a Dial to an agent was answered
  (DIALSTATUS=ANSWER: a conversation outlives the daemon, RECORDED q2 d/d2/c2) and was not
  the leg a transfer hung up (HOTLINE_TRANSFERRED = DIALEDPEERNAME). Anything else
  (a daemon that died, a refused or dropped connection) is offered to a daemon again, FastAGI
  ``resume`` at the other address first (the standby, else the same: a restarted daemon), a
  bounded number of times, then the fallback.
- ``hotline-fallback``: a plain app_queue Queue() per configured queue, QUEUE_PRIO from the
  priority the daemon gave the caller.
- ``hotline-callback``: the answered customer leg of a call-back the daemon originated: FastAGI
  ``callback`` (the daemon queues the customer at their kept place), then ``hotline-resume``.
- ``hotline-predial``: the pre-dial handler of the daemon's Dial (option
  ``B(hotline-predial^place^1(<args>))``, run on the caller's channel before the agent's phone
  rings): ``place`` stores the caller's place (``MSet``) without a FastAGI command of its own.
- ``hotline-answer``: the daemon's Dial's Gosub on the agent's leg once it answers (option
  ``U(hotline-answer^<file>^<options>)``): starts the call's recording (``MixMonitor``) and
  hands its file back to the caller (``GOSUB_RETVAL``).
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


def agi_url(
    settings: Settings, route: str, query: str = "", *, address: tuple[str, int] | None = None
) -> str:
    """``agi://host:port/route?[query&]key=...``; Asterisk passes the query on in
    agi_network_script, where the daemon checks the key. ``address``: another daemon's (the
    standby's) instead of ``fastagi.host``/``port``."""
    fastagi = settings.fastagi
    host, port = address or (fastagi.host, fastagi.port)
    url = f"agi://{host}:{port}/{route}"
    key = agi_key_placeholder(settings)
    return f"{url}?{query}&{key}" if query else f"{url}?{key}"


def _hotline_context(settings: Settings) -> list[str]:
    v = names
    ivr = agi_url(settings, v.ROUTE_IVR, v.QUERY_ANSWERED)
    return [
        f"[{v.CONTEXT_HOTLINE}]",
        "; Customer calls: the daemon runs the IVR and the queue over FastAGI.",
        "exten => s,1,NoOp(hotline call ${CHANNEL} from ${CALLERID(all)})",
        " same => n,Answer()",
        f" same => n,Set({v.VAR_CALL_ID}=${{UNIQUEID}})",
        f" same => n,Set({v.VAR_RESUMES}=0)",
        f" same => n,AGI({ivr},${{{v.VAR_CALL_ID}}},${{CALLERID(num)}})",
        f" same => n,Goto({v.CONTEXT_RESUME},s,1)",
        "; a trunk that delivers the dialled number lands here too",
        "exten => _X.,1,Goto(s,1)",
    ]


def resume_args() -> str:
    """The ``resume`` route's arguments: what the daemon stored on the channel."""
    v = names
    values = (v.VAR_CALL_ID, v.VAR_QUEUE, v.VAR_PRIORITY, v.VAR_SINCE, v.VAR_ARRIVED)
    return ",".join(f"${{{name}}}" for name in (*values, v.VAR_RESUMES))


def _resume_context(settings: Settings) -> list[str]:
    v = names
    active = agi_url(settings, v.ROUTE_RESUME, v.QUERY_ANSWERED)
    standby = settings.fastagi.standby_address
    other = (
        agi_url(settings, v.ROUTE_RESUME, v.QUERY_ANSWERED, address=standby) if standby else active
    )
    args = resume_args()
    tries = f"${{{v.VAR_RESUMES}}}"
    lines = [
        f"[{v.CONTEXT_RESUME}]",
        "; After every daemon AGI(). Asterisk ends AGI() with AGISTATUS=SUCCESS and keeps every",
        "; variable when the FastAGI server dies (RECORDED tests/fixtures/asterisk-dev/q2_*), and",
        "; reports a connection the kernel dropped as SUCCESS too (shared/asterisk README): so the",
        f"; caller is finished only when the daemon said so ({v.VAR_DONE}=1), hung up, or talked",
        "; to an agent (a bridged Dial outlives the daemon, then DIALSTATUS=ANSWER: q2 d, c2).",
        f"exten => s,1,NoOp(hotline resume? AGISTATUS=${{{v.ASTERISK_AGISTATUS}}}"
        f" {v.VAR_DONE}=${{{v.VAR_DONE}}} DIALSTATUS=${{{v.ASTERISK_DIALSTATUS}}} tries={tries})",
        f' same => n,GotoIf($["${{{v.ASTERISK_AGISTATUS}}}"="HANGUP"]?done)',
        f' same => n,GotoIf($["${{{v.VAR_DONE}}}"="1"]?done)',
        f"; ...unless that agent's leg was hung up by a transfer ({v.VAR_TRANSFERRED}, set",
        "; before the Hangup, names it): the caller waits for the next agent.",
        f' same => n,GotoIf($["${{{v.ASTERISK_DIALSTATUS}}}"="ANSWER"'
        f' & "${{{v.VAR_TRANSFERRED}}}"!="${{{v.ASTERISK_DIALEDPEERNAME}}}"]?done)',
        "; not finished: offered to a daemon again, then the plain Queue()",
        f" same => n,GotoIf($[{tries}>={v.RESUME_ATTEMPTS}]?{v.CONTEXT_FALLBACK},s,1)",
        f" same => n,Set({v.VAR_RESUMES}=$[{tries}+1])",
        "; a refused connection: give a standby time to take over, a daemon to restart",
        f' same => n,ExecIf($["${{{v.ASTERISK_AGISTATUS}}}"="FAILURE"]'
        f"?MusicOnHold(default,{v.RESUME_RETRY_WAIT_S}))",
    ]
    if standby is None:
        lines.append(f" same => n,AGI({active},{args})")
    else:
        lines += [
            "; odd attempts: the other daemon (the standby); even ones: the active address",
            f" same => n,GotoIf($[{tries}%2]?other)",
            f" same => n,AGI({active},{args})",
            " same => n,Goto(s,1)",
            f" same => n(other),AGI({other},{args})",
        ]
    return [*lines, " same => n,Goto(s,1)", " same => n(done),Hangup()"]


def _fallback_context(settings: Settings) -> list[str]:
    v = names
    default = settings.default_queue
    queue_var = f"${{{v.VAR_QUEUE}}}"
    prio_var = f"${{{v.VAR_PRIORITY}}}"
    lines = [
        f"[{v.CONTEXT_FALLBACK}]",
        "; No daemon finished with the caller: plain app_queue with members from config/.",
        f"; {v.VAR_QUEUE} is the queue the IVR chose, if it got that far; else {default}.",
        f"exten => s,1,NoOp(hotline fallback: AGISTATUS=${{{v.ASTERISK_AGISTATUS}}}"
        f" {v.VAR_QUEUE}={queue_var} {v.VAR_PRIORITY}={prio_var})",
        "; the priority the daemon gave the caller: app_queue puts higher first (RECORDED q6)",
        f' same => n,ExecIf($["{prio_var}"!=""]?Set({v.ASTERISK_QUEUE_PRIO}={prio_var}))',
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
    callback = agi_url(settings, v.ROUTE_CALLBACK, v.QUERY_ANSWERED)  # the customer answered
    return [
        f"[{v.CONTEXT_CALLBACK}]",
        "; Call-backs: the daemon originates the customer's number into this context (AMI",
        f"; Originate Exten=s, Variables {v.VAR_CALLBACK_ID} and {v.VAR_QUEUE}); the channel",
        "; arrives here once the customer answered, and the daemon queues them at their place.",
        f"exten => s,1,NoOp(hotline call-back ${{{v.VAR_CALLBACK_ID}}} on ${{CHANNEL}})",
        f" same => n,Set({v.VAR_CALL_ID}=${{UNIQUEID}})",
        f" same => n,Set({v.VAR_RESUMES}=0)",
        f" same => n,AGI({callback},${{{v.VAR_CALLBACK_ID}}})",
        f"; not finished by the daemon: resumed like a customer call (see [{v.CONTEXT_RESUME}])",
        f" same => n,Goto({v.CONTEXT_RESUME},s,1)",
    ]


def _predial_context() -> list[str]:
    v = names
    place = f"MSet({v.VAR_QUEUE}=${{ARG1}},{v.VAR_PRIORITY}=${{ARG2}},{v.VAR_SINCE}=${{ARG3}})"
    return [
        f"[{v.CONTEXT_PREDIAL}]",
        "; Dial's B() pre-dial handler on the caller's channel, run before the agent rings: the",
        "; caller's place (queue, priority, since) when the Dial follows the queue entry at once,",
        "; without a FastAGI command of its own (acd/daemon/predial.py).",
        f"exten => place,1,{place}",
        " same => n,Return()",
    ]


def _answer_context() -> list[str]:
    v = names
    return [
        f"[{v.CONTEXT_ANSWER}]",
        "; Dial's U() Gosub on the agent's leg once it answers, before the bridge: the call's",
        "; recording from the answer, ARG1 the file, ARG2 MixMonitor's options (b: bridged audio",
        "; only; r()/t(): each side). Any GOSUB_RESULT but ABORT, BUSY, CONGESTION, CHANUNAVAIL,",
        "; CONTINUE or GOTO: lets Dial bridge the call and copy GOSUB_RETVAL to the caller, where",
        "; the daemon reads whether the recording started (acd/daemon/predial.py).",
        "exten => s,1,MixMonitor(${ARG1},${ARG2})",
        f" same => n,Set(GOSUB_RESULT={v.GOSUB_RESULT_RECORDING})",
        " same => n,Return(${MIXMONITOR_FILENAME})",
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
    blocks = [general, _hotline_context(settings), _resume_context(settings)]
    blocks.append(_fallback_context(settings))
    blocks.append(_callback_context(settings))
    blocks.append(_predial_context())
    blocks.append(_answer_context())
    blocks.append(_agents_context(settings))
    return HEADER + "\n" + "\n\n".join("\n".join(block) for block in blocks) + "\n"
