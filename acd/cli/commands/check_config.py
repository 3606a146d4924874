"""``hotline check-config``: validate config/ (and the rendered dialplan/) before starting.

It refuses everything ``hotline run`` refuses before connecting (``acd.cli.preflight``: the
database URL and file, writable spool and recording directories, the recording key...); only
what depends on the moment (a port in use, PostgreSQL reachable) is left to ``run``. Every
sound the configuration plays must exist for every configured language: a text in prompts.yaml
(``hotline prompts build`` speaks it) or, with ``--sounds DIR``, a file there, or one of Debian's
core sounds (``ivr/data/``).

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

from acd.cli import preflight
from acd.exitcodes import ExitCode
from acd.settings.ami_privileges import check_manager_conf
from acd.settings.dialplan_check import DialplanReport, check_dialplan
from acd.settings.errors import ConfigError, ConfigIssue
from acd.settings.loader import load_settings
from acd.settings.settings import Settings


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
        "--sounds",
        metavar="DIR",
        default=None,
        help="check the sound files in DIR (a `hotline prompts build` output or Asterisk's "
        "sounds directory) instead of the texts of prompts.yaml",
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


def _sound_issues(settings: Settings, config: Path, sounds: str | None) -> list[ConfigIssue]:
    """Every sound the configuration plays, in every language: text in prompts.yaml (or a file
    in ``sounds``), or one of Debian's core sounds."""
    from ivr.prompt_text import load_catalogue
    from ivr.sounds import missing_sounds, referenced_sounds

    try:
        catalogue = load_catalogue(config)
    except ConfigError as exc:
        return list(exc.issues)
    sounds_dir = None if sounds is None else Path(sounds)
    if sounds_dir is not None and not sounds_dir.is_dir():
        return [ConfigIssue(str(sounds_dir), "", "--sounds: not a directory")]
    return missing_sounds(referenced_sounds(settings), catalogue, sounds_dir)


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
        # everything `hotline run` would refuse before connecting (preflight), bar live services
        issues.extend(fault.issue() for fault in preflight.config_faults(settings))
        issues.extend(_sound_issues(settings, Path(args.config), args.sounds))
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
    return ExitCode.USAGE if issues else ExitCode.OK
