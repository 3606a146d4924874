"""Browser sign-in and the static files of the pages.

``POST /session {"key": ...}`` (or with the key as a bearer credential) checks a personal key or
a service token and answers with a session cookie: ``HttpOnly`` (page scripts cannot read it),
``SameSite=Strict`` (other sites' pages cannot make the browser send it), ``Secure`` under TLS,
``Path=/``, expiring after ``http.session_ttl_s``. ``GET /session`` says who is signed in,
``POST /session/renew`` extends it while the key is still valid, ``POST /session/signout`` ends
it. The pages (``/signin``, ``/wallboard``, ``/desk``) are static and hold no data.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from acd.http.auth import Principal, authenticate
from acd.identity.directory import Directory
from acd.identity.sessions import COOKIE

router = APIRouter(tags=["session"])
STATIC = {
    "hotline.css": "text/css; charset=utf-8",
    "wallboard.js": "text/javascript; charset=utf-8",
    "signin.js": "text/javascript; charset=utf-8",
    "desk.js": "text/javascript; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
}


class SignIn(BaseModel):
    key: str = Field(min_length=1, max_length=256)


def static_text(name: str) -> str:
    return files("acd.http.static").joinpath(name).read_text("utf-8")


def _set_cookie(request: Request, response: Response, who: Principal) -> dict[str, Any]:
    directory: Directory = request.app.state.directory
    token, expires = directory.new_session(who)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(directory.session_ttl_s),
        path="/",
        secure=request.app.state.tls,
        httponly=True,
        samesite="strict",
    )
    return {
        "name": who.name,
        "role": who.role,
        "agent": who.agent_id,
        "expires_at": expires,
        "ttl_s": directory.session_ttl_s,
        "csrf": directory.csrf_token(who),
    }


async def _cookie_principal(request: Request) -> Principal:
    return await authenticate(request, cookie=True)


@router.post("/session")
async def sign_in(
    request: Request, response: Response, body: Annotated[SignIn | None, Body()] = None
) -> dict[str, Any]:
    presented = body.key if body is not None else None
    who = await authenticate(request, cookie=False, presented=presented)
    return _set_cookie(request, response, who)


@router.get("/session")
async def whoami(
    request: Request, who: Annotated[Principal, Depends(_cookie_principal)]
) -> dict[str, Any]:
    directory: Directory = request.app.state.directory
    return {
        "name": who.name,
        "role": who.role,
        "agent": who.agent_id,
        "ttl_s": directory.session_ttl_s,
        "csrf": directory.csrf_token(who),  # for the page's state changes (X-Hotline-CSRF)
    }


@router.post("/session/renew")
async def renew(
    request: Request, response: Response, who: Annotated[Principal, Depends(_cookie_principal)]
) -> dict[str, Any]:
    return _set_cookie(request, response, who)


@router.post("/session/signout")
async def sign_out(request: Request, response: Response) -> dict[str, bool]:
    response.delete_cookie(COOKIE, path="/", secure=request.app.state.tls, httponly=True,
                           samesite="strict")  # fmt: skip
    return {"signed_out": True}


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/wallboard")


@router.get("/signin", response_class=HTMLResponse, include_in_schema=False)
async def signin_page() -> HTMLResponse:
    return HTMLResponse(static_text("signin.html"))


@router.get("/wallboard", response_class=HTMLResponse, include_in_schema=False)
async def wallboard_page() -> HTMLResponse:
    return HTMLResponse(static_text("wallboard.html"))


@router.get("/static/{name}", include_in_schema=False)
async def static_file(name: str) -> Response:
    media = STATIC.get(name)
    if media is None:
        raise HTTPException(404, "not found")
    return Response(static_text(name), media_type=media, headers={"Cache-Control": "no-cache"})
