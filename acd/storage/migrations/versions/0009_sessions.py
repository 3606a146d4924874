"""Agent sessions that outlive the daemon: the session columns of agent_state_log (each
agent's latest interval is its session) and the daemon's heartbeat (daemon_heartbeats), for
the restore at start and closing what a crash left open.

Amended in place before any release (issue 13: one row write per agent change): it first
created a separate agent_sessions table, written next to every interval.

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
    # Nullable columns: SQLite adds them with a plain ALTER TABLE (no table rebuild); older
    # intervals have no session (their agents start logged out once, as before 0009).
    with op.batch_alter_table("agent_state_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("endpoint", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("wrap_up_due", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("call_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("queue", sa.String(length=64), nullable=True))
    op.create_table(
        "daemon_heartbeats",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_daemon_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("daemon_heartbeats")
    with op.batch_alter_table("agent_state_log", schema=None) as batch_op:
        batch_op.drop_column("queue")
        batch_op.drop_column("call_id")
        batch_op.drop_column("wrap_up_due")
        batch_op.drop_column("endpoint")
