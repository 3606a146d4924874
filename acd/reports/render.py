"""Report output: JSON (one object), CSV (one line per row), and a text table with targets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any, Final

from acd.reports.build import Report, ReportRow

# Columns of the table, with how each value is shown.
PERCENT: Final = ("service_level_15s", "answered_within_3_rings", "answer_rate", "csat", "fcr")
TABLE_COLUMNS: Final = (
    ("calls", "calls"),
    ("offered", "offered"),
    ("answered", "answered"),
    ("abandoned", "abandoned"),
    ("service_level_15s", "SL 15s"),
    ("answered_within_3_rings", "3 rings"),
    ("answer_rate", "answer"),
    ("asa_s", "ASA s"),
    ("aht_s", "AHT s"),
    ("csat", "CSAT"),
    ("fcr", "FCR"),
    ("occupancy", "occup."),
    ("fallback_handled", "fallback"),
)
LOWER_IS_BETTER: Final = frozenset({"aht_s"})


def row_dict(row: ReportRow, by: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if row.interval_start is not None:
        values["interval_start"] = row.interval_start.isoformat()
    if by is not None:
        values[by] = row.group
    values["calls"] = row.calls
    values.update(row.summary.as_report_dict())
    values["occupancy"] = None if row.occupancy is None else round(row.occupancy, 4)
    return values


def to_dict(report: Report) -> dict[str, Any]:
    return {
        "total": row_dict(report.total, None),
        "rows": [row_dict(row, report.by) for row in report.rows],
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2)


def to_csv(report: Report) -> str:
    """One header line, then the rows (or the total alone when the report is not split)."""
    rows = [row_dict(row, report.by) for row in report.rows] or [row_dict(report.total, None)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in PERCENT or key == "occupancy":
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _met(key: str, value: Any, target: float) -> str:
    if value is None:
        return ""
    ok = value <= target if key in LOWER_IS_BETTER else value >= target
    return "met" if ok else "MISSED"


def to_table(report: Report, targets: Mapping[str, float], tz: tzinfo | None = None) -> str:
    """The total as KPI / actual / target lines, then the rows with a target line on top.

    The period is shown in ``tz`` (the centre's zone) when given; interval rows already are."""
    total = row_dict(report.total, None)
    start, end = (
        (report.start, report.end)
        if tz is None
        else (report.start.astimezone(tz), report.end.astimezone(tz))
    )
    lines = [
        f"hotline report {start.isoformat()} .. {end.isoformat()}",
        "",
        f"{'KPI':<26}{'actual':>10}{'target':>10}  ",
    ]
    for key, _title in TABLE_COLUMNS:
        target = targets.get(key)
        shown_target = "" if target is None else _cell(key, target)
        verdict = "" if target is None else _met(key, total.get(key), target)
        lines.append(f"{key:<26}{_cell(key, total.get(key)):>10}{shown_target:>10}  {verdict}")
    if not report.rows:
        return "\n".join(lines) + "\n"
    lead: list[tuple[str, str]] = []
    if report.interval:
        lead.append(("interval_start", "interval"))
    if report.by:
        lead.append((report.by, report.by))
    widths = [max(26 if key == "interval_start" else 14, len(title)) for key, title in lead]
    header = "".join(f"{title:<{w}}" for (_, title), w in zip(lead, widths, strict=True))
    header += "".join(f"{title:>10}" for _, title in TABLE_COLUMNS)
    target_line = "".join(f"{'target' if i == 0 else '':<{w}}" for i, w in enumerate(widths))
    target_line += "".join(
        f"{_cell(key, targets[key]) if key in targets else '':>10}" for key, _ in TABLE_COLUMNS
    )
    lines += ["", header, target_line]
    for row in report.rows:
        values = row_dict(row, report.by)
        text = "".join(
            f"{str(values.get(key) or '-')[: w - 1]:<{w}}"
            for (key, _), w in zip(lead, widths, strict=True)
        )
        text += "".join(f"{_cell(key, values.get(key)):>10}" for key, _ in TABLE_COLUMNS)
        lines.append(text)
    return "\n".join(lines) + "\n"
