"""The thin HTTP client behind ``hotline agent``, ``hotline assign`` and ``hotline spy``.

The daemon's address defaults to ``settings.http`` (host, port) of ``--config``; the token comes
from ``--token`` or the environment variable ``HOTLINE_TOKEN``. Exit codes: 0 done, 1 refused by
the daemon (its reason is printed), 2 bad usage, 3 the daemon could not be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings

TOKEN_ENV = "HOTLINE_TOKEN"
TIMEOUT_S = 10.0


def add_api_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", help="daemon URL (default: http.host/port of --config)")
    parser.add_argument("--token", help=f"API token (default: ${TOKEN_ENV})")
    parser.add_argument("--config", type=Path, default=Path("config"), help="config directory")


def api_url(args: argparse.Namespace) -> str | None:
    if args.api:
        return str(args.api).rstrip("/")
    try:
        http = load_settings(args.config, require_secrets=False).http
    except ConfigError as exc:
        print(f"hotline: cannot read {args.config} to find the daemon: {exc}", file=sys.stderr)
        return None
    return f"http://{http.host}:{http.port}"


def detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    found = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(found, dict):
        return str(found.get("message") or found)
    if isinstance(found, list):  # FastAPI validation errors
        return "; ".join(str(e.get("msg", e)) for e in found if isinstance(e, dict))
    return str(found)


def call_api(
    args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """One request; returns (exit code, JSON body or None) and prints refusals to stderr."""
    url = api_url(args)
    token = args.token or os.environ.get(TOKEN_ENV)
    if url is None:
        return ExitCode.USAGE, None
    if not token:
        print(f"hotline: no API token: use --token or set ${TOKEN_ENV}", file=sys.stderr)
        return ExitCode.USAGE, None
    try:
        response = httpx.request(
            method,
            url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        print(f"hotline: the daemon at {url} is unreachable: {exc}", file=sys.stderr)
        return ExitCode.UNAVAILABLE, None
    if response.is_success:
        return ExitCode.OK, response.json()
    print(f"hotline: refused ({response.status_code}): {detail(response)}", file=sys.stderr)
    return ExitCode.PROBLEMS, None
