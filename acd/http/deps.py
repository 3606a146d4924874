"""The HTTP API's public dependencies: who is asking (token and role) and the daemon's context.

Feature packages (``recordings``) mount their own routers on the daemon's API and import only
this module from ``acd.http``: ``Principal``, the role checks (``require``, ``recording_role``,
``viewer``, ``authenticate``) and the request's ``ApiContext`` (``Ctx``, from ``context``).

The wallboard stream also accepts ``?token=`` in the URL (EventSource cannot send headers; a
wall TV is given a URL), any role may watch.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from acd.http.auth import RECORDING_ROLES, Principal, TokenTable
from acd.http.context import ApiContext

__all__ = [
    "Agent",
    "ApiContext",
    "Ctx",
    "Principal",
    "Supervisor",
    "authenticate",
    "context",
    "recording_role",
    "require",
    "viewer",
]


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


def context(request: Request) -> ApiContext:
    """The daemon's parts the routes reach into (set by ``create_app``)."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(context)]
Agent = Annotated[Principal, Depends(require("agent"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
