"""queue_log export of the known call set, line by line (fields per apps/app_queue.c)."""

from __future__ import annotations

import pytest

from acd.reports import queries
from acd.reports.queries import CallRow
from acd.reports.queue_log import queue_log
from acd.storage.engine import create_engine
from tests.reports.conftest import PERIOD, T0, at

E0 = int(T0.timestamp())
MEMBERSHIP = {"a1": ("orders",), "a2": ("orders", "complaints")}


def line(offset: int, *fields: str) -> str:
    return "|".join((str(E0 + offset), *fields))


EXPECTED = [
    # log-ins: the first interval of each agent; a2 is a member of two queues
    line(0, "NONE", "orders", "a1", "ADDMEMBER", ""),
    line(0, "NONE", "orders", "a2", "ADDMEMBER", ""),
    line(0, "NONE", "complaints", "a2", "ADDMEMBER", ""),
    # c1: ENTERQUEUE url|callerid|position; CONNECT holdtime|bridged uniqueid|ringtime;
    # COMPLETECALLER holdtime|calltime|origposition
    line(10, "u1", "orders", "NONE", "ENTERQUEUE", "", "111", "1"),
    line(17, "u1", "orders", "a1", "CONNECT", "7", "", "5"),
    line(137, "u1", "orders", "a1", "COMPLETECALLER", "7", "120", "1"),
    # c2: a2 rang 9000 ms without answer, then a1 after 10 s of ringing; the agent hung up
    line(310, "u2", "orders", "NONE", "ENTERQUEUE", "", "222", "1"),
    line(321, "u2", "orders", "a2", "RINGNOANSWER", "9000"),
    line(321, "NONE", "orders", "a2", "PAUSE", "missed"),
    line(321, "NONE", "complaints", "a2", "PAUSE", "missed"),
    line(340, "u2", "orders", "a1", "CONNECT", "30", "", "10"),
    line(520, "u2", "orders", "a1", "COMPLETEAGENT", "30", "180", "1"),
    line(550, "NONE", "orders", "a1", "PAUSE", "lunch"),
    # c3: ABANDON position|origposition|waittime
    line(1210, "u3", "orders", "NONE", "ENTERQUEUE", "", "333", "1"),
    line(1213, "u3", "orders", "NONE", "ABANDON", "1", "1", "3"),
    line(2410, "u4", "complaints", "NONE", "ENTERQUEUE", "", "444", "1"),
    line(2470, "u4", "complaints", "NONE", "ABANDON", "1", "1", "60"),
    line(3600, "NONE", "orders", "a1", "REMOVEMEMBER", ""),
    line(3600, "NONE", "orders", "a2", "UNPAUSE", ""),
    line(3600, "NONE", "complaints", "a2", "UNPAUSE", ""),
    line(4210, "u6", "complaints", "NONE", "ENTERQUEUE", "", "111", "1"),
    line(4214, "u6", "complaints", "a2", "CONNECT", "4", "", "3"),
    line(4334, "u6", "complaints", "a2", "COMPLETECALLER", "4", "120", "1"),
]


@pytest.mark.asyncio
async def test_known_calls_give_these_lines(seeded_url: str) -> None:
    engine = create_engine(seeded_url)
    try:
        async with engine.connect() as conn:
            calls = await queries.fetch_calls(conn, *PERIOD)
            timeline = await queries.fetch_timeline(conn, *PERIOD)
            states = await queries.fetch_states(conn, *PERIOD)
    finally:
        await engine.dispose()
    lines = queue_log(
        calls, timeline, states, start=PERIOD[0], end=PERIOD[1], agent_queues=MEMBERSHIP
    )
    assert lines == EXPECTED


def _row(n: int, queued: int, *, answered: int | None = None, ended: int) -> CallRow:
    return CallRow(
        id=f"p{n}", uniqueid=f"p{n}", caller_number=None, arrived_at=at(queued),
        queue="orders", queued_at=at(queued),
        answered_at=None if answered is None else at(answered),
        agent_id="a1" if answered is not None else None, ended_at=at(ended),
        hung_up_by="caller", outcome="answered" if answered is not None else "abandoned",
        ivr_path=None, ivr_reason=None, ivr_category=None, disposition_code=None,
        resolved=None, survey_rating=None,
    )  # fmt: skip


def test_positions_count_the_callers_still_waiting_ahead() -> None:
    first = _row(1, 0, answered=50, ended=100)
    second = _row(2, 10, ended=30)  # abandons while the first still waits
    third = _row(3, 20, ended=70)  # enters behind both; leaves after the first was answered
    lines = queue_log([first, second, third], {}, [], start=PERIOD[0], end=PERIOD[1])
    fields = [entry.split("|")[1:] for entry in lines]
    assert ["p2", "orders", "NONE", "ENTERQUEUE", "", "", "2"] in fields
    assert ["p3", "orders", "NONE", "ENTERQUEUE", "", "", "3"] in fields
    # position|origposition|waittime: at 30 s the first caller is still ahead
    assert ["p2", "orders", "NONE", "ABANDON", "2", "2", "20"] in fields
    # at 70 s nobody is ahead any more: position 1, entered third
    assert ["p3", "orders", "NONE", "ABANDON", "1", "3", "50"] in fields
