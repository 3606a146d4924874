"""Turning a presented credential into a ``Principal``: service tokens from the environment,
personal keys from the ``users`` table, and signed session cookies.

Users are read from the database with a short cache (``cache_s``), so ``hotline users revoke``
and ``rotate`` take effect within seconds in a running daemon without a database query per
request. Service tokens are compared with every configured token in constant time; a value
configured twice matches nobody (it could otherwise resolve to the more powerful role).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from acd.identity import sessions as session_tokens
from acd.identity.keys import fingerprint, split_key
from acd.identity.principal import Principal
from acd.identity.users import UserView, user_by_id, user_by_key
from acd.logging import get_logger
from acd.settings.settings import Settings

log = get_logger(__name__)
CACHE_S = 5.0


@dataclass(frozen=True, slots=True)
class _Cached:
    user: UserView | None
    at: float


class TokenTable:
    """Service tokens from ``http.tokens`` (a token whose variable is unset is disabled)."""

    def __init__(self, settings: Settings) -> None:
        self._tokens: list[tuple[bytes, Principal]] = []
        for t in settings.http.tokens:
            value = t.token.get_secret_value() if t.token is not None else ""
            if not value:
                continue
            supervisor = settings.supervisor(t.supervisor) if t.supervisor else None
            who = Principal(
                t.name,
                t.role,
                "service",
                agent_id=t.agent,
                phones=supervisor.phones if supervisor else (),
                stamp=fingerprint(value),
            )
            self._tokens.append((value.encode(), who))

    def principal(self, presented: str) -> Principal | None:
        given = presented.encode()
        found: list[Principal] = []
        for secret, who in self._tokens:  # compare with every token: no timing hint
            if hmac.compare_digest(secret, given):
                found.append(who)
        if len(found) > 1:
            log.error("api_token_ambiguous", names=[w.name for w in found])
            return None
        return found[0] if found else None

    def by_name(self, name: str) -> Principal | None:
        return next((who for _, who in self._tokens if who.name == name), None)


class Directory:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession] | None,
        *,
        session_key: bytes | None = None,
        clock: Callable[[], float] = time.time,
        cache_s: float = CACHE_S,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._tokens = TokenTable(settings)
        key = settings.http.session_key
        self._session_key = session_key or (
            key.get_secret_value().encode() if key is not None else secrets.token_bytes(32)
        )
        self._clock = clock
        self._cache_s = cache_s
        self._by_id: dict[str, _Cached] = {}
        self.session_ttl_s = settings.http.session_ttl_s

    # -- credentials ---------------------------------------------------------------------------

    async def by_bearer(self, presented: str) -> Principal | None:
        if split_key(presented) is None:
            return self._tokens.principal(presented)
        if self._sessions is None:
            return None
        async with self._sessions() as session:
            user = await user_by_key(session, presented)
        if user is None:
            return None
        self._by_id[user.id] = _Cached(user, self._clock())
        return self._person(user)

    async def by_session(self, token: str) -> Principal | None:
        claims = session_tokens.verify(self._session_key, token, self._clock())
        if claims is None:
            return None
        if claims.kind == "service":
            who = self._tokens.by_name(claims.subject)
        else:
            user = await self._user(claims.subject)
            who = self._person(user) if user is not None and user.active else None
        if who is None or not hmac.compare_digest(who.stamp.encode(), claims.stamp.encode()):
            return None  # revoked, rotated or reconfigured since the sign-in
        return who

    def csrf_token(self, who: Principal) -> str:
        """What a page signed in as ``who`` sends with state changes (``sessions.CSRF_HEADER``)."""
        return session_tokens.csrf_token(self._session_key, who.name, who.kind, who.stamp)

    def csrf_matches(self, who: Principal, presented: str) -> bool:
        return hmac.compare_digest(self.csrf_token(who).encode(), presented.encode())

    def new_session(self, who: Principal) -> tuple[str, float]:
        """A session token for ``who`` and when it expires."""
        expires = self._clock() + self.session_ttl_s
        claims = session_tokens.SessionClaims(who.name, who.kind, who.stamp, expires)
        return session_tokens.issue(self._session_key, claims), expires

    # -- users ---------------------------------------------------------------------------------

    async def _user(self, user_id: str) -> UserView | None:
        now = self._clock()
        cached = self._by_id.get(user_id)
        if cached is not None and now - cached.at < self._cache_s:
            return cached.user
        if self._sessions is None:
            return None
        async with self._sessions() as session:
            user = await user_by_id(session, user_id)
        self._by_id[user_id] = _Cached(user, now)
        return user

    def _person(self, user: UserView) -> Principal:
        supervisor = self._settings.supervisor(user.supervisor_id) if user.supervisor_id else None
        return Principal(
            user.id,
            user.role,
            "person",
            agent_id=user.agent_id,
            phones=supervisor.phones if supervisor else (),
            stamp=user.key_id,
        )
