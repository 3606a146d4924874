"""CDRs written to ``cdr-csv/Master.csv`` in the format RECORDED in q6_cdr_master_csv_sample.txt.

Columns (cdr_csv with the reference cdr.conf: loguniqueid, loguserfield, newcdrcolumns):
accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer,
end, duration, billsec, disposition, amaflags, uniqueid, userfield, peeraccount, linkedid,
sequence. Text is double-quoted (inner quotes doubled), numbers are bare, an unanswered record
has an empty bare answer column; times are local ``YYYY-MM-DD HH:MM:SS``.

What the sample shows and this module follows: every channel gets a record when it is created
(which takes a sequence number); a channel that was only ever dialled (the ;1 of an agent leg,
a phone channel) is party B and never posted; a caller's first dial uses its first record,
each later dial opens a new one (start = the dial's start); a record with a dial ends when the
dial fails or the bridge ends, disposition ANSWERED / NO ANSWER (BUSY, FAILED); after a dial,
a new record opens only when the channel runs another application (the queue-timeout caller's
trailing ``Hangup`` record) - an abandon inside the same Queue() leaves none; an unanswered
callee-side Local half is FAILED. Records are posted when their channel hangs up.
RECORDED q7_cdr_master_csv_sample.txt: ``dst``/``dcontext`` follow the channel until its record
ends (a fallback caller's record shows ``enquiries``/``hotline-fallback``; a caller redirected
out of a queue bridge, the Redirect's target), and an EXEC'd Dial is the record's last
application. ASSUMPTION: ``answer`` of a record opened on a channel already up is the record's
start (the samples only show members answering at once); verify with a member that rings for a
while after the caller was answered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.sim.channels import Channel
from acd.sim.outputs import LogLine

if TYPE_CHECKING:
    from acd.sim.world import World

MASTER_CSV = "cdr-csv/Master.csv"
_DISPOSITION = {"ANSWER": "ANSWERED", "BUSY": "BUSY", "CHANUNAVAIL": "FAILED"}
_DISPOSITION["CONGESTION"] = "FAILED"


@dataclass(eq=False)
class Record:
    sequence: int
    start: float
    dst: str = ""
    dcontext: str = ""
    dstchannel: str = ""
    lastapp: str = ""
    lastdata: str = ""
    answer: float | None = None
    end: float | None = None
    dial_status: str = ""
    #: the dial is over (or the bridge ended): the next application opens a new record
    closed: bool = False


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _stamp(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))


class CdrEngine:
    def __init__(self, world: World) -> None:
        self.world = world
        self._sequence = 0
        self._chains: dict[str, list[Record]] = {}
        self._party_b: set[str] = set()
        self._userfield: dict[str, str] = {}
        #: the caller and its record of each dial in progress, by the callee's uniqueid
        self._dials: dict[str, tuple[Channel, Record]] = {}

    def _open(self, now: float, ch: Channel) -> Record:
        record = Record(self._sequence, now)
        self._sequence += 1
        if ch.answered_at is not None:
            record.answer = now
        self._chains.setdefault(ch.uniqueid, []).append(record)
        return record

    def _current(self, ch: Channel) -> Record | None:
        chain = self._chains.get(ch.uniqueid)
        return chain[-1] if chain else None

    # -- what happens on the channel ----------------------------------------------------------
    def channel_created(self, now: float, ch: Channel) -> None:
        self._open(now, ch)

    def answered(self, now: float, ch: Channel) -> None:
        record = self._current(ch)
        if record is not None and record.answer is None and not record.closed:
            record.answer = now

    def app_started(self, now: float, ch: Channel, app: str, data: str) -> None:
        record = self._current(ch)
        if record is None:
            return
        if record.closed:
            record = self._open(now, ch)
        record.lastapp, record.lastdata = app, data

    def set_userfield(self, ch: Channel, value: str) -> None:
        self._userfield[ch.uniqueid] = value

    def dial_begin(self, now: float, caller: Channel, callee: Channel) -> None:
        self._party_b.add(callee.uniqueid)
        record = self._current(caller)
        if record is None:
            return
        if record.dstchannel or record.closed:
            app, data = record.lastapp, record.lastdata
            record = self._open(now, caller)
            record.lastapp, record.lastdata = app, data
        record.dstchannel = callee.name
        self._dials[callee.uniqueid] = (caller, record)

    def dial_end(self, now: float, callee: Channel, status: str) -> None:
        """A dial to ``callee`` ended with ``status``; an answered one lasts until its bridge
        ends (``bridge_end``)."""
        found = self._dials.get(callee.uniqueid)
        if found is None:
            return
        caller, record = found
        record.dial_status = status
        if status != "ANSWER":
            del self._dials[callee.uniqueid]
            self._close(now, caller, record)

    def bridge_end(self, now: float, callee: Channel) -> None:
        found = self._dials.pop(callee.uniqueid, None)
        if found is not None and not found[1].closed:
            self._close(now, *found)

    @staticmethod
    def _close(now: float, caller: Channel, record: Record) -> None:
        record.end, record.closed = now, True
        record.dst, record.dcontext = caller.exten, caller.context

    def channel_gone(self, now: float, ch: Channel) -> None:
        chain = self._chains.pop(ch.uniqueid, [])
        userfield = self._userfield.pop(ch.uniqueid, "")
        if ch.uniqueid in self._party_b:
            self._party_b.discard(ch.uniqueid)
            return
        for record in chain:
            if not record.closed:
                record.end = now
                record.dst, record.dcontext = ch.exten, ch.context
            self.world.output(LogLine(MASTER_CSV, self._line(ch, record, userfield)))

    def _disposition(self, ch: Channel, record: Record) -> str:
        if record.dstchannel:
            return _DISPOSITION.get(record.dial_status, "NO ANSWER")
        if record.answer is not None:
            return "ANSWERED"
        # an unanswered callee-side Local half (the sample's agent ;2 legs)
        return "FAILED" if ch.name.endswith(";2") else "NO ANSWER"

    def _line(self, ch: Channel, record: Record, userfield: str) -> str:
        wall = self.world.naming.wall
        end = record.end if record.end is not None else record.start
        answer = record.answer
        # cdr.c cdr_object_get_duration / _billsec: whole milliseconds, then seconds
        billsec = _ms(end - answer) // 1000 if answer is not None else 0
        fields = [
            _quote(ch.account_code),
            _quote(ch.cid_num if ch.cid_num != "<unknown>" else ""),
            _quote(record.dst),
            _quote(record.dcontext),
            _quote(_clid(ch)),
            _quote(ch.name),
            _quote(record.dstchannel),
            _quote(record.lastapp),
            _quote(record.lastdata),
            _quote(_stamp(wall(record.start))),
            _quote(_stamp(wall(answer))) if answer is not None else "",
            _quote(_stamp(wall(end))),
            str(_ms(end - record.start) // 1000),
            str(billsec),
            _quote(self._disposition(ch, record)),
            _quote("DOCUMENTATION"),
            _quote(ch.uniqueid),
            _quote(userfield),
            _quote(""),
            _quote(ch.linkedid),
            str(record.sequence),
        ]
        return ",".join(fields)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _clid(ch: Channel) -> str:
    name = ch.cid_name if ch.cid_name != "<unknown>" else ""
    num = ch.cid_num if ch.cid_num != "<unknown>" else ""
    if name and num:
        return f'"{name}" <{num}>'
    return num or name
