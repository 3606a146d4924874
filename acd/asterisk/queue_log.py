"""Asterisk's ``queue_log`` file, one line at a time: pure, no I/O.

``<epoch>|<callid>|<queue>|<agent>|<event>|<data...>`` as RECORDED from Asterisk 22.10.1
(tests/fixtures/asterisk-dev/q6_queue_log_sample.txt), written by apps/app_queue.c
``ast_queue_log`` through main/logger.c ``ast_queue_log`` (the epoch is ``time(NULL)``, whole
seconds). ``callid`` is the Uniqueid of the channel that ran ``Queue()``; ``agent`` is the
member name (``log_membername_as_agent = yes``, rendered into queues.conf), ``NONE`` for the
caller's own events; queue-wide events (``QUEUESTART``, ``CONFIGRELOAD``) have callid ``NONE``.
Data per caller event (app_queue.c, values as recorded):

| event | data |
|---|---|
| ENTERQUEUE | ``url``, ``caller id``, ``position`` |
| RINGNOANSWER, RINGCANCELED | ``ring ms`` |
| CONNECT | ``hold s``, ``member channel uniqueid``, ``ring s`` |
| COMPLETECALLER, COMPLETEAGENT | ``hold s``, ``talk s``, ``original position`` |
| ABANDON, EXITWITHTIMEOUT | ``position``, ``original position``, ``wait s`` |
| EXITEMPTY | ``position``, ``original position``, ``wait s`` (app_queue.c queue_exec) |
| EXITWITHKEY | ``key``, ``position``, ``original position``, ``wait s`` |
| BLINDTRANSFER, ATTENDEDTRANSFER | where to, then hold/talk/position figures |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

NO_CALL: Final = "NONE"  # the callid of queue-wide lines, and the agent of caller events
# Events that end the caller's stay in the queue (app_queue.c): answered and finished,
# transferred away by the agent, or left without an answer.
ANSWERED_END: Final = frozenset(
    {"COMPLETECALLER", "COMPLETEAGENT", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
)
UNANSWERED_END: Final = frozenset({"ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"})
TERMINAL: Final = ANSWERED_END | UNANSWERED_END


class QueueLogFormatError(ValueError):
    """A line that is not a queue_log line (a partial write, another file, garbage)."""


@dataclass(frozen=True, slots=True)
class QueueLogLine:
    time: int  # Unix epoch seconds
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]

    def field(self, index: int) -> str:
        """Data field ``index`` (0-based), "" when the line has fewer."""
        return self.data[index] if index < len(self.data) else ""

    def number(self, index: int) -> float | None:
        """Data field ``index`` as a number, None when absent or not a number."""
        try:
            return float(self.field(index))
        except ValueError:
            return None


def parse_line(line: str) -> QueueLogLine:
    """One line without its newline; ``QueueLogFormatError`` naming what is wrong."""
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        raise QueueLogFormatError(f"expected at least 5 '|'-separated fields, got {len(parts)}")
    stamp, callid, queue, agent, event, *data = parts
    if not stamp.isdigit():
        raise QueueLogFormatError(f"the time {stamp[:20]!r} is not a Unix epoch")
    if not callid or not event or not event.isupper():
        raise QueueLogFormatError(f"no call id or event name in {line[:80]!r}")
    return QueueLogLine(int(stamp), callid, queue, agent, event, tuple(data))
