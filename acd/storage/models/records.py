"""Recordings, customers, orders (IVR self-service), call-backs and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from acd.storage.models.base import Base, BigIntId
from acd.storage.models.calls import ID

CALLBACK_STATES: Final = ("pending", "dialing", "done", "failed", "cancelled")


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    call_id: Mapped[str | None] = mapped_column(ID, ForeignKey("calls.id", ondelete="SET NULL"))
    agent_id: Mapped[str | None] = mapped_column(ID)
    queue: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime]
    duration_s: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Retention purges skip rows under legal hold.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    purged_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_recordings_call_id", "call_id"),
        Index("ix_recordings_started_at", "started_at"),
    )


class Customer(Base):
    __tablename__ = "customers"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(128))
    vip: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notes: Mapped[str | None] = mapped_column(Text)
    last_agent_id: Mapped[str | None] = mapped_column(ID)
    last_call_at: Mapped[datetime | None]


class Order(Base):
    __tablename__ = "orders"

    order_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Not a foreign key: orders come from the shop and may name callers we never saw.
    customer_number: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32))
    courier: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Callback(Base):
    __tablename__ = "callbacks"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    call_id: Mapped[str | None] = mapped_column(ID, ForeignKey("calls.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    # Place the caller held in the queue when asking for the call-back (kept on redial).
    position: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(
        Enum(
            *CALLBACK_STATES,
            name="callback_state",
            native_enum=False,
            create_constraint=True,
            length=16,
        ),
        default="pending",
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_callbacks_state_due_at", "state", "due_at"),)


class AuditLog(Base):
    """Who did what to whom and why: listen-in, recording access, purges, config changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    who: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]

    __table_args__ = (Index("ix_audit_log_at", "at"),)


class AppliedWrite(Base):
    """Idempotency keys of write commands already applied (see ``acd.storage.apply``).

    Inserted in the same transaction as the write itself, so a command replayed from the spool
    after an ambiguous failure (commit sent, connection lost before the answer) is skipped.
    Old keys may be pruned once no spool can still hold them (``apply.prune_applied_writes``).
    """

    __tablename__ = "applied_writes"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    applied_at: Mapped[datetime]

    __table_args__ = (Index("ix_applied_writes_applied_at", "applied_at"),)


class ImportPosition(Base):
    """How far a log file of Asterisk has been imported (``acd.reports.fallback_import``).

    Written in the same transaction as the rows imported from it, so a restart neither skips
    nor repeats a line; the inode tells a rotated file (read from its start) from the same one.
    """

    __tablename__ = "import_positions"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)  # queue_log | cdr_csv
    path: Mapped[str] = mapped_column(Text)
    inode: Mapped[int | None] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]
