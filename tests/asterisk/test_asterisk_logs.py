"""queue_log and Master.csv parsers against the lines Asterisk 22.10.1 wrote (q6, q7 captures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.asterisk import cdr_csv, queue_log
from tests.dev_captures import capture_text

QUEUE_LOG = capture_text("q6_queue_log_sample.txt").splitlines()
CDR_Q6 = capture_text("q6_cdr_master_csv_sample.txt").splitlines()
CDR_Q7 = capture_text("q7_cdr_master_csv_sample.txt").splitlines()


def test_every_recorded_queue_log_line_parses_with_its_fields() -> None:
    lines = [queue_log.parse_line(text) for text in QUEUE_LOG]
    assert [x.event for x in lines[:4]] == [
        "ENTERQUEUE",
        "RINGNOANSWER",
        "CONNECT",
        "COMPLETECALLER",
    ]
    enter, ring, connect, complete = lines[:4]
    assert (enter.time, enter.callid, enter.queue, enter.agent) == (
        1796421003,
        "1796421003.52",
        "test-local",
        "NONE",
    )
    assert enter.data == ("", "5556765", "1")  # url, caller id, position
    assert ring.number(0) == 5000  # ms
    assert (connect.agent, connect.number(0), connect.field(1), connect.number(2)) == (
        "Agent 1003",
        6,
        "1796421009.55",
        0,
    )
    assert complete.data == ("6", "8", "1")  # hold, talk, original position
    assert {x.event for x in lines} == {
        "ENTERQUEUE",
        "RINGNOANSWER",
        "RINGCANCELED",
        "CONNECT",
        "COMPLETECALLER",
        "ABANDON",
        "EXITWITHTIMEOUT",
    }
    assert all(
        x.event in queue_log.TERMINAL
        for x in lines
        if x.event.startswith(("COMPLETE", "EXIT", "ABANDON"))
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "1796421003|x|q|NONE",  # four fields
        "17964x1003|1.2|q|NONE|ENTERQUEUE||5556765|1",  # not an epoch
        "1796421003||q|NONE|ENTERQUEUE",  # no call id
        "1796421003|1.2|q|NONE|enterqueue",  # not an event name
    ],
)
def test_a_line_that_is_not_queue_log_is_refused(text: str) -> None:
    with pytest.raises(queue_log.QueueLogFormatError):
        queue_log.parse_line(text)


@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_with_the_format_error(text: str) -> None:
    try:
        line = queue_log.parse_line(text)
    except queue_log.QueueLogFormatError:
        return
    assert line.event.isupper()
    assert line.callid


def test_every_recorded_master_csv_record_parses_and_agrees_with_queue_log() -> None:
    # The capture machine ran in UTC (the queue_log epoch 1796421003 is 21:50:03 there).
    records = [cdr_csv.parse_line(text, UTC) for text in CDR_Q6 + CDR_Q7]
    assert len(records) == len(CDR_Q6) + len(CDR_Q7)
    queued = [r for r in records if r.uniqueid == "1796421003.52"]
    assert [r.disposition for r in queued] == ["NO ANSWER", "ANSWERED"]
    assert queued[0].start == datetime.fromtimestamp(1796421003, UTC)  # ENTERQUEUE's second
    assert queued[-1].end == datetime.fromtimestamp(1796421017, UTC)  # COMPLETECALLER's
    assert queued[-1].dstchannel == "Local/1003@agent-phones-00000019;1"
    assert queued[-1].linkedid == "1796421003.51"
    unanswered = next(r for r in records if r.uniqueid == "1796421020.60")
    assert unanswered.answer is None  # the bare empty column
    fallback = next(r for r in records if r.dcontext == "hotline-fallback")
    assert (fallback.lastapp, fallback.lastdata) == ("Queue", "enquiries,t,,,300")


def test_master_csv_times_are_read_in_the_asterisk_hosts_zone() -> None:
    shanghai = timezone(timedelta(hours=8))
    record = cdr_csv.parse_line(CDR_Q6[1], shanghai)
    assert record.start == datetime(2026, 12, 4, 13, 50, 3, tzinfo=UTC)


def test_master_csv_without_the_new_columns_still_has_the_uniqueid() -> None:
    eighteen = CDR_Q6[1].rsplit(",", 3)[0]  # no peeraccount, linkedid, sequence
    record = cdr_csv.parse_line(eighteen, UTC)
    assert (record.uniqueid, record.linkedid) == ("1796421003.51", None)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('"","1","2"', "expected 21 columns"),
        (CDR_Q6[1].replace('"2026-12-04 21:50:03"', '"yesterday"', 1), "start 'yesterday'"),
        (CDR_Q6[1].replace('"1796421003.51"', '""', 1), "no uniqueid"),
        ('"unterminated', "not CSV"),
    ],
)
def test_a_record_master_csv_cannot_hold_is_refused(text: str, why: str) -> None:
    with pytest.raises(cdr_csv.CdrFormatError, match=why):
        cdr_csv.parse_line(text, UTC)
