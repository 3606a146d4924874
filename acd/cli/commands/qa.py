"""``hotline qa sample|score|report|flags``: the weekly QA sample, scoring calls, reports.

Exit codes (acd.exitcodes): 0 done, 1 problems found (nothing sampled for the week, form
changed without a new version), 2 bad usage or configuration, 3 database unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acd.cli.timefmt import local_time
from acd.exitcodes import ExitCode
from acd.storage.models import Call, Recording
from recordings.cli_support import load_config, run_in_transaction, say
from recordings.flags import CallFacts, FlagThresholds, call_flags, inspect_recording
from recordings.qa_store import (
    FormChanged,
    Redraw,
    SampleLocked,
    UnknownCall,
    latest_sample,
    latest_scores,
    sample_population,
    save_sample,
    submit_score,
    summarise_scores,
)
from recordings.sampling import SamplingRules, default_seed, parse_week, select_sample, week_bounds
from recordings.scorecard import ScoreError, compute_score, parse_answers

PROG = "hotline qa"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("qa", help="quality assurance: sample, score, report")
    actions = parser.add_subparsers(dest="qa_action", metavar="ACTION", required=True)

    sample = actions.add_parser(
        "sample",
        help="draw and store the QA sample of an ISO week (fixed once drawn)",
        description="Draw the week's QA sample and store it. A drawn sample is fixed: drawing "
        "it again needs --replace with --by and --reason, and is written to the audit log.",
    )
    sample.add_argument("--week", required=True, metavar="YYYY-Www", help="ISO week, 2026-W47")
    sample.add_argument("--rate", type=float, default=None, help="default: recording.yaml")
    sample.add_argument("--seed", type=int, default=None, help="default: derived from the week")
    sample.add_argument(
        "--replace", action="store_true", help="draw a week already drawn again (audited)"
    )
    sample.add_argument("--by", default=None, help="who replaces the sample (with --replace)")
    sample.add_argument("--reason", default=None, help="why it is replaced (with --replace)")
    sample.set_defaults(func=_sample)

    score = actions.add_parser("score", help="score a call with a scorecard form")
    score.add_argument("call_id", metavar="CALL", help="the call's id (calls.id)")
    score.add_argument("--form", default=None, help="default: recording.yaml default_scorecard")
    score.add_argument("--answers", required=True, help="item=yes|no|na,...")
    score.add_argument("--by", required=True, help="the reviewer")
    score.add_argument("--comment", default=None, help="the reviewer's note, kept with the score")
    score.set_defaults(func=_score)

    report = actions.add_parser("report", help="average scores of the latest score versions")
    report.add_argument(
        "--by", choices=("agent", "form"), default="agent", help="one row per agent or per form"
    )
    report.set_defaults(func=_report)

    flags = actions.add_parser("flags", help="automatic flags for the week's sampled calls")
    flags.add_argument("--week", required=True, metavar="YYYY-Www", help="ISO week, 2026-W47")
    flags.set_defaults(func=_flags)

    for action in (sample, score, report, flags):
        action.add_argument(
            "--db",
            metavar="URL",
            default=None,
            help="database URL (default: $HOTLINE_DATABASE_URL)",
        )
        action.add_argument("--config", metavar="DIR", default="config", help="default: config")
        action.add_argument("--json", action="store_true", help="machine-readable output")


def _sample(args: argparse.Namespace) -> int:
    settings = load_config(PROG, args.config)
    if settings is None:
        return ExitCode.USAGE
    qa = settings.recording.qa
    rate = qa.sample_rate if args.rate is None else args.rate
    try:
        parse_week(args.week)
    except ValueError as exc:
        say(PROG, str(exc))
        return ExitCode.USAGE
    if not 0.0 <= rate <= 1.0:
        say(PROG, f"--rate must be between 0 and 1, got {rate}")
        return ExitCode.USAGE
    redraw = None
    if args.replace:
        if not args.by or not args.reason:
            say(PROG, "--replace needs --by WHO and --reason WHY (the redraw is audited)")
            return ExitCode.USAGE
        redraw = Redraw(args.by, args.reason)
    elif args.by or args.reason:
        say(PROG, "--by and --reason go with --replace")
        return ExitCode.USAGE
    zone = ZoneInfo(settings.timezone)
    seed = default_seed(args.week) if args.seed is None else args.seed
    review = qa.always_review
    rules = SamplingRules(
        queues=frozenset(review.queues),
        shorter_than_s=review.shorter_than_s,
        longer_than_s=review.longer_than_s,
        transferred=review.transferred,
        agent_hung_up_first=review.agent_hung_up_first,
    )
    start, end = week_bounds(args.week, zone)

    async def body(session: AsyncSession) -> int:
        population = await sample_population(session, start, end)
        result = select_sample(population, rate, seed, rules)
        try:
            await save_sample(session, args.week, rate, result, datetime.now(UTC), redraw=redraw)
        except SampleLocked as exc:
            old = exc.existing
            say(
                PROG,
                f"the sample of {old.week} was drawn {local_time(old.created_at, zone)} "
                f"({len(old.call_ids)} of {old.population} calls, seed {old.seed}, rate "
                f"{old.rate:g}) and is fixed: --replace --by WHO --reason WHY draws it again",
            )
            return ExitCode.PROBLEMS
        if args.json:
            print(json.dumps(result.as_json()))
        else:
            print(f"week {args.week}: {len(result.sampled)} of {result.population} calls")
            for call_id in result.sampled:
                print(f"  {call_id}  {', '.join(result.reasons[call_id])}")
        return ExitCode.OK

    return run_in_transaction(PROG, args.db, body)


def _score(args: argparse.Namespace) -> int:
    settings = load_config(PROG, args.config)
    if settings is None:
        return ExitCode.USAGE
    qa = settings.recording.qa
    form_id = args.form or qa.default_scorecard
    try:
        card = qa.scorecard(form_id)
    except ValueError:  # max() of no versions
        say(PROG, f"no scorecard form {form_id!r} in recording.yaml")
        return ExitCode.USAGE
    try:
        result = compute_score(card, parse_answers(args.answers))
    except ScoreError as exc:
        say(PROG, str(exc))
        return ExitCode.USAGE

    async def body(session: AsyncSession) -> int:
        try:
            row = await submit_score(
                session,
                args.call_id,
                card,
                result,
                by=args.by,
                now=datetime.now(UTC),
                comment=args.comment,
            )
        except (FormChanged, UnknownCall) as exc:
            say(PROG, str(exc))
            return ExitCode.PROBLEMS
        payload = {
            "call_id": args.call_id,
            "form": card.id,
            "form_version": card.version,
            "version": row.version,
            "score": row.score,
            "instant_fail": row.instant_fail,
            "failed_items": list(result.failed_items),
        }
        text = f"call {args.call_id}: {row.score:g}/100 (score version {row.version})"
        if row.instant_fail:
            text += " instant fail"
        print(json.dumps(payload) if args.json else text)
        return ExitCode.OK

    return run_in_transaction(PROG, args.db, body)


def _report(args: argparse.Namespace) -> int:
    async def body(session: AsyncSession) -> int:
        rows = summarise_scores(await latest_scores(session), args.by)
        if args.json:
            print(json.dumps({"by": args.by, "rows": [r.as_json() for r in rows]}))
        else:
            for r in rows:
                print(
                    f"{r.key:<16} {r.scored_calls:>5} calls  avg {r.average:5.1f}"
                    f"  instant fails {r.instant_fails}"
                )
        return ExitCode.OK

    return run_in_transaction(PROG, args.db, body)


def _flags(args: argparse.Namespace) -> int:
    settings = load_config(PROG, args.config)
    if settings is None:
        return ExitCode.USAGE
    short = settings.recording.qa.always_review.shorter_than_s
    thresholds = FlagThresholds() if short is None else FlagThresholds(short_call_s=short)

    async def body(session: AsyncSession) -> int:
        sample = await latest_sample(session, args.week)
        if sample is None:
            say(PROG, f"no QA sample stored for {args.week}: run `hotline qa sample` first")
            return ExitCode.PROBLEMS
        out: dict[str, list[dict[str, str]]] = {}
        for call_id in sample.call_ids:
            call = await session.get(Call, call_id)
            rec = await session.scalar(
                select(Recording)
                .where(Recording.call_id == call_id, Recording.purged_at.is_(None))
                .order_by(Recording.started_at.desc())
            )
            talk = None
            if call is not None and call.answered_at and call.ended_at:
                talk = (call.ended_at - call.answered_at).total_seconds()
            facts = CallFacts(
                call_id=call_id,
                hung_up_by=call.hung_up_by if call else None,
                transferred=bool(call.transfers) if call else False,
                talk_s=talk,
            )
            path = None if rec is None else Path(rec.path)
            inspection = await asyncio.to_thread(inspect_recording, path, thresholds)
            flags = call_flags(facts, inspection, thresholds)
            out[call_id] = [{"code": f.code, "detail": f.detail} for f in flags]
        if args.json:
            print(json.dumps({"week": args.week, "flags": out}, sort_keys=True))
        else:
            for call_id, found in out.items():
                codes = ", ".join(f["code"] for f in found) or "-"
                print(f"{call_id:<24} {codes}")
        return ExitCode.OK

    return run_in_transaction(PROG, args.db, body)
