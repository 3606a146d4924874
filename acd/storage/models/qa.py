"""Quality assurance: weekly QA samples, scorecard forms, scores, and recording pauses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from acd.storage.models.base import Base, BigIntId, JsonType
from acd.storage.models.calls import ID


class QaSample(Base):
    """One drawing of the weekly QA sample; kept with its seed so it can be re-drawn and checked.

    A week's sample is fixed once drawn: a redraw (``qa sample --replace``) is the week's next
    ``drawing`` and is audited; the unique (week, drawing) stops two first drawings racing."""

    __tablename__ = "qa_samples"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W47"
    drawing: Mapped[int] = mapped_column(Integer)  # 1 for the week's first, then 2, 3...
    seed: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[float] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer)
    # Sampled call ids in selection order, and why each one is in: {"call": ["random"|rule...]}.
    call_ids: Mapped[list[Any]] = mapped_column(JsonType)
    reasons: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_qa_samples_week", "week"),
        UniqueConstraint("week", "drawing"),
    )


class ScorecardForm(Base):
    """A scorecard form as it was when scores were given with it (forms change, scores stay)."""

    __tablename__ = "scorecard_forms"

    form_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(256))
    # [{"id": ..., "text": ..., "weight": 10, "instant_fail": false}, ...]
    items: Mapped[list[Any]] = mapped_column(JsonType)


class QaScore(Base):
    """A submitted score. Never updated: a correction is a new row with the next version."""

    __tablename__ = "qa_scores"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ID)
    agent_id: Mapped[str | None] = mapped_column(ID)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)  # 1, then 2 for the first correction...
    answers: Mapped[dict[str, Any]] = mapped_column(JsonType)  # item id -> true/false
    score: Mapped[float] = mapped_column(Float)  # 0..100
    instant_fail: Mapped[bool] = mapped_column(Boolean)
    scored_by: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime]
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("call_id", "form_id", "version"),
        Index("ix_qa_scores_agent_id_scored_at", "agent_id", "scored_at"),
    )


class RecordingPause(Base):
    """A stretch of a call whose recording was muted (card numbers and other sensitive data)."""

    __tablename__ = "recording_pauses"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(String(128))
    paused_at: Mapped[datetime]
    resumed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[str | None] = mapped_column(String(64))
    # True when the policy's time limit resumed it rather than the agent.
    auto_resumed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_recording_pauses_call_id", "call_id"),)
