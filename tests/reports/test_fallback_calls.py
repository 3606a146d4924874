"""Which fallback calls an import takes, and from where the next one reads (pure).

The lines are the ones Asterisk 22.10.1 wrote for the q6 calls (an answered call, two
abandons, a priority jump, a queue timeout): tests/fixtures/asterisk-dev.
"""

from __future__ import annotations

from datetime import UTC

from hypothesis import given
from hypothesis import strategies as st

from acd.asterisk import cdr_csv, queue_log
from acd.reports.fallback_calls import FallbackCall, ImportPlan, fallback_steps, plan_import
from tests.dev_captures import capture_text

LOG_TEXT = capture_text("q6_queue_log_sample.txt")
CDR_TEXT = capture_text("q6_cdr_master_csv_sample.txt")
LATE = 1796421043 + 3600.0  # long after the last line


def offsets(text: str) -> list[tuple[int, str]]:
    out, at = [], 0
    for line in text.splitlines(keepends=True):
        out.append((at, line.rstrip("\n")))
        at += len(line.encode())
    return out


LOG = [(o, queue_log.parse_line(t)) for o, t in offsets(LOG_TEXT)]
CDR = [(o, cdr_csv.parse_line(t, UTC)) for o, t in offsets(CDR_TEXT)]
LOG_END, CDR_END = len(LOG_TEXT.encode()), len(CDR_TEXT.encode())


def plan(
    log: list[tuple[int, queue_log.QueueLogLine]] = LOG,
    cdr: list[tuple[int, cdr_csv.CdrRecord]] = CDR,
    *,
    now: float = LATE,
    log_end: int = LOG_END,
    cdr_end: int = CDR_END,
    cdr_expected: bool = True,
) -> ImportPlan:
    return plan_import(
        log, cdr, queue_log_end=log_end, cdr_end=cdr_end, now=now, cdr_expected=cdr_expected
    )


def test_the_recorded_calls_become_five_finished_calls() -> None:
    result = plan()
    by_id = {c.call_id: c for c in result.calls}
    assert list(by_id) == [
        "1796421003.52",
        "1796421020.58",
        "1796421028.62",
        "1796421029.66",
        "1796421037.70",
    ]
    assert by_id["1796421003.52"] == FallbackCall(
        call_id="1796421003.52",
        queue="test-local",
        caller_number="5556765",
        queued_at=1796421003,
        answered_at=1796421009,
        agent="Agent 1003",
        ended_at=1796421017,
        outcome="answered",
        hung_up_by="caller",  # COMPLETECALLER
        rings=1,  # member 2001 did not answer
        ring_time_s=5.0,  # its 5000 ms; 1003 answered at once (CONNECT ring 0 s)
        answer_ring_s=0.0,
        arrived_at=1796421003,  # the caller channel's first record starts then
        linkedid="1796421003.51",
    )
    assert [(c.outcome, c.hung_up_by) for c in result.calls[1:]] == [
        ("abandoned", "caller"),
        ("abandoned", "caller"),
        ("abandoned", "caller"),
        ("timeout", "system"),
    ]
    # the timeout caller ran Hangup() after the queue: its record ends then, not before
    assert by_id["1796421037.70"].ended_at == 1796421043
    assert (result.queue_log_offset, result.cdr_offset, result.given_up) == (LOG_END, CDR_END, [])


def test_a_call_still_in_the_queue_pins_the_position_at_its_first_line() -> None:
    connect = 2  # the answered call's CONNECT: it is talking, not finished
    result = plan(LOG[: connect + 1], [], log_end=LOG[connect + 1][0], cdr_end=0)
    assert result.calls == []
    assert result.queue_log_offset == 0  # its ENTERQUEUE, to be read again whole
    later = plan(LOG[: connect + 5], [], log_end=LOG[connect + 5][0], cdr_end=0, now=LATE)
    assert [c.call_id for c in later.calls] == ["1796421003.52", "1796421020.58"]
    assert later.queue_log_offset == LOG[connect + 5][0]  # the next call is not over yet


