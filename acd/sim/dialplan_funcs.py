"""Variables and dialplan functions as a channel sees them during substitution.

Built-in variables: SOURCE main/pbx_variables.c ``pbx_retrieve_variable`` (CHANNEL, UNIQUEID,
EXTEN, CONTEXT, PRIORITY, EPOCH, HANGUPCAUSE, then channel variables, then globals). Functions:
``IF`` (funcs/func_logic.c ``acf_if``: ``cond?true[:false]``, the condition as
``pbx_checkcondition``), ``DIALPLAN_EXISTS`` (funcs/func_dialplan.c ``isexten_function_read``),
``CALLERID(num|name|all)`` and ``CHANNEL(name|language|uniqueid|linkedid)``. A function the
simulator does not know raises ``ExprError`` (Asterisk would log an error and substitute
nothing; the simulator refuses rather than run a different dialplan silently).
"""

from __future__ import annotations

from collections.abc import Callable

from acd.sim.channels import Channel
from acd.sim.dialplan_conf import Dialplan
from acd.sim.dialplan_expr import ExprError, split_args

Clock = Callable[[], float]


def check_condition(text: str) -> bool:
    """pbx.c ``pbx_checkcondition``: empty is false, a leading integer is its own truth."""
    text = text.strip()
    if not text:
        return False
    digits = text.lstrip("+-")
    end = 0
    while end < len(digits) and digits[end].isdigit():
        end += 1
    if end:
        return int(text[: len(text) - len(digits) + end]) != 0
    return True


def split_condition(data: str) -> tuple[str, str, str]:
    """``cond?a[:b]`` -> (cond, a, b): the first ``?`` and the first ``:`` after it that is
    outside parentheses (so ``ExecIf(c?App(a:b):Other())`` keeps the inner colon)."""
    cond, sep, rest = data.partition("?")
    if not sep:
        return cond, "", ""
    depth = 0
    for i, c in enumerate(rest):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == ":" and depth == 0:
            return cond, rest[:i], rest[i + 1 :]
    return cond, rest, ""


class ChannelResolver:
    """The ``Resolver`` of acd/sim/dialplan_expr.py for one channel."""

    def __init__(
        self, ch: Channel, plan: Dialplan, globals_: dict[str, str], wall_clock: Clock
    ) -> None:
        self.ch = ch
        self.plan = plan
        self.globals = globals_
        self.wall_clock = wall_clock

    def variable(self, name: str) -> str | None:
        ch = self.ch
        builtin = {
            "CHANNEL": lambda: ch.name,
            "UNIQUEID": lambda: ch.uniqueid,
            "EXTEN": lambda: ch.exten,
            "CONTEXT": lambda: ch.context,
            "PRIORITY": lambda: str(ch.priority),
            "EPOCH": lambda: str(int(self.wall_clock())),
            "HANGUPCAUSE": lambda: str(ch.hangup_cause or 0),
        }
        if name in builtin:
            return builtin[name]()
        if name in ch.variables:
            return ch.variables[name]
        return self.globals.get(name, self.plan.globals.get(name))

    def function(self, name: str, args: str) -> str:
        ch = self.ch
        if name == "IF":
            cond, yes, no = split_condition(args)
            return yes if check_condition(cond) else no
        if name == "DIALPLAN_EXISTS":
            parts = split_args(args)
            context = parts[0]
            exten = parts[1] if len(parts) > 1 and parts[1] else "s"
            priority = parts[2] if len(parts) > 2 and parts[2] else "1"
            if len(parts) == 1:
                return "1" if context in self.plan.contexts else "0"
            return "1" if self.plan.priority_of(context, exten, priority) is not None else "0"
        if name == "CALLERID":
            field = args.strip().lower()
            values = {"num": ch.cid_num, "name": ch.cid_name}
            values["all"] = f'"{ch.cid_name}" <{ch.cid_num}>'
            if field not in values:
                raise ExprError(f"CALLERID({args}) is not supported")
            return values[field]
        if name == "CHANNEL":
            field = args.strip().lower()
            values = {
                "name": ch.name,
                "language": ch.language,
                "uniqueid": ch.uniqueid,
                "linkedid": ch.linkedid,
            }
            if field not in values:
                raise ExprError(f"CHANNEL({args}) is not supported")
            return values[field]
        raise ExprError(f"function {name}() is not supported by the simulator")
