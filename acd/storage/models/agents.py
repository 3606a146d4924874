"""``agents`` (the roster), ``agent_state_log`` (append-only state intervals, the latest of
each agent also its session) and ``daemon_heartbeats``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String, text, true
from sqlalchemy.orm import Mapped, mapped_column

from acd.storage.models.base import Base, BigIntId, JsonType
from acd.storage.models.calls import ID


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    endpoint: Mapped[str] = mapped_column(String(128))
    # {"orders": 3, "complaints": 5}: skill name -> level 1..5
    skills: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class AgentStateLog(Base):
    """One interval in one state; ``ended_at`` is NULL while the interval is open.

    Rows are only ever appended and then closed once (see ``acd.storage.agent_states``).
    """

    __tablename__ = "agent_state_log"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    # Not a foreign key, like calls.agent_id: state changes must never be refused.
    agent_id: Mapped[str] = mapped_column(ID)
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # Idempotency key of the write command that opened the interval: its natural key, so a
    # change replayed from the spool is recognised (NULL on rows written before 0006_storage).
    change_key: Mapped[str | None] = mapped_column(String(128))
    # The agent's session while this interval is its latest (0009_sessions): what a restarted
    # daemon takes back (``acd.daemon.sessions``). NULL on rows written without a session.
    endpoint: Mapped[str | None] = mapped_column(String(128))  # the device the agent works on
    wrap_up_due: Mapped[datetime | None]
    call_id: Mapped[str | None] = mapped_column(ID)  # the call in conversation (or outside)
    queue: Mapped[str | None] = mapped_column(String(64))  # that call's queue

    __table_args__ = (
        Index("ix_agent_state_log_agent_id_started_at", "agent_id", "started_at"),
        Index("uq_agent_state_log_change_key", "change_key", unique=True),
        # At most one open interval per agent, enforced by the database on both back-ends.
        Index(
            "uq_agent_state_log_open",
            "agent_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )


class DaemonHeartbeat(Base):
    """When the active daemon was last known alive (written every few seconds): after a
    crash, the intervals it left open are closed at that time."""

    __tablename__ = "daemon_heartbeats"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime]
