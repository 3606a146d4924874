"""The agents' conversations on the calls row (issue 13: at most 4 writes per answered call):
calls.agent_legs (JSON: agent, queue, answer, leg end, wrap-up deadline of each answered leg)
and calls.wrap_up_due (the last leg's wrap-up deadline). The on-call and wrap-up time of a call
is derived from them (acd.reports.agent_time); agent_state_log keeps the agents' own changes.
Rows written before have NULL: their on-call and wrap-up intervals are in agent_state_log.

Revision ID: 0010_agent_legs
Revises: 0009_sessions
Create Date: 2026-12-05 04:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_agent_legs"
down_revision: str | Sequence[str] | None = "0009_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: SQLite adds them with a plain ALTER TABLE (no table rebuild).
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "agent_legs",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("wrap_up_due", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("wrap_up_due")
        batch_op.drop_column("agent_legs")
