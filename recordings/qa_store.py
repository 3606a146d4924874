"""QA persistence: the week's population, stored samples, scorecard forms and scores.

Scores are append-only: ``submit_score`` never updates a row; a correction is the next
version for the same call and form, and reports read only each call's latest version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from acd.settings.schema_recording import Scorecard
from acd.storage.models import Call, QaSample, QaScore, Recording, ScorecardForm
from recordings.repository import add_audit
from recordings.sampling import NO_AGENT, QaSampleResult, SampleCandidate
from recordings.scorecard import ScoreResult


class FormChanged(ValueError):
    """recording.yaml changed a form's items without raising its version."""


class UnknownCall(LookupError):
    """A score for a call id the database does not have (a typo, or another site's call)."""


class SampleLocked(ValueError):
    """The week's sample is already drawn; only an audited ``Redraw`` replaces it."""

    def __init__(self, existing: QaSample) -> None:
        self.existing = existing
        super().__init__(f"the QA sample of {existing.week} is already drawn")


@dataclass(frozen=True, slots=True)
class Redraw:
    """Who replaces a week's sample, and why (both go to the audit log)."""

    who: str
    reason: str


async def sample_population(
    session: AsyncSession, start: datetime, end: datetime
) -> list[SampleCandidate]:
    """Calls with a (not purged) recording started in [start, end), one entry per call."""
    stmt = (
        select(Recording, Call)
        .join(Call, Recording.call_id == Call.id)
        .where(Recording.started_at >= start, Recording.started_at < end)
        .where(Recording.purged_at.is_(None))
    )
    found: dict[str, SampleCandidate] = {}
    for rec, call in (await session.execute(stmt)).all():
        if call.answered_at is not None and call.ended_at is not None:
            duration: float | None = (call.ended_at - call.answered_at).total_seconds()
        else:
            duration = rec.duration_s
        found[call.id] = SampleCandidate(
            call_id=call.id,
            agent_id=call.agent_id or rec.agent_id,
            queue=call.queue or rec.queue,
            duration_s=duration,
            transferred=bool(call.transfers),
            hung_up_by=call.hung_up_by,
        )
    return list(found.values())


async def save_sample(
    session: AsyncSession,
    week: str,
    rate: float,
    result: QaSampleResult,
    now: datetime,
    *,
    redraw: Redraw | None = None,
) -> QaSample:
    """Store the week's sample; raises ``SampleLocked`` when one is drawn and this is no
    ``redraw``. A redraw is the week's next drawing, with an audit row saying who and why."""
    current = await latest_sample(session, week)
    if current is not None and redraw is None:
        raise SampleLocked(current)
    row = QaSample(
        week=week,
        drawing=1 if current is None else current.drawing + 1,
        seed=result.seed,
        rate=rate,
        population=result.population,
        call_ids=list(result.sampled),
        reasons=dict(result.reasons),
        created_at=now,
    )
    try:
        async with session.begin_nested():  # a concurrent first drawing must not void ours
            session.add(row)
            await session.flush()
    except IntegrityError:
        winner = await latest_sample(session, week)
        assert winner is not None  # the unique (week, drawing) was taken by that row
        raise SampleLocked(winner) from None
    if current is not None and redraw is not None:
        add_audit(
            session,
            who=redraw.who,
            role="qa",
            action="qa.sample_redrawn",
            target=week,
            reason=f"{redraw.reason} (drawing {row.drawing} replaces drawing {current.drawing})",
            at=now,
        )
        await session.flush()
    return row


async def latest_sample(session: AsyncSession, week: str) -> QaSample | None:
    stmt = select(QaSample).where(QaSample.week == week).order_by(QaSample.drawing.desc()).limit(1)
    return (await session.scalars(stmt)).first()


def _form_items(card: Scorecard) -> list[dict[str, Any]]:
    return [item.model_dump() for item in card.items]


async def ensure_form(session: AsyncSession, card: Scorecard) -> None:
    """Store the form version scores refer to; refuse a silently edited version."""
    row = await session.get(ScorecardForm, (card.id, card.version))
    if row is None:
        session.add(
            ScorecardForm(
                form_id=card.id, version=card.version, title=card.title, items=_form_items(card)
            )
        )
        await session.flush()
    elif row.items != _form_items(card):
        raise FormChanged(
            f"scorecard {card.id} v{card.version} differs from the one already used for scores;"
            " give the changed form a new version in recording.yaml"
        )


async def submit_score(
    session: AsyncSession,
    call_id: str,
    card: Scorecard,
    result: ScoreResult,
    *,
    by: str,
    now: datetime,
    comment: str | None = None,
) -> QaScore:
    """Insert the next version of this call's score on this form (1 for the first); raises
    ``UnknownCall`` for a call id that is not in the database."""
    call = await session.get(Call, call_id)
    if call is None:
        raise UnknownCall(f"no call {call_id!r} in the database")
    await ensure_form(session, card)
    current = await session.scalar(
        select(func.max(QaScore.version)).where(
            QaScore.call_id == call_id, QaScore.form_id == card.id
        )
    )
    row = QaScore(
        call_id=call_id,
        agent_id=call.agent_id,
        form_id=card.id,
        form_version=card.version,
        version=(current or 0) + 1,
        answers=dict(result.answers),
        score=result.score,
        instant_fail=result.instant_fail,
        scored_by=by,
        scored_at=now,
        comment=comment,
    )
    session.add(row)
    await session.flush()
    return row


async def latest_scores(session: AsyncSession) -> list[QaScore]:
    """Each (call, form)'s newest score version."""
    newest = (
        select(QaScore.call_id, QaScore.form_id, func.max(QaScore.version).label("version"))
        .group_by(QaScore.call_id, QaScore.form_id)
        .subquery()
    )
    stmt = (
        select(QaScore)
        .join(
            newest,
            (QaScore.call_id == newest.c.call_id)
            & (QaScore.form_id == newest.c.form_id)
            & (QaScore.version == newest.c.version),
        )
        .order_by(QaScore.call_id, QaScore.form_id)
    )
    return list((await session.scalars(stmt)).all())


@dataclass(frozen=True)
class ReportRow:
    key: str  # agent id or form id
    scored_calls: int
    average: float
    instant_fails: int

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "scored_calls": self.scored_calls,
            "average": self.average,
            "instant_fails": self.instant_fails,
        }


def summarise_scores(scores: list[QaScore], by: Literal["agent", "form"]) -> list[ReportRow]:
    groups: dict[str, list[QaScore]] = {}
    for score in scores:
        key = (score.agent_id or NO_AGENT) if by == "agent" else score.form_id
        groups.setdefault(key, []).append(score)
    return [
        ReportRow(
            key=key,
            scored_calls=len(rows),
            average=round(sum(r.score for r in rows) / len(rows), 1),
            instant_fails=sum(1 for r in rows if r.instant_fail),
        )
        for key, rows in sorted(groups.items())
    ]
