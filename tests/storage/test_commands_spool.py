"""Write commands survive the JSON-lines round trip; the spool file keeps them durably."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from acd.storage.commands import (
    COMMAND_TYPES,
    AppendAgentState,
    AppendAudit,
    AppendCallEvent,
    CloseOpenStates,
    InsertCallback,
    InsertRecording,
    InsertRecordingPause,
    MarkAlive,
    SpoolFormatError,
    UpdateCallback,
    UpsertAgent,
    UpsertCall,
    UpsertCustomer,
    WriteCommand,
    check_spoolable,
    decode_command,
    encode_command,
)
from acd.storage.spool import Spool, encode_lines, parse_spool
from acd.storage.timeline import TimelineStep

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

SAMPLES: list[WriteCommand] = [
    UpsertCall(
        idempotency_key="c1:0",
        call_id="c1",
        values={"arrived_at": T0, "caller_number": "+4930123", "ivr_path": [{"node": "main"}]},
    ),
    UpsertCall(
        idempotency_key="c1:end",
        call_id="c1",
        values={"arrived_at": T0, "ended_at": T0 + timedelta(seconds=60)},
        timeline=(
            TimelineStep(seq=1, at=T0, kind="arrived"),
            TimelineStep(
                seq=2,
                at=T0 + timedelta(seconds=3),
                kind="offered",
                agent_id="a1",
                data={"ring": 1, "nested": {"at": T0}},
            ),
        ),
    ),
    AppendCallEvent(
        idempotency_key="c1:ev:1",
        call_id="c1",
        seq=1,
        at=T0 + timedelta(seconds=3),
        kind="offered",
        agent_id="a1",
        data={"ring": 1, "nested": {"at": T0}},
    ),
    AppendAgentState(idempotency_key="a1:s:1", agent_id="a1", state="paused", reason=None, at=T0),
    CloseOpenStates(idempotency_key="close:1", at=T0),
    AppendAgentState(
        idempotency_key="a1:s:2",
        agent_id="a1",
        state="wrap_up",
        reason=None,
        at=T0,
        endpoint="PJSIP/1001",
        wrap_up_due=T0 + timedelta(seconds=30),
        call_id="c1",
        queue="sales",
    ),
    MarkAlive(idempotency_key="alive:1", node="active", at=T0),
    InsertRecording(
        idempotency_key="r1",
        recording_id="r1",
        call_id="c1",
        agent_id="a1",
        queue="orders",
        started_at=T0,
        path="/rec/r1.wav",
        size_bytes=123,
    ),
    InsertCallback(
        idempotency_key="c1:cb:b1",
        callback_id="b1",
        call_id="c1",
        number="+4930123",
        queue="orders",
        requested_at=T0,
        due_at=T0 + timedelta(minutes=3),
        position=2,
    ),
    UpdateCallback(
        idempotency_key="cb:b1:1:dialing",
        callback_id="b1",
        state="dialing",
        attempts=1,
        due_at=T0 + timedelta(minutes=13),
    ),
    InsertRecordingPause(
        idempotency_key="c1:rp:1",
        call_id="c1",
        channel="PJSIP/trunk-00000001",
        paused_at=T0,
        resumed_at=T0 + timedelta(seconds=40),
        reason="card",
        requested_by="1001",
        auto_resumed=False,
    ),
    UpsertAgent(idempotency_key="ag1", agent_id="a1", name="Ann", endpoint="PJSIP/1001"),
    UpsertCustomer(idempotency_key="cu1", number="+4930123", values={"vip": True}),
    AppendAudit(idempotency_key="au1", who="sup1", role="supervisor", action="listen", at=T0),
]


def test_samples_cover_every_command_type() -> None:
    assert {type(c).__name__ for c in SAMPLES} == set(COMMAND_TYPES)


@pytest.mark.parametrize(
    "command", SAMPLES, ids=lambda c: f"{type(c).__name__}-{c.idempotency_key}"
)
def test_round_trip_is_exact(command: WriteCommand) -> None:
    line = encode_command(command)
    assert "\n" not in line
    assert decode_command(line) == command


def test_datetimes_come_back_aware_with_their_offset() -> None:
    local = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    back = decode_command(
        encode_command(
            AppendAudit(idempotency_key="k", who="w", role="admin", action="x", at=local)
        )
    )
    assert isinstance(back, AppendAudit)
    assert back.at == T0
    assert back.at.utcoffset() == timedelta(hours=1)


def test_naive_datetime_is_refused_before_it_reaches_the_spool() -> None:
    naive = AppendAudit(idempotency_key="k", who="w", role="r", action="a", at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        encode_command(naive)
    with pytest.raises(ValueError, match="naive"):  # a timeline's step refuses it when made
        TimelineStep(seq=1, at=datetime(2026, 1, 1), kind="arrived")


def test_a_timeline_step_refuses_data_the_spool_cannot_carry_when_made() -> None:
    # a step checks itself once: the submit check then takes a call's timeline as it is
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match=re.escape("(timeline step 3 data.legs[1])")):
        TimelineStep(seq=3, at=at, kind="answered", data={"legs": ["a", object()]})
    with pytest.raises(ValueError, match=re.escape("naive datetime")):
        TimelineStep(seq=3, at=at, kind="answered", data={"due": datetime(2026, 1, 1)})
    with pytest.raises(ValueError, match="int and str"):
        TimelineStep(seq="3", at=at, kind="answered")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="int and str"):
        TimelineStep(seq=3, at=at, kind=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="agent_id"):
        TimelineStep(seq=3, at=at, kind="answered", agent_id=7)  # type: ignore[arg-type]
    given = {"due": at, "legs": ["a"]}
    step = TimelineStep(seq=3, at=at, kind="answered", data=given)
    given["later"] = object()  # the maker's dict changed afterwards: not the step's
    command = UpsertCall(idempotency_key="k", call_id="c", timeline=(step,))
    check_spoolable(command)
    assert decode_command(encode_command(command)) == command


def test_a_spooled_timeline_step_with_data_the_spool_cannot_carry_is_a_format_error() -> None:
    # steps read back from JSON are not walked again (reports decode many), but a spool line
    # can be anything: a naive "$dt" in a step's data is refused there
    line = encode_command(SAMPLES[1])
    naive = '{"$dt":"2026-01-01T00:00:00"}'
    bad = line.replace('"data":null,"kind":"arrived"', f'"data":{{"due":{naive}}},"kind":"arrived"')
    assert bad != line
    with pytest.raises(SpoolFormatError, match="naive datetime"):
        decode_command(bad)


def test_a_timeline_that_is_not_a_list_of_steps_is_a_format_error() -> None:
    line = encode_command(SAMPLES[1]).replace('"timeline":[', '"timeline":[7,')
    with pytest.raises(SpoolFormatError, match="timeline step"):
        decode_command(line)


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        '{"type": "DropTable", "idempotency_key": "k"}',
        '{"type": "UpsertAgent", "idempotency_key": "k", "agent_id": "a", "name": "n", '
        '"endpoint": "e", "extra": 1}',
        '{"type": "UpsertAgent", "idempotency_key": "k"}',
    ],
)
def test_foreign_lines_raise_spool_format_error(line: str) -> None:
    with pytest.raises(SpoolFormatError):
        decode_command(line)


def test_parse_keeps_order_reports_bad_lines_and_ignores_a_torn_tail() -> None:
    good = encode_lines(SAMPLES[:2])
    data = good + b"garbage\n\n" + encode_lines(SAMPLES[2:3]) + b'{"type": "UpsertCa'
    contents = parse_spool(data)
    assert list(contents.commands) == SAMPLES[:3]
    assert [(n, line) for n, line, _ in contents.bad_lines] == [(3, "garbage")]


def test_spool_append_load_clear(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    assert not spool.has_entries()
    spool.append(SAMPLES[:3])
    spool.append(SAMPLES[3:])
    assert spool.has_entries()
    assert list(Spool(tmp_path / "spool").load().commands) == SAMPLES
    spool.clear()
    assert not spool.has_entries()
    assert spool.load().commands == ()


def test_torn_tail_is_cut_on_open_so_the_next_append_is_not_glued_to_it(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(SAMPLES[:1])
    with spool.path.open("ab") as f:
        f.write(b'{"type":"Upsert')  # the process died inside append
    reopened = Spool(tmp_path)
    reopened.append(SAMPLES[1:2])
    contents = reopened.load()
    assert list(contents.commands) == SAMPLES[:2]
    assert contents.bad_lines == ()


def test_reject_keeps_the_line_and_the_reason(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.reject("the line", "IntegrityError")
    assert spool.rejected_path.read_text() == '{"reason":"IntegrityError","line":"the line"}\n'


def test_replace_keeps_only_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(SAMPLES)
    spool.replace(SAMPLES[4:])
    assert list(Spool(tmp_path).load().commands) == SAMPLES[4:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["writes.jsonl"]


@pytest.mark.parametrize(
    "command", SAMPLES, ids=lambda c: f"{type(c).__name__}-{c.idempotency_key}"
)
def test_what_the_submit_check_accepts_can_be_spooled(command: WriteCommand) -> None:
    check_spoolable(command)
    assert decode_command(encode_command(command)) == command


@pytest.mark.parametrize(
    "values",
    [
        {"notes": object()},
        {"transfers": [{"at": datetime(2026, 1, 1)}]},  # naive, nested
        {"ivr_path": {1, 2}},  # a set: JSON has none
        {"transfers": [{("a", "b"): 1}]},  # a key JSON cannot carry
    ],
    ids=["object", "nested-naive", "set", "tuple-key"],
)
def test_the_submit_check_refuses_what_the_spool_cannot_carry(values: dict[str, object]) -> None:
    command = UpsertCall(idempotency_key="k", call_id="c", values=values)
    with pytest.raises(ValueError, match=r"naive|cannot spool"):
        check_spoolable(command)
    with pytest.raises((ValueError, TypeError)):
        encode_command(command)


def test_the_submit_check_says_where_the_bad_value_is() -> None:
    command = UpsertCall(
        idempotency_key="k",
        call_id="c",
        values={"transfers": [{"to": "a"}, {"at": datetime(2026, 1, 1)}]},
    )
    with pytest.raises(ValueError, match=re.escape("(values.transfers[1].at)")):
        check_spoolable(command)
