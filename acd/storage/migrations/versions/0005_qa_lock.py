"""A week's QA sample is fixed once drawn: qa_samples.drawing (1, then one more per audited
redraw) with a unique (week, drawing).

Revision ID: 0005_qa_lock
Revises: 0004_users (the brief gave 0002_qa; main meanwhile has 0004_users on it, so the chain
is 0002_qa -> 0004_users -> 0005_qa_lock: one head)
Create Date: 2026-12-04 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_qa_lock"
down_revision: str | Sequence[str] | None = "0004_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("qa_samples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("drawing", sa.Integer(), nullable=True))
    # Rows drawn before the lock: number each week's drawings in the order they were stored.
    op.execute(
        "UPDATE qa_samples SET drawing = (SELECT COUNT(*) FROM qa_samples AS earlier"
        " WHERE earlier.week = qa_samples.week AND earlier.id <= qa_samples.id)"
    )
    with op.batch_alter_table("qa_samples", schema=None) as batch_op:
        batch_op.alter_column("drawing", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_qa_samples_week_drawing"), ["week", "drawing"]
        )


def downgrade() -> None:
    with op.batch_alter_table("qa_samples", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_qa_samples_week_drawing"), type_="unique")
        batch_op.drop_column("drawing")
