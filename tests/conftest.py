"""Shared fixtures: real services on this machine (Mosquitto, PostgreSQL) and free ports."""

from __future__ import annotations

import os
import socket

from hypothesis import HealthCheck, settings

# Property tests judge what is parsed, never how fast: these machines are shared and noisy, so
# no deadline. In CI the examples are derandomized (the same run every time).
settings.register_profile(
    "hotline",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("hotline")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
