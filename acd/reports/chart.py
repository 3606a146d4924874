"""PNG chart of a report: service level per row against its target, offered/answered bars."""

from __future__ import annotations

from pathlib import Path

from acd.reports.build import Report, ReportRow


def _label(row: ReportRow) -> str:
    parts = []
    if row.interval_start is not None:
        parts.append(row.interval_start.strftime("%m-%d %H:%M"))
    if row.group is not None:
        parts.append(row.group)
    return " ".join(parts) or "total"


def write_chart(report: Report, path: Path, service_level_target: float | None) -> None:
    """Write the chart; rows are the report's rows (or the total when it is not split)."""
    # Agg: no display on servers; imported here so reports without --chart never load it.
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rows = report.rows or [report.total]
    labels = [_label(row) for row in rows]
    positions = list(range(len(rows)))
    figure, (levels, volumes) = plt.subplots(2, 1, figsize=(max(6.0, len(rows) * 0.6), 7))
    try:
        values = [
            100 * row.summary.service_level_15s
            if row.summary.service_level_15s is not None
            else float("nan")
            for row in rows
        ]
        levels.plot(positions, values, marker="o", label="service level 15 s")
        if service_level_target is not None:
            levels.axhline(100 * service_level_target, color="red", linestyle="--", label="target")
        levels.set_ylim(0, 105)
        levels.set_ylabel("%")
        levels.legend(loc="lower left")
        width = 0.4
        volumes.bar(
            [p - width / 2 for p in positions],
            [r.summary.offered for r in rows],
            width,
            label="offered",
        )
        volumes.bar(
            [p + width / 2 for p in positions],
            [r.summary.answered for r in rows],
            width,
            label="answered",
        )
        volumes.set_ylabel("calls")
        volumes.legend(loc="upper left")
        for axes in (levels, volumes):
            axes.set_xticks(positions, labels, rotation=45, ha="right", fontsize=7)
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
