"""Bearer tokens and roles.

Tokens come from ``settings.http.tokens`` (name, role, value from the environment variable named
by ``token_env``); a token whose variable is unset is disabled. Roles rank
agent < supervisor < qa = admin for floor control; recordings are for supervisor, qa and admin.

Agent tokens and "self": tokens belong to roles, not people. An agent token named
``agent-<id>`` (e.g. ``agent-1001``) may act only on agent ``<id>``; any other agent token is the
shared agent-desktop token, trusted to act for the agent signed in at that desktop. Supervisors,
qa and admin may act on any agent and may force state changes.

The FastAPI dependencies that check a request's token and role are in ``acd.http.deps``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

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
