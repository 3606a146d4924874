"""FastAGI session state and the helpers every AGI command module shares.

Reply constants are the recorded forms (fastagi_session.txt); the dead-channel rule is res_agi.c's
``commands[]`` "dead" column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from acd.sim.channels import Channel
from acd.sim.dialplan_expr import ExprError, substitute

if TYPE_CHECKING:
    from acd.sim.world import World

DEAD = "511 Command Not Permitted on a dead channel or intercept routine\n"
UNKNOWN = "510 Invalid or unknown command\n"
#: res_agi.c commands[]: the commands whose "dead" column is 1 (allowed after hang-up)
DEAD_OK = {
    "DATABASE",
    "EXEC",
    "GET FULL VARIABLE",
    "GET VARIABLE",
    "NOOP",
    "SET VARIABLE",
    "VERBOSE",
    "ASYNCAGI BREAK",
}
#: the recorded usage text of STREAM FILE (fastagi_session.txt scenario A)
STREAM_FILE_USAGE = (
    "Send the given file, allowing playback to be interrupted by the given digits, if any. "
    "Returns <literal>0</literal> if playback completes without a digit being pressed, or the "
    "ASCII numerical value of the digit if one was pressed, or <literal>-1</literal> on error or "
    "if the channel was disconnected. If musiconhold is playing before calling stream file it "
    "will be automatically stopped and will not be restarted after completion.\n"
    "It sets the following channel variables upon completion:\n"
    "<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a text string.\n"
    "    <value>SUCCESS</value>\n"
    "    <value>FAILED</value>\n"
)


class Reply(Protocol):
    """Send a command's reply; ``failure`` marks RESULT_FAILURE (AGIExecEnd ResultCode -1)."""

    def __call__(self, now: float, text: str, failure: bool = False) -> None: ...


@dataclass(eq=False)
class Session:
    sid: int
    channel: Channel
    done: Callable[[float, str], None]
    queue: list[str] = field(default_factory=list)
    busy: bool = False
    failed: bool = False
    closed: bool = False
    hangup_sent: bool = False
    #: aborts the running blocking command when the channel is hung up
    abort: Callable[[float], None] | None = None
    #: ends the running command because the server's socket became readable (EOF): set only
    #: by the commands res_agi.c runs with ``agi->ctrl`` watched (WAIT FOR DIGIT, STREAM FILE,
    #: GET DATA, GET OPTION, SAY *); EXEC (Dial, Queue...) and RECORD FILE run to their end
    interrupt: Callable[[float], None] | None = None
    #: the FastAGI server closed the connection; the session ends once no command runs
    server_gone: bool = False
    #: AGI() started on an already hung-up channel (the ``h`` extension): dead from the start
    dead_mode: bool = False
    #: res_agi.c run_agi ``returnstatus``: SUCCESS, FAILURE or HANGUP
    status: str = "SUCCESS"


def split_args(line: str) -> list[str]:
    """res_agi.c parse_args: blanks separate, double quotes group, backslash escapes."""
    out: list[str] = []
    cur: list[str] = []
    quoted = escaped = started = False
    for c in line:
        if escaped:
            cur.append(c)
            escaped, started = False, True
        elif c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
            started = True
        elif c in " \t" and not quoted:
            if started or cur:
                out.append("".join(cur))
            cur, started = [], False
        else:
            cur.append(c)
            started = True
    if started or cur:
        out.append("".join(cur))
    return out


def read_variable(world: World, ch: Channel, name: str) -> str | None:
    """GET VARIABLE / AMI Getvar (res_agi.c handle_getvariable: a name with ``(`` is a dialplan
    function, else main/pbx_variables.c ``pbx_retrieve_variable``); None = not set."""
    resolver = world.runner.resolver(ch)
    if "(" in name and name.endswith(")"):
        function, _, args = name.partition("(")
        try:
            return resolver.function(function, args[:-1])
        except ExprError:
            return None  # ast_func_read fails: "200 result=0"
    return resolver.variable(name)


def expand(world: World, ch: Channel, text: str) -> str:
    """GET FULL VARIABLE: the dialplan's own substitution (``${...}`` and ``$[...]``)."""
    try:
        return substitute(text, world.runner.resolver(ch))
    except ExprError:
        return ""  # Asterisk logs the error and substitutes nothing
