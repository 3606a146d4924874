"""``hotline check-config``: validate config/ (and the rendered dialplan/) before starting.

Exit 0 with a short summary when everything is valid; exit 2 listing every problem, each naming
the file, the key path and what was expected. The dialplan check also shows a diff when the
files in dialplan/ are not what ``hotline dialplan render`` would produce from config/ now.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from acd.settings.ami_privileges import check_manager_conf
from acd.settings.dialplan_check import DialplanReport, check_dialplan
from acd.settings.errors import ConfigError, ConfigIssue
from acd.settings.loader import load_settings
from acd.settings.settings import Settings

EXIT_OK = 0
EXIT_INVALID = 2


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check-config",
        help="validate the YAML config and the rendered dialplan",
        description="Validate config/*.yaml and check dialplan/ against it.",
    )
    parser.add_argument("--config", metavar="DIR", default="config", help="default: config")
    parser.add_argument(
        "--dialplan",
        metavar="DIR",
        default=None,
        help="rendered dialplan to check (default: dialplan, skipped if absent)",
    )
    parser.add_argument(
        "--skip-secrets",
        action="store_true",
        help="do not require the *_env secret variables to be set (e.g. in CI)",
    )
    parser.add_argument(
        "--manager-conf",
        metavar="PATH",
        default=None,
        help="an installed manager.conf: its AMI user must grant exactly the classes the"
        " daemon needs (no system)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _summary(settings: Settings) -> dict[str, Any]:
    return {
        "queues": [
            {
                "name": q.name,
                "skill": q.skill,
                "min_level": q.min_level,
                "policy": q.policy,
                "members": len(settings.members(q.name)),
            }
            for q in settings.queues
        ],
        "agents": len(settings.agents),
        "menus": len(settings.ivr.menus),
    }


def _print_table(console: Console, summary: dict[str, Any]) -> None:
    table = Table(title="hotline config")
    for column in ("queue", "skill", "min level", "policy", "members"):
        table.add_column(column)
    for q in summary["queues"]:
        table.add_row(q["name"], q["skill"], str(q["min_level"]), q["policy"], str(q["members"]))
    console.print(table)
    console.print(f"{summary['agents']} agents, {summary['menus']} IVR menus: config is valid")


def _manager_conf_issues(path: Path, settings: Settings) -> list[ConfigIssue]:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as exc:
        return [ConfigIssue(str(path), "", f"cannot read: {exc.strerror or exc}")]
    return check_manager_conf(text, settings.ami.username, str(path))


def run(args: argparse.Namespace) -> int:
    out = Console(highlight=False, soft_wrap=True)
    issues: list[ConfigIssue] = []
    summary: dict[str, Any] | None = None
    report = DialplanReport(())
    try:
        settings = load_settings(Path(args.config), require_secrets=not args.skip_secrets)
    except ConfigError as exc:
        issues.extend(exc.issues)
    else:
        summary = _summary(settings)
        dialplan = Path(args.dialplan) if args.dialplan is not None else Path("dialplan")
        if args.dialplan is not None or dialplan.is_dir():
            report = check_dialplan(dialplan, settings)
            issues.extend(report.issues)
        if args.manager_conf is not None:
            issues.extend(_manager_conf_issues(Path(args.manager_conf), settings))
    if args.json:
        result = {
            "ok": not issues,
            "summary": summary,
            "errors": [
                {"file": i.file, "path": i.path, "message": i.message, "text": str(i)}
                for i in issues
            ],
            "dialplan_diffs": report.diffs,
        }
        print(json.dumps(result, indent=2))
    elif issues:
        for issue in issues:
            out.print(str(issue), markup=False)
        for diff in report.diffs.values():
            out.print(diff, markup=False, end="")
        out.print(f"{len(issues)} problem(s) found", markup=False)
    elif summary is not None:
        _print_table(out, summary)
    return EXIT_INVALID if issues else EXIT_OK
