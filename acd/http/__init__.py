"""The daemon's HTTP API (FastAPI): floor control, supervisors, recordings, reports, metrics and
the live wallboard. ``create_app(ctx)`` builds it; ``HttpServer`` runs it inside the daemon."""

from __future__ import annotations

from acd.http.app import HttpServer, create_app
from acd.http.context import ApiContext, LoopLag, WallboardSettings

__all__ = ["ApiContext", "HttpServer", "LoopLag", "WallboardSettings", "create_app"]
