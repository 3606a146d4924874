"""HTTP hardening: request size, errors that echo nothing, bounded parameters, back-off after
failed sign-ins, security headers and no CORS, personal keys and browser sessions, TLS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from acd.identity.users import revoke_user, rotate_key
from acd.settings.schema_system import HttpTls
from tests.http.api_harness import (
    ADMIN,
    AGENT,
    SUPERVISOR,
    VIEWER,
    load_test_settings,
    person,
    running_api,
)
from tests.tls_certs import make_pki

HUGE = "9" * 20_000


def _raw_request(port: int, head: bytes, body: bytes = b"", *, limit_s: float = 5.0) -> bytes:
    """Send ``head`` (and ``body``), return what the server answered within ``limit_s``."""
    with socket.create_connection(("127.0.0.1", port), timeout=limit_s) as conn:
        conn.sendall(head + body)
        reply = b""
        try:
            while chunk := conn.recv(65536):
                reply += chunk
                if b"\r\n\r\n" in reply and b'"detail"' in reply:
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return reply


@pytest.mark.asyncio
async def test_oversized_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    async with running_api(tmp_path, serve=True) as api:
        port = int(str(api.client.base_url).rsplit(":", 1)[1])
        head = (
            b"POST /agents/1001/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200000000\r\n\r\n"
        )
        started = time.monotonic()
        reply = await asyncio.to_thread(_raw_request, port, head)  # no body is ever sent
        assert reply.startswith(b"HTTP/1.1 413 ")
        assert time.monotonic() - started < 3.0
        # a body streamed without a length is cut off at the limit
        chunk = b"x" * 65536
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20))
        head = (
            b"POST /agents/1001/pause HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        reply = await asyncio.to_thread(_raw_request, port, head, chunked)
        assert reply.startswith(b"HTTP/1.1 413 ")
        # and an ordinary request still works
        r = await api.client.post("/agents/1001/login", headers=AGENT)
        assert r.status_code == 200


@pytest.mark.asyncio
async def test_errors_never_echo_the_request(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        checks = [
            await c.post(f"/agents/{HUGE}/login", headers=AGENT),  # bounded path parameter
            await c.get(f"/{HUGE}"),  # no such route
            await c.post("/calls/c-1/transfer", headers=AGENT, json={"queue": HUGE}),
            await c.post("/spy", headers=SUPERVISOR, json={"agent": HUGE}),
            await c.post("/calls/x/disposition", headers=AGENT, content=b"{" + HUGE.encode()),
            await c.get(f"/recordings?number={HUGE}", headers=SUPERVISOR),
            await c.get(f"/callbacks?queue={HUGE}", headers=SUPERVISOR),
            await c.get(f"/reports?by={HUGE}", headers=SUPERVISOR),
            await c.get(f"/recordings/{HUGE}/audio?reason=x", headers=SUPERVISOR),
        ]
        assert [r.status_code for r in checks] == [422, 404, 422, 422, 422, 422, 422, 422, 422]
        for r in checks:
            assert "99999999" not in r.text
            assert len(r.content) < 2000
        r = await c.post("/agents/9999/login", headers=SUPERVISOR)
        assert r.json() == {"detail": "unknown agent"}
        r = await c.get("/recordings?number=" + "9" * 64, headers=SUPERVISOR)
        assert r.status_code == 200  # bounded, not broken: a long-ish search is fine


@pytest.mark.asyncio
async def test_repeated_failed_sign_ins_are_made_to_wait(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        key = await person(api, "li.na", "agent", agent_id="1001")
        nope = {"Authorization": "Bearer nope"}
        app = c._transport.app  # type: ignore[attr-defined]
        app.state.clock = lambda: 1_000_000.0  # the wait must not run out on a slow machine
        for _ in range(11):  # ten are free; the eleventh starts the wait
            assert (await c.get("/agents", headers=nope)).status_code == 401
        r = await c.get("/agents", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        # while waiting, even a good key is not looked at: no oracle for guessing
        assert (await c.get("/agents", headers=key)).status_code == 429
        app.state.clock = lambda: 1_000_001.5  # the wait is over
        assert (await c.get("/agents", headers=key)).status_code == 200
        assert (await c.get("/agents", headers=nope)).status_code == 401


@pytest.mark.asyncio
async def test_pages_carry_security_headers_and_no_cors(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        page = await c.get("/wallboard")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "<script>" not in page.text  # no inline script: all of it from /static
        assert "<style>" not in page.text
        assert (await c.get("/static/wallboard.js")).status_code == 200
        assert (await c.get("/static/../app.py")).status_code == 404
        api_reply = await c.get("/agents", headers=AGENT)
        assert api_reply.headers["cache-control"] == "no-store"
        preflight = await c.options(
            "/agents",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        cross = await c.get("/agents", headers={**AGENT, "Origin": "https://evil.example"})
        for r in (preflight, cross):
            assert not any(h.startswith("access-control-") for h in r.headers)
        assert (await c.get("/docs")).status_code == 404  # the CDN-loading page is off


@pytest.mark.asyncio
async def test_no_credential_in_urls_and_identical_tokens_never_resolve(tmp_path: Path) -> None:
    settings = load_test_settings()
    tokens = tuple(
        t.model_copy(update={"token": settings.system.http.tokens[0].token})
        if t.role == "admin"
        else t
        for t in settings.system.http.tokens
    )  # fmt: skip  -- admin's token is the viewer's
    http = settings.system.http.model_copy(update={"tokens": tokens})
    settings = settings.model_copy(
        update={"system": settings.system.model_copy(update={"http": http})}
    )
    async with running_api(tmp_path, settings) as api:
        c = api.client
        assert (await c.get("/wallboard.json?token=tok-viewer")).status_code == 401
        assert (await c.get("/wallboard.json", headers=VIEWER)).status_code == 401  # ambiguous
        assert (await c.get("/callbacks", headers=VIEWER)).status_code == 401
        assert (await c.get("/wallboard.json", headers=SUPERVISOR)).status_code == 200


@pytest.mark.asyncio
async def test_browser_session_from_a_personal_key(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        key = await person(api, "tv-1", "viewer", kind="service")
        r = await c.post("/session", json={"key": "hlk_0123456789ab_wrong"})
        assert r.status_code == 401
        r = await c.post("/session", json={"key": key["Authorization"].split()[1]})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Path=/" in cookie
        assert key["Authorization"].split()[1] not in cookie  # the key itself is not the cookie
        assert (await c.get("/session")).json()["name"] == "tv-1"
        assert (await c.get("/wallboard.json")).status_code == 200  # the cookie alone
        assert (await c.get("/agents")).status_code == 403  # a viewer sees the wallboard only
        assert (await c.post("/session/renew")).status_code == 200
        assert api.ctx.sessions is not None
        async with api.ctx.sessions() as session, session.begin():
            await revoke_user(session, "tv-1", by="test", now=datetime.now(UTC))
        directory = c._transport.app.state.directory  # type: ignore[attr-defined]
        directory._by_id.clear()  # the cache would keep it a few seconds
        assert (await c.get("/wallboard.json")).status_code == 401
        assert (await c.get("/wallboard.json", headers=key)).status_code == 401


@pytest.mark.asyncio
async def test_state_changes_need_the_key_not_the_cookie(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        key = await person(api, "li.na", "agent", agent_id="1001")
        assert (await c.post("/session", json={"key": key["Authorization"].split()[1]})).is_success
        assert (await c.get("/agents")).status_code == 200  # reading with the cookie
        assert (await c.post("/agents/1001/login")).status_code == 401  # a forged form could not
        assert (await c.post("/agents/1001/login", headers=key)).status_code == 200


@pytest.mark.asyncio
async def test_rotating_a_key_ends_the_old_one_and_its_sessions(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        c = api.client
        old = await person(api, "zhao", "supervisor", supervisor_id="zhao")
        assert (await c.post("/session", json={"key": old["Authorization"].split()[1]})).is_success
        assert api.ctx.sessions is not None
        async with api.ctx.sessions() as session, session.begin():
            _, issued = await rotate_key(session, "zhao", by="test", now=datetime.now(UTC))
        c._transport.app.state.directory._by_id.clear()  # type: ignore[attr-defined]
        assert (await c.get("/callbacks", headers=old)).status_code == 401
        assert (await c.get("/callbacks")).status_code == 401  # the old key's session
        new = {"Authorization": f"Bearer {issued.key}"}
        assert (await c.get("/callbacks", headers=new)).status_code == 200


@pytest.mark.asyncio
async def test_https_with_secure_cookies(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    settings = load_test_settings()
    tls = HttpTls(cert_file=str(pki.server_cert), key_file=str(pki.server_key))
    http = settings.system.http.model_copy(update={"tls": tls})
    settings = settings.model_copy(
        update={"system": settings.system.model_copy(update={"http": http})}
    )
    async with running_api(
        tmp_path, settings, serve=True, verify=ssl.create_default_context(cafile=str(pki.ca))
    ) as api:
        assert str(api.client.base_url).startswith("https://127.0.0.1:")
        r = await api.client.post("/session", json={"key": "tok-admin"})
        assert r.status_code == 200
        assert "Secure" in r.headers["set-cookie"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert (await api.client.get("/agents", headers=ADMIN)).status_code == 200
        port = int(str(api.client.base_url).rsplit(":", 1)[1])
        plain = await asyncio.to_thread(
            _raw_request, port, b"GET /agents HTTP/1.1\r\nHost: x\r\n\r\n", limit_s=2.0
        )
        assert not plain.startswith(b"HTTP/1.1 200")  # no clear-text answer on the TLS port
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(verify=ssl.create_default_context()) as stranger:
                await stranger.get(f"{api.client.base_url}/agents")  # unknown CA
