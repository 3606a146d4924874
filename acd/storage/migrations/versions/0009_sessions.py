"""Agent sessions that outlive the daemon (agent_sessions) and the daemon's heartbeat
(daemon_heartbeats), for the restore at start and closing what a crash left open.

Revision ID: 0009_sessions
Revises: 0008_fallback
Create Date: 2026-12-05 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_sessions"
down_revision: str | Sequence[str] | None = "0008_fallback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("endpoint", sa.String(length=128), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrap_up_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_sessions")),
    )
    op.create_table(
        "daemon_heartbeats",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_daemon_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("daemon_heartbeats")
    op.drop_table("agent_sessions")
