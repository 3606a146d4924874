"""The HTTP API's public dependencies: who is asking (credential and role) and the daemon's
context.

Feature packages (``recordings``) mount their own routers on the daemon's API and import only
this module from ``acd.http``: ``Principal``, the role checks (``require``, ``recording_role``,
``viewer``, ``authenticate``; see ``acd.http.auth``), the request's ``ApiContext`` (``Ctx``) and
the bounded path parameters.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from acd.http.auth import Principal, authenticate, recording_role, require, viewer
from acd.http.context import ApiContext

__all__ = [
    "Agent",
    "AgentId",
    "ApiContext",
    "CallId",
    "Ctx",
    "Principal",
    "Supervisor",
    "Viewer",
    "authenticate",
    "context",
    "recording_role",
    "require",
    "viewer",
]


def context(request: Request) -> ApiContext:
    """The daemon's parts the routes reach into (set by ``create_app``)."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(context)]
Viewer = Annotated[Principal, Depends(require("viewer"))]
Agent = Annotated[Principal, Depends(require("agent"))]
Supervisor = Annotated[Principal, Depends(require("supervisor"))]
# Path parameters are identifiers: bounded, so errors never carry a large input back.
AgentId = Annotated[str, Path(min_length=1, max_length=64)]
CallId = Annotated[str, Path(min_length=1, max_length=64)]
