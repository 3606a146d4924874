"""The ``users`` table: add, list, rotate, revoke, and find a user by key (one transaction each,
the caller's session; the caller commits). Every change is written to the audit log with who
made it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from acd.identity.keys import IssuedKey, issue_key, secret_matches, split_key
from acd.storage.models import AuditLog, User


class UserError(ValueError):
    """A refused change: unknown user, duplicate name, revoked already, bad link."""


@dataclass(frozen=True, slots=True)
class UserView:
    id: str
    name: str
    kind: str
    role: str
    agent_id: str | None
    supervisor_id: str | None
    key_id: str
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: User) -> UserView:
        return cls(
            row.id,
            row.name,
            row.kind,
            row.role,
            row.agent_id,
            row.supervisor_id,
            row.key_id,
            row.created_at,
            row.rotated_at,
            row.revoked_at,
        )

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_json(self) -> dict[str, Any]:
        """No key material beyond the public key id."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "role": self.role,
            "agent": self.agent_id,
            "supervisor": self.supervisor_id,
            "key_id": self.key_id,
            "created_at": self.created_at.isoformat(),
            "rotated_at": self.rotated_at.isoformat() if self.rotated_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _audit(session: AsyncSession, by: str, action: str, user: User, now: datetime) -> None:
    detail = f"role {user.role}" + (f", agent {user.agent_id}" if user.agent_id else "")
    session.add(
        AuditLog(
            who=by, role="admin", action=action, target=f"user:{user.id}", reason=detail, at=now
        )
    )


async def add_user(
    session: AsyncSession,
    *,
    user_id: str,
    name: str,
    role: str,
    kind: str = "person",
    agent_id: str | None = None,
    supervisor_id: str | None = None,
    by: str,
    now: datetime,
) -> tuple[UserView, IssuedKey]:
    if role == "agent" and agent_id is None:
        raise UserError("an agent user needs --agent: the agent id they act as")
    if role != "agent" and agent_id is not None:
        raise UserError("--agent is only for role agent")
    if await session.get(User, user_id) is not None:
        raise UserError(f"user {user_id} exists already (rotate or revoke it instead)")
    issued = issue_key()
    row = User(
        id=user_id,
        name=name,
        kind=kind,
        role=role,
        agent_id=agent_id,
        supervisor_id=supervisor_id,
        key_id=issued.key_id,
        key_sha256=issued.key_sha256,
        created_at=now,
    )
    session.add(row)
    _audit(session, by, "user.add", row, now)
    return UserView.of(row), issued


async def list_users(session: AsyncSession, *, include_revoked: bool = True) -> list[UserView]:
    stmt = select(User).order_by(User.id)
    if not include_revoked:
        stmt = stmt.where(User.revoked_at.is_(None))
    return [UserView.of(r) for r in (await session.scalars(stmt)).all()]


async def _active(session: AsyncSession, user_id: str) -> User:
    row = await session.get(User, user_id)
    if row is None:
        raise UserError(f"no user {user_id}")
    if row.revoked_at is not None:
        raise UserError(f"user {user_id} is revoked")
    return row


async def rotate_key(
    session: AsyncSession, user_id: str, *, by: str, now: datetime
) -> tuple[UserView, IssuedKey]:
    """A new key; the old one (and every session signed for it) stops working at once."""
    row = await _active(session, user_id)
    issued = issue_key()
    row.key_id, row.key_sha256, row.rotated_at = issued.key_id, issued.key_sha256, now
    _audit(session, by, "user.rotate", row, now)
    return UserView.of(row), issued


async def revoke_user(session: AsyncSession, user_id: str, *, by: str, now: datetime) -> UserView:
    row = await _active(session, user_id)
    row.revoked_at = now
    _audit(session, by, "user.revoke", row, now)
    return UserView.of(row)


async def user_by_key(session: AsyncSession, presented: str) -> UserView | None:
    """The active user whose key this is, else None (constant-time on the secret)."""
    parts = split_key(presented)
    if parts is None:
        return None
    key_id, secret = parts
    row = (await session.scalars(select(User).where(User.key_id == key_id))).first()
    if row is None or not secret_matches(secret, row.key_sha256) or row.revoked_at is not None:
        return None
    return UserView.of(row)


async def user_by_id(session: AsyncSession, user_id: str) -> UserView | None:
    row = await session.get(User, user_id)
    return None if row is None else UserView.of(row)
