"""FastAGI replies: parse the lines Asterisk answers a command with, and format them (simulator).

Forms recorded from Asterisk 22 (shared README, fastagi_session.txt)::

    200 result=0              200 result=1 (5550200)     200 result=0 endpos=3404
    200 result= (timeout)     200 result=0 (timeout) endpos=12000
    200 result=-1 endpos=0    200 result=-2              510 Invalid or unknown command
    511 Command Not Permitted on a dead channel or intercept routine
    520-Invalid command syntax.  Proper usage follows:   <usage lines>   520 End of proper usage.

Not recorded but sent by Asterisk: ``520 Invalid command syntax.  Proper usage not available.``
(res/res_agi.c agi_handle_command), and for the GOSUB command an intermediate
``100 result=0 Trying...`` before the real ``200 result=0 Gosub complete`` (apps/app_stack.c
handle_gosub), plus ``503 result=-2 Memory allocation failure``. A trailing free text after the
result fields (``Gosub complete``) is kept in ``text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from acd.asterisk.errors import RemoteProtocolError

CODE_TRYING = 100
CODE_SUCCESS = 200
CODE_INVALID = 510
CODE_DEAD_CHANNEL = 511
CODE_USAGE = 520

# Exact texts Asterisk 22.10.1 sent (fastagi_session.txt).
INVALID_COMMAND_LINE = "510 Invalid or unknown command"
DEAD_CHANNEL_LINE = "511 Command Not Permitted on a dead channel or intercept routine"
USAGE_FIRST_LINE = "520-Invalid command syntax.  Proper usage follows:"
USAGE_LAST_LINE = "520 End of proper usage."

_STATUS = re.compile(r"(?P<code>[1-5]\d\d)(?P<sep>[ -])(?P<rest>.*)", re.DOTALL)
# ``result=`` may be empty (GET DATA timeout). Data is greedy up to the last ')' that is followed
# only by optional ``endpos=`` and free text, so a variable value may itself contain parentheses.
_RESULT = re.compile(
    r"result=(?P<result>\S*)"
    r"(?: \((?P<data>.*)\))?"
    r"(?: endpos=(?P<endpos>-?\d+))?"
    r"(?: (?P<text>.*))?",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One complete reply (all lines of a multi-line 520)."""

    code: int
    #: the text after ``result=``; "" for GET DATA's timeout and for replies without a result
    result: str
    #: the text in parentheses: a variable value, ``timeout``, ...
    data: str | None
    endpos: int | None
    #: the raw lines without their LF
    lines: tuple[str, ...]
    #: free text: ``Invalid or unknown command``, ``Gosub complete``, the 520 usage body
    text: str = ""

    @property
    def ok(self) -> bool:
        """200 and a non-negative result (``-1`` failure/hang-up, ``-2`` unknown application)."""
        return self.code == CODE_SUCCESS and not self.result.startswith("-")

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None

    @property
    def digit(self) -> str | None:
        """The key of STREAM FILE / WAIT FOR DIGIT / SAY *: result is its ASCII code, 0 = none."""
        value = self.result_int
        if self.code != CODE_SUCCESS or value is None or value <= 0 or value > 0x7F:
            return None
        return chr(value)

    @property
    def digits(self) -> str:
        """GET DATA's collected digits: the result itself ("" on timeout or no input)."""
        if self.code != CODE_SUCCESS or self.result.startswith("-"):
            return ""
        return self.result

    @property
    def dead_channel(self) -> bool:
        return self.code == CODE_DEAD_CHANNEL


def status_of(line: str) -> tuple[int, bool]:
    """``(code, continues)`` for a reply's first line; ``continues`` for ``NNN-`` (multi-line)."""
    match = _STATUS.fullmatch(line)
    if match is None:
        raise RemoteProtocolError(f"not a FastAGI reply line: {line[:80]!r}")
    return int(match["code"]), match["sep"] == "-"


def parse_reply(lines: tuple[str, ...]) -> AgiReply:
    """Parse a complete reply: one line, or a ``NNN-`` line through the closing ``NNN `` line."""
    if not lines:
        raise RemoteProtocolError("empty FastAGI reply")
    first = _STATUS.fullmatch(lines[0])
    if first is None:
        raise RemoteProtocolError(f"not a FastAGI reply line: {lines[0][:80]!r}")
    code, rest = int(first["code"]), first["rest"]
    if first["sep"] == "-":
        # Multi-line usage: the body is everything between the first and the closing line.
        return AgiReply(code, "", None, None, lines, "\n".join(lines[1:-1]))
    fields = _RESULT.fullmatch(rest) if rest.startswith("result=") else None
    if fields is None:
        return AgiReply(code, "", None, None, lines, rest)
    endpos = fields["endpos"]
    return AgiReply(
        code=code,
        result=fields["result"],
        data=fields["data"],
        endpos=int(endpos) if endpos is not None else None,
        lines=lines,
        text=fields["text"] or "",
    )


def format_result(
    code: int = CODE_SUCCESS,
    result: str = "0",
    data: str | None = None,
    endpos: int | None = None,
) -> str:
    """The reply line (without LF) in the field order res_agi.c prints: result, (data), endpos."""
    line = f"{code} result={result}"
    if data is not None:
        line += f" ({data})"
    if endpos is not None:
        line += f" endpos={endpos}"
    return line


def format_usage(usage: str) -> str:
    """The multi-line 520 reply text (LF-terminated) for a command used with wrong arguments."""
    body = usage if usage.endswith("\n") or not usage else usage + "\n"
    return f"{USAGE_FIRST_LINE}\n{body}{USAGE_LAST_LINE}\n"
