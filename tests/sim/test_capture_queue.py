"""The fallback Queue() against q6_queue.txt of Asterisk 22.10.1: QUEUE_PRIO, queue_log lines and
Master.csv CDRs written by the same four calls (answered, abandoned, priority jump, timeout).

The calls are replayed with the recorded Originates at the recorded times (on a clock started at
the recording's own wall time, since app_queue counts whole seconds of it), into the recorded
[t-queue] context and test queues.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pytest

from acd.asterisk.ami.message import Message
from acd.sim.cdr import MASTER_CSV
from acd.sim.outputs import LogLine, OriginateRequest
from acd.sim.queue_log import QUEUE_LOG
from tests.dev_captures import ami_events, capture_json, capture_text, items
from tests.sim.capture_support import dev_plan
from tests.sim.pbx_driver import Driver

Q6 = "q6_queue.txt"


@dataclass
class QueueRun:
    status: list[Message]
    queue_log: list[str]
    cdr: list[list[str]]
    driver: Driver


@pytest.fixture(scope="module")
def q6() -> QueueRun:
    first = next(i for i in ami_events(Q6) if i.message and i.message.name == "Newchannel")
    assert first.message is not None
    epoch = float(first.message["Timestamp"]) - first.t
    driver = Driver(dev_plan(), epoch=epoch)
    status: list[Message] = []
    for item in items(Q6):
        action = item.message
        if item.direction != ">>>" or action is None:
            continue
        if action.get("Action") == "Originate":
            request = OriginateRequest(
                channel=action["Channel"],
                application=action["Application"],
                data=action["Data"],
                variables=tuple(
                    (k, v) for k, _, v in (p.partition("=") for p in action.get_all("Variable"))
                ),
                caller_id=action["CallerID"],
            )
            driver.at(item.t, lambda now, r=request: driver.pbx.originate(now, r))
        elif action.get("Action") == "QueueStatus":
            driver.at(
                item.t,
                lambda now: status.extend(driver.pbx.queue_status(now, None, "test-noanswer")),
            )
    driver.run_until(120.0)
    lines = [o for o in driver.run.other if isinstance(o, LogLine)]
    return QueueRun(
        status,
        [o.line for o in lines if o.file == QUEUE_LOG],
        [next(csv.reader([o.line])) for o in lines if o.file == MASTER_CSV],
        driver,
    )


def test_queue_prio_orders_the_callers_and_shows_only_in_queue_entry(q6: QueueRun) -> None:
    recorded = capture_json("q6_results.json")["C_QueueStatus_entries"]
    entries = [m for m in q6.status if m.name == "QueueEntry"]
    keys = ("Queue", "Position", "CallerIDNum", "Priority", "Wait")
    assert [{k: m[k] for k in keys} for m in entries] == [{k: e[k] for k in keys} for e in recorded]
    joins = [m for _, m in q6.driver.run.events if m.name == "QueueCallerJoin"]
    high = next(m for m in joins if m["CallerIDNum"] == "5554004")
    assert (high["Position"], high["Count"]) == ("1", "2")  # ahead of the priority-0 caller


def _normalise_queue_log(lines: list[str]) -> list[tuple[str, ...]]:
    start = int(lines[0].split("|")[0])
    ids: dict[str, str] = {}
    out = []
    for line in lines:
        epoch, uniqueid, queue, agent, event, *data = line.split("|")
        ids.setdefault(uniqueid, f"call{len(ids) + 1}")
        if event == "CONNECT":
            data[1] = "<member channel>"
        if event in ("RINGNOANSWER", "RINGCANCELED"):
            data[0] = str(round(int(data[0]), -2))  # ring time in ms: to 100 ms
        out.append((str(int(epoch) - start), ids[uniqueid], queue, agent, event, *data))
    return out


def test_queue_log_lines_are_the_recorded_ones(q6: QueueRun) -> None:
    recorded = capture_text("q6_queue_log_sample.txt").splitlines()
    assert _normalise_queue_log(q6.queue_log) == _normalise_queue_log(recorded)


def _normalise_cdr(rows: list[list[str]]) -> list[tuple[str, ...]]:
    """Channel suffixes, uniqueids and wall-clock dates differ from run to run: kept are the
    order of calls and channels, durations and every other column as written."""
    ids: dict[str, str] = {}
    first_sequence = min(int(r[20]) for r in rows)
    out = []
    # Records are posted as their channels hang up, on several threads in Asterisk: compare
    # them in the order they were created (sequence), which keeps each channel's own order.
    for row in sorted(rows, key=lambda r: int(r[20])):
        # start and end (wall-clock dates) are left out
        (account, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, _start,
         answer, _end, duration, billsec, disposition, amaflags, uniqueid, userfield,
         peeraccount, linkedid, sequence) = row  # fmt: skip
        for value in (linkedid, uniqueid):
            ids.setdefault(value, f"id{len(ids) + 1}")
        out.append(
            (account, src, dst, dcontext, clid, channel.rsplit("-", 1)[0] + channel[-2:],
             dstchannel.rsplit("-", 1)[0] + dstchannel[-2:] if dstchannel else "", lastapp,
             lastdata, "answered" if answer else "", duration, billsec, disposition, amaflags,
             ids[uniqueid], userfield, peeraccount, ids[linkedid],
             str(int(sequence) - first_sequence))
        )  # fmt: skip
    return out


def test_master_csv_records_have_the_recorded_columns_and_values(q6: QueueRun) -> None:
    recorded = list(csv.reader(io.StringIO(capture_text("q6_cdr_master_csv_sample.txt"))))
    ours = _normalise_cdr(q6.cdr)
    real = _normalise_cdr(recorded)
    assert all(len(row) == 21 for row in q6.cdr)
    # The agent phones' own ;2 halves are modelled (they run no dialplan in the simulator):
    # their last application is not compared.
    phone = [i for i, row in enumerate(real) if row[3] == "agent-phones"]
    for index in phone:
        real[index] = (*real[index][:7], "", "", *real[index][9:])
    assert ours == real


_FIELD = re.compile(r'"(?:[^"]|"")*"|[^,]*')


def _kinds(line: str) -> list[str]:
    """Each column as written: quoted text, a bare number or bare empty."""
    fields = [m.group(0) for m in _FIELD.finditer(line)][::2]
    return ["text" if f.startswith('"') else ("number" if f else "empty") for f in fields]


def test_master_csv_quoting_is_cdr_csv_s(q6: QueueRun) -> None:
    recorded = capture_text("q6_cdr_master_csv_sample.txt").splitlines()
    ours = [o.line for o in q6.driver.run.other if isinstance(o, LogLine) and o.file == MASTER_CSV]
    assert {tuple(_kinds(line)) for line in ours} == {tuple(_kinds(line)) for line in recorded}
    assert all(line.endswith(tuple("0123456789")) for line in ours)
