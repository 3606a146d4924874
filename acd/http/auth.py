"""Bearer tokens and roles.

Tokens come from ``settings.http.tokens`` (name, role, value from the environment variable named
by ``token_env``); a token whose variable is unset is disabled. Roles rank
agent < supervisor < qa = admin for floor control; recordings are for supervisor, qa and admin.

Agent tokens and "self": tokens belong to roles, not people. An agent token named
``agent-<id>`` (e.g. ``agent-1001``) may act only on agent ``<id>``; any other agent token is the
shared agent-desktop token, trusted to act for the agent signed in at that desktop. Supervisors,
qa and admin may act on any agent and may force state changes.

The wallboard stream also accepts ``?token=`` in the URL (EventSource cannot send headers; a
wall TV is given a URL), any role may watch.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from acd.settings.schema_system import ApiToken

RANK = {"agent": 0, "supervisor": 1, "qa": 2, "admin": 2}
RECORDING_ROLES = frozenset({"supervisor", "qa", "admin"})


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    def may_act_on(self, agent_id: str) -> bool:
        if self.role != "agent":
            return True
        own = self.name.removeprefix("agent-") if self.name.startswith("agent-") else None
        return own is None or own == agent_id


class TokenTable:
    def __init__(self, tokens: tuple[ApiToken, ...]) -> None:
        self._tokens = [
            (t.token.get_secret_value().encode(), Principal(t.name, t.role))
            for t in tokens
            if t.token is not None and t.token.get_secret_value()
        ]

    def principal(self, presented: str) -> Principal | None:
        given = presented.encode()
        found = None
        for secret, who in self._tokens:  # compare with every token: no timing hint
            if hmac.compare_digest(secret, given):
                found = who
        return found


def _presented(request: Request, allow_query: bool) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_query:
        return request.query_params.get("token")
    return None


def authenticate(request: Request, *, allow_query: bool = False) -> Principal:
    table: TokenTable = request.app.state.tokens
    presented = _presented(request, allow_query)
    if presented is None:
        raise HTTPException(401, "a bearer token is needed", {"WWW-Authenticate": "Bearer"})
    who = table.principal(presented)
    if who is None:
        raise HTTPException(401, "unknown token", {"WWW-Authenticate": "Bearer"})
    return who


def require(role: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """FastAPI dependency: a valid token whose role ranks at least ``role``."""

    async def check(request: Request) -> Principal:
        who = authenticate(request)
        if not who.at_least(role):
            raise HTTPException(403, f"role {who.role} may not do this (needs {role})")
        return who

    return check


async def recording_role(request: Request) -> Principal:
    who = authenticate(request)
    if who.role not in RECORDING_ROLES:
        raise HTTPException(403, f"role {who.role} may not search or hear recordings")
    return who


async def viewer(request: Request) -> Principal:
    return authenticate(request, allow_query=True)
