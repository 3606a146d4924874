"""KPI reports over the stored calls, and the Asterisk queue_log export.

Every formula lives in ``acd.kpi``; this package only fetches, groups and formats.
"""

from __future__ import annotations

from acd.reports.build import GROUPINGS, Report, ReportRow, build_report, build_reports
from acd.reports.periods import INTERVALS

__all__ = ["GROUPINGS", "INTERVALS", "Report", "ReportRow", "build_report", "build_reports"]
