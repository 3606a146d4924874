"""``hotline prompts build [--config DIR] [--out DIR] [--json]``: the IVR's sound files.

Speaks every text of ``prompts.yaml`` in every language of ivr.yaml with espeak-ng into 8 kHz mono
16-bit WAV files under ``--out``, laid out like Asterisk's sounds directory (copy the directory's
contents into ``<astdatadir>/sounds``). Then checks that every sound the configuration plays is
there for every language (built, or one of Debian's core sounds).

Exit codes: 0 built and complete, 1 built but some sound is missing (listed), 2 invalid
configuration or prompts.yaml (an unknown espeak-ng voice too), 3 espeak-ng is not installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigError, ConfigIssue
from acd.settings.loader import load_settings

PROG = "hotline prompts"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("prompts", help="the IVR's sound files (espeak-ng)")
    actions = parser.add_subparsers(dest="prompts_action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="speak prompts.yaml into WAV files for Asterisk's sounds directory",
        description="Speak every text of prompts.yaml, in every configured language, with "
        "espeak-ng into 8 kHz mono 16-bit WAV files laid out like Asterisk's sounds directory.",
    )
    build.add_argument("--config", metavar="DIR", default="config", help="default: config")
    build.add_argument("--out", metavar="DIR", default="sounds", help="default: sounds")
    build.add_argument("--json", action="store_true", help="print one JSON object")
    build.set_defaults(func=run_build)


def _say(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr)


def run_build(args: argparse.Namespace) -> int:
    from ivr.prompt_build import BuiltPrompt, build_prompts
    from ivr.prompt_text import load_catalogue
    from ivr.sounds import missing_sounds, referenced_sounds
    from ivr.tts import SpeechError, espeak_version, find_espeak

    config = Path(args.config)
    try:
        settings = load_settings(config, require_secrets=False)
        catalogue = load_catalogue(config)
    except ConfigError as exc:
        _say(f"invalid configuration in {config}:")
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return ExitCode.USAGE
    espeak = find_espeak()
    if espeak is None:
        _say("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
        return ExitCode.UNAVAILABLE
    out = Path(args.out)
    languages = settings.ivr.languages
    todo = catalogue.for_languages(languages)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[file]}"),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    try:
        with progress:
            task = progress.add_task("speaking", total=len(todo), file="")
            built: list[BuiltPrompt] = build_prompts(
                catalogue,
                languages,
                out,
                espeak=espeak,
                on_done=lambda p: progress.update(task, advance=1, file=p.file),
            )
    except SpeechError as exc:
        _say(f"{exc} (check the voices in {config / 'prompts.yaml'}: espeak-ng --voices)")
        return ExitCode.USAGE
    missing = missing_sounds(referenced_sounds(settings), catalogue, out)
    if args.json:
        body = {
            "out": str(out),
            "espeak": espeak_version(espeak),
            "languages": list(languages),
            "files": [b.as_json() for b in built],
            "missing": [{"file": i.file, "path": i.path, "message": i.message} for i in missing],
        }
        print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        _print_summary(built, missing, out)
    return ExitCode.PROBLEMS if missing else ExitCode.OK


def _print_summary(built: list[Any], missing: list[ConfigIssue], out: Path) -> None:
    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"prompts in {out}")
    for column in ("language", "files", "written", "unchanged", "seconds"):
        table.add_column(column, justify="left" if column == "language" else "right")
    per_language: dict[str, Counter[str]] = {}
    seconds: dict[str, float] = {}
    for b in built:
        per_language.setdefault(b.prompt.language, Counter())[b.status] += 1
        seconds[b.prompt.language] = seconds.get(b.prompt.language, 0.0) + b.seconds
    for language, counts in per_language.items():
        table.add_row(
            language,
            str(counts.total()),
            str(counts["written"]),
            str(counts["unchanged"]),
            f"{seconds[language]:.1f}",
        )
    console.print(table)
    for issue in missing:
        console.print(f"missing: {issue}", markup=False)
    if missing:
        console.print(f"{len(missing)} sound(s) missing", markup=False)
    else:
        console.print(
            f"every sound the configuration plays is there; install: copy {out}/ into Asterisk's "
            f"sounds directory (e.g. cp -r {out}/. /var/lib/asterisk/sounds/)",
            markup=False,
        )
