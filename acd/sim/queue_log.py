"""app_queue's ``queue_log`` lines, in the format RECORDED in q6_queue_log_sample.txt.

``<epoch>|<caller uniqueid>|<queue>|<agent>|<event>|<data...>``; the agent field is the member
name (both the reference and the rendered queues.conf set ``log_membername_as_agent = yes``),
``NONE`` for caller events. Data per event (apps/app_queue.c ``ast_queue_log`` calls, values as
recorded): ENTERQUEUE ``|<url>|<caller id>|<position>``; RINGNOANSWER and RINGCANCELED
``<ring ms>``; CONNECT ``<hold s>|<member channel uniqueid>|<ring s>``; COMPLETECALLER and
COMPLETEAGENT ``<hold s>|<talk s>|<original position>``; ABANDON and EXITWITHTIMEOUT
``<position>|<original position>|<wait s>``.
"""

from __future__ import annotations

from acd.sim.outputs import LogLine

QUEUE_LOG = "queue_log"


def queue_log(
    wall: float, uniqueid: str, queue: str, agent: str, event: str, *data: str
) -> LogLine:
    return LogLine(QUEUE_LOG, "|".join((str(int(wall)), uniqueid, queue, agent, event, *data)))
