"""People and service accounts that sign in to the HTTP API, and the dual-channel leg files of
a recording.

A user's key is ``hlk_<key_id>_<secret>``: ``key_id`` is public (it finds the row), the secret
is stored only as its SHA-256 (random 256-bit secrets need no slow hash). Rotating replaces
both, so sessions signed for the old key end; revoking keeps the row (the audit log names it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import BigInteger, Boolean, Enum, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from acd.storage.models.base import Base, BigIntId
from acd.storage.models.calls import ID

USER_ROLES: Final = ("viewer", "agent", "supervisor", "qa", "admin")
USER_KINDS: Final = ("person", "service")
LEGS: Final = ("in", "out")


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sign-in name, e.g. "li.na"
    name: Mapped[str] = mapped_column(String(128))  # shown in tables
    kind: Mapped[str] = mapped_column(Enum(*USER_KINDS, name="user_kind", native_enum=False))
    role: Mapped[str] = mapped_column(Enum(*USER_ROLES, name="user_role", native_enum=False))
    agent_id: Mapped[str | None] = mapped_column(ID)  # the agent an agent user acts as
    supervisor_id: Mapped[str | None] = mapped_column(ID)  # agents.yaml supervisors[].id
    key_id: Mapped[str] = mapped_column(String(32))
    key_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_users_key_id", "key_id", unique=True),)


class RecordingLeg(Base):
    """One leg file of a dual-channel recording (``in``: the caller's own voice, ``out``: what
    the caller hears), catalogued and encrypted like the mixed file."""

    __tablename__ = "recording_legs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(ID, ForeignKey("recordings.id", ondelete="CASCADE"))
    leg: Mapped[str] = mapped_column(Enum(*LEGS, name="recording_leg", native_enum=False))
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_recording_legs_recording_id", "recording_id", "leg", unique=True),)
