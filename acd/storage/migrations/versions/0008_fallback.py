"""Calls the fallback Queue() handled: calls.handled_by, and how far Asterisk's queue_log and
Master.csv have been imported (import_positions).

Revision ID: 0008_fallback
Revises: 0006_storage
Create Date: 2026-12-05 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_fallback"
down_revision: str | Sequence[str] | None = "0006_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NOT NULL with a server default: every existing row was the daemon's. SQLite rebuilds the
    # table for the CHECK constraint (batch mode), PostgreSQL adds the column in place.
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "handled_by",
                sa.Enum(
                    "daemon",
                    "fallback",
                    name="handled_by",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                server_default="daemon",
                nullable=False,
            )
        )
    op.create_table(
        "import_positions",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=True),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_import_positions")),
    )


def downgrade() -> None:
    op.drop_table("import_positions")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        # SQLite's table rebuild would otherwise copy the CHECK naming the dropped column
        batch_op.drop_constraint(op.f("ck_calls_handled_by"), type_="check")
        batch_op.drop_column("handled_by")
