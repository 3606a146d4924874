"""Asterisk's ``cdr-csv/Master.csv``, one record at a time: pure, no I/O.

Columns as RECORDED from Asterisk 22.10.1 (tests/fixtures/asterisk-dev/q6_cdr_master_csv_sample.txt,
cdr.conf ``[csv] loguniqueid = yes, loguserfield = yes, newcdrcolumns = yes``): accountcode, src,
dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration,
billsec, disposition, amaflags, uniqueid, userfield, peeraccount, linkedid, sequence. Without
``newcdrcolumns`` the last three are absent (18 columns); without ``loguniqueid`` there is no
uniqueid, which the import needs (so such a file is refused). Text is double-quoted with inner
quotes doubled, an unanswered record has an empty bare ``answer``; times are the Asterisk host's
local time ``YYYY-MM-DD HH:MM:SS`` (cdr_csv.c ``append_date``: ``localtime_r`` unless
``usegmtime``), so the zone is a parameter.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Final

COLUMNS: Final = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    "peeraccount",
    "linkedid",
    "sequence",
)
_WITH_NEW_COLUMNS: Final = len(COLUMNS)  # 21
_WITHOUT_NEW_COLUMNS: Final = 18  # loguniqueid + loguserfield, no newcdrcolumns
_STAMP: Final = "%Y-%m-%d %H:%M:%S"


class CdrFormatError(ValueError):
    """A line that is not a Master.csv record in a supported layout."""


@dataclass(frozen=True, slots=True)
class CdrRecord:
    src: str
    dst: str
    dcontext: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    uniqueid: str
    linkedid: str | None  # None without newcdrcolumns


def parse_line(line: str, zone: tzinfo | None) -> CdrRecord:
    """One Master.csv line; times read in ``zone`` (the Asterisk host's local zone; None: this
    machine's, as ``localtime_r`` there)."""
    try:
        rows = list(csv.reader([line.rstrip("\r\n")], strict=True))
    except csv.Error as exc:
        raise CdrFormatError(f"not CSV: {exc}") from exc
    row = rows[0] if rows else []
    if len(row) not in (_WITH_NEW_COLUMNS, _WITHOUT_NEW_COLUMNS):
        raise CdrFormatError(
            f"expected {_WITH_NEW_COLUMNS} columns (cdr.conf [csv] loguniqueid, loguserfield and"
            f" newcdrcolumns = yes) or {_WITHOUT_NEW_COLUMNS}, got {len(row)}"
        )
    value = dict(zip(COLUMNS, row, strict=False))
    if not value["uniqueid"]:
        raise CdrFormatError("no uniqueid (cdr.conf [csv] loguniqueid = yes)")
    answer = value["answer"]
    return CdrRecord(
        src=value["src"],
        dst=value["dst"],
        dcontext=value["dcontext"],
        channel=value["channel"],
        dstchannel=value["dstchannel"],
        lastapp=value["lastapp"],
        lastdata=value["lastdata"],
        start=_time(value["start"], zone, "start"),
        answer=_time(answer, zone, "answer") if answer else None,
        end=_time(value["end"], zone, "end"),
        disposition=value["disposition"],
        uniqueid=value["uniqueid"],
        linkedid=value.get("linkedid") or None,
    )


def _time(text: str, zone: tzinfo | None, column: str) -> datetime:
    try:
        local = datetime.strptime(text, _STAMP)
    except ValueError as exc:
        raise CdrFormatError(f"{column} {text[:30]!r} is not {_STAMP}") from exc
    # fold=0: in the hour a daylight-saving change repeats, the first reading (the file does
    # not say which one Asterisk meant); astimezone() reads a naive time as the machine's
    return local.replace(tzinfo=zone) if zone is not None else local.astimezone()
