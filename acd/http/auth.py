"""Authentication and roles for every route.

A request proves who it is with ``Authorization: Bearer <credential>`` — a person's key
(``hotline users add``) or a service account's token from the environment — or, from a signed-in
browser, the session cookie (``acd.http.routes_session``). The cookie alone counts only for
GET/HEAD and the session endpoints themselves. A state change on the cookie (the agent desktop's
buttons) must also carry the session's anti-forgery value in the ``X-Hotline-CSRF`` header: the
page reads it from ``GET /session``, which another site's page can neither read (no CORS) nor
send with a custom header (that needs a CORS preflight we never grant), and the cookie is
``SameSite=Strict`` besides. No credential is ever accepted in a URL.

Failed attempts are counted per client address; past ``http.auth_failures_allowed`` the address
waits, answered 429 with ``Retry-After`` before any credential is checked. Roles and what they
allow: ``acd.identity.principal`` and docs/security.md.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request

from acd.identity.directory import Directory
from acd.identity.principal import RANK, RECORDING_ROLES, Principal
from acd.identity.sessions import COOKIE, CSRF_HEADER
from acd.identity.throttle import AuthThrottle

__all__ = ["RANK", "RECORDING_ROLES", "Principal", "authenticate", "require"]
SAFE_METHODS = frozenset({"GET", "HEAD"})


def client_address(request: Request) -> str:
    # The peer address as seen by us: no proxy header is trusted (any client could set one).
    return request.client.host if request.client is not None else "?"


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def authenticate(
    request: Request, *, cookie: bool | None = None, presented: str | None = None
) -> Principal:
    """The principal behind the request, or 401 / 429. ``cookie``: accept the session cookie
    (default: for GET and HEAD only); ``presented``: a credential given in the body (sign-in)."""
    directory: Directory = request.app.state.directory
    throttle: AuthThrottle = request.app.state.throttle
    clock: Callable[[], float] = request.app.state.clock
    client = client_address(request)
    wait = throttle.retry_after(client, clock())
    if wait is not None:
        raise HTTPException(
            429, "too many failed sign-ins: try again later", {"Retry-After": str(wait)}
        )
    csrf = request.headers.get(CSRF_HEADER)
    safe = request.method in SAFE_METHODS
    use_cookie = (safe or csrf is not None) if cookie is None else cookie
    presented = presented or _bearer(request)
    session = request.cookies.get(COOKIE) if use_cookie else None
    if presented is None and not session:
        raise HTTPException(401, "sign-in needed", {"WWW-Authenticate": "Bearer"})
    if presented is not None:
        who = await directory.by_bearer(presented)
    else:
        assert session is not None
        who = await directory.by_session(session)
    if who is not None and presented is None and cookie is None and not safe:
        assert csrf is not None
        if not directory.csrf_matches(who, csrf):
            who = None  # a forged request riding on the cookie: as good as no credential
    if who is None:
        throttle.failed(client, clock())
        raise HTTPException(401, "unknown or expired credential", {"WWW-Authenticate": "Bearer"})
    throttle.succeeded(client)
    request.state.principal = who
    return who


def require(role: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """FastAPI dependency: a valid credential whose role ranks at least ``role``."""

    async def check(request: Request) -> Principal:
        who = await authenticate(request)
        if not who.at_least(role):
            raise HTTPException(403, f"role {who.role} may not do this (needs {role})")
        return who

    return check


async def recording_role(request: Request) -> Principal:
    who = await authenticate(request)
    if who.role not in RECORDING_ROLES:
        raise HTTPException(403, f"role {who.role} may not search or hear recordings")
    return who


async def viewer(request: Request) -> Principal:
    """Any role may watch the wallboard (a wall screen signs in as a viewer)."""
    return await require("viewer")(request)