def test_a_finished_call_waits_a_little_for_its_master_csv_record() -> None:
    first = LOG[:4]  # the answered call, whole; its CDR record not written yet
    end = LOG[4][0]
    soon = plan(first, [], log_end=end, cdr_end=0, now=1796421017 + 5)
    assert (soon.calls, soon.queue_log_offset) == ([], 0)
    late = plan(first, [], log_end=end, cdr_end=0, now=1796421017 + 60)
    assert [c.call_id for c in late.calls] == ["1796421003.52"]
    assert late.calls[0].arrived_at is None  # from queue_log alone
    no_cdr = plan(first, [], log_end=end, cdr_end=0, now=1796421017 + 5, cdr_expected=False)
    assert len(no_cdr.calls) == 1


def test_a_record_of_a_call_not_finished_is_read_again() -> None:
    # its Master.csv record came before its last queue_log line was read (a race between
    # the two files): the CDR position stays at that record
    answered_cdr = [(o, r) for o, r in CDR if r.uniqueid == "1796421003.52"]
    result = plan(LOG[:3], answered_cdr, log_end=LOG[3][0], cdr_end=CDR_END)
    assert result.calls == []
    assert result.cdr_offset == answered_cdr[0][0]


def test_calls_that_never_end_or_began_before_the_file_are_given_up() -> None:
    stuck = plan(LOG[:3], [], log_end=LOG[3][0], cdr_end=0, now=1796421009 + 2 * 86_400)
    assert (stuck.given_up, stuck.queue_log_offset) == (["1796421003.52"], LOG[3][0])
    rotated = plan(LOG[1:4], [], log_end=LOG[4][0], cdr_end=0)  # no ENTERQUEUE in this file
    assert (rotated.calls, rotated.given_up) == ([], ["1796421003.52"])


def test_queue_wide_lines_are_not_calls() -> None:
    start = queue_log.parse_line("1796420000|NONE|NONE|NONE|QUEUESTART|")
    result = plan([(0, start), *LOG], CDR)
    assert len(result.calls) == 5


def test_the_steps_of_an_answered_fallback_call() -> None:
    call = plan().calls[0]
    steps = fallback_steps(call, "1003", 7)
    assert [(s.seq, s.kind, s.agent_id) for s in steps] == [
        (7, "queued", None),
        (8, "offered", "1003"),
        (9, "answered", "1003"),
        (10, "ended", None),
    ]
    assert steps[0].data == {"queue": "test-local", "fallback": True}
    assert steps[1].at == steps[2].at  # the member answered at once (ring 0 s)


def _written_by(moment: float) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The lines each file held at ``moment``: queue_log lines by their epoch, Master.csv
    records when their channel hung up (the record's end)."""
    log = [(o, t) for o, t in offsets(LOG_TEXT) if queue_log.parse_line(t).time <= moment]
    cdr = [
        (o, t) for o, t in offsets(CDR_TEXT) if cdr_csv.parse_line(t, UTC).end.timestamp() <= moment
    ]
    return log, cdr


@given(st.lists(st.integers(1796421003, 1796421044), max_size=6).map(sorted))
def test_imports_at_any_moments_take_every_call_exactly_once(moments: list[int]) -> None:
    """Runs at any moments, each from the positions the previous one left: together they
    import what one run at the end imports, each call once, none lost or repeated."""
    log_at = cdr_at = 0
    seen: list[str] = []
    for moment in [*moments, LATE]:
        log_lines, cdr_lines = _written_by(moment)
        log_end = max((o + len(t) + 1 for o, t in log_lines), default=0)
        cdr_end = max((o + len(t) + 1 for o, t in cdr_lines), default=0)
        log = [(o, queue_log.parse_line(t)) for o, t in log_lines if o >= log_at]
        cdr = [(o, cdr_csv.parse_line(t, UTC)) for o, t in cdr_lines if o >= cdr_at]
        result = plan(
            log, cdr, now=moment, log_end=max(log_end, log_at), cdr_end=max(cdr_end, cdr_at)
        )
        seen += [c.call_id for c in result.calls]
        log_at, cdr_at = result.queue_log_offset, result.cdr_offset
    assert seen == [c.call_id for c in plan().calls]
