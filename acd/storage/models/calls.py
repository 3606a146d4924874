"""``calls`` (one row per customer call) and ``call_events`` (its timeline)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal, get_args

from sqlalchemy import (
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from acd.storage.models.base import Base, BigIntId, JsonType

HungUpBy = Literal["caller", "agent", "system"]
Outcome = Literal[
    "answered",
    "abandoned",
    "timeout",
    "callback",
    "voicemail",
    "failed",
    "self_service",
    "closed",
    "ivr_hangup",  # the caller hung up in the IVR, before asking for a person
    "fallback",  # handed back to the dialplan's plain Queue() when the daemon stopped
]
# Who finished the call: the daemon, or the dialplan's plain Queue() while no daemon had it
# (imported from Asterisk's queue_log and Master.csv: ``acd.reports.fallback_import``).
HandledBy = Literal["daemon", "fallback"]
HUNG_UP_BY: Final = get_args(HungUpBy)
OUTCOMES: Final = get_args(Outcome)
HANDLED_BY: Final = get_args(HandledBy)
# Timeline kinds the daemon writes; the column is open text so new kinds need no migration.
EVENT_KINDS: Final = (
    "arrived",
    "ivr_node",
    "queued",
    "offered",
    "ringing",
    "ring_no_answer",
    "answered",
    "transferred",
    "hold",
    "unhold",
    "callback_requested",
    "ended",
)

# Ids are ours (call id, agent id) or Asterisk's uniqueid/linkedid ("1700000000.42").
ID = String(64)


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    uniqueid: Mapped[str | None] = mapped_column(ID)
    linkedid: Mapped[str | None] = mapped_column(ID, index=True)
    caller_number: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(128))
    dnis: Mapped[str | None] = mapped_column(String(64))
    arrived_at: Mapped[datetime]
    # [{"node": "main", "key": "2", "seconds": 4.2}, ...] in visiting order.
    ivr_path: Mapped[list[Any] | None] = mapped_column(JsonType)
    ivr_reason: Mapped[str | None] = mapped_column(String(64))
    ivr_category: Mapped[str | None] = mapped_column(String(64))
    order_number: Mapped[str | None] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    vip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    queued_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    # Not a foreign key: a call must be recordable even before the agent roster is synced.
    agent_id: Mapped[str | None] = mapped_column(ID)
    ended_at: Mapped[datetime | None]
    hung_up_by: Mapped[str | None] = mapped_column(
        Enum(*HUNG_UP_BY, name="hung_up_by", native_enum=False, create_constraint=True, length=16)
    )
    outcome: Mapped[str | None] = mapped_column(
        Enum(*OUTCOMES, name="outcome", native_enum=False, create_constraint=True, length=16)
    )
    ring_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ring_time_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # [{"from_agent": ..., "to": ..., "at": iso, "kind": "blind"|"attended"}, ...]
    transfers: Mapped[list[Any] | None] = mapped_column(JsonType)
    disposition_code: Mapped[str | None] = mapped_column(String(32))
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    survey_rating: Mapped[int | None] = mapped_column(Integer)
    survey_solved: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    recording_id: Mapped[str | None] = mapped_column(ID)
    # The whole timeline, written with the row's last update (``acd.storage.timeline``); NULL
    # for calls whose steps are ``call_events`` rows (written before this column existed).
    timeline: Mapped[list[Any] | None] = mapped_column(JsonType)
    # The agents' conversations (migration 0010): [{"agent_id", "queue", "answered_at",
    # "ended_at", "wrap_up_due"} (ISO 8601 UTC; ended_at NULL: still talking)], one per
    # answered leg. The agents' on-call and wrap-up time is derived from them
    # (``acd.reports.agent_time``), not stored in agent_state_log. NULL: rows written before
    # (their intervals are in the log), and calls resumed after their daemon died.
    agent_legs: Mapped[list[Any] | None] = mapped_column(JsonType)
    wrap_up_due: Mapped[datetime | None]  # the last leg's wrap-up deadline
    # "fallback": the fallback Queue() answered or lost the caller (the row was imported, or
    # the daemon's row was completed from queue_log); the daemon's writes never overwrite it.
    handled_by: Mapped[str] = mapped_column(
        Enum(*HANDLED_BY, name="handled_by", native_enum=False, create_constraint=True, length=16),
        default="daemon",
        server_default="daemon",
    )

    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", order_by="CallEvent.seq", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # Report queries: a period, a queue over a period, an agent over a period.
        Index("ix_calls_arrived_at", "arrived_at"),
        Index("ix_calls_queue_arrived_at", "queue", "arrived_at"),
        Index("ix_calls_agent_id_arrived_at", "agent_id", "arrived_at"),
        Index("ix_calls_uniqueid", "uniqueid"),
    )


class CallEvent(Base):
    """One step of a call's timeline; every offer and every ring is its own row.

    Kept readable for the calls written this way; newer calls carry ``calls.timeline`` instead."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ID, ForeignKey("calls.id", ondelete="CASCADE"))
    # Position in the call's timeline, assigned by the daemon: (call_id, seq) is the natural
    # key that makes a replayed append a no-op.
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(ID)
    data: Mapped[dict[str, Any] | None] = mapped_column(JsonType)

    call: Mapped[Call] = relationship(back_populates="events")

    __table_args__ = (
        UniqueConstraint("call_id", "seq"),
        # Agent reports: offers/rings/no-answers per agent over a period.
        Index("ix_call_events_agent_id_at", "agent_id", "at"),
        Index("ix_call_events_kind_at", "kind", "at"),
    )
