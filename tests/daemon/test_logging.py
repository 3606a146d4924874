from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from acd import logging as hlog
from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.ivr_port import CallerProfile, Features, IvrOutcome
from acd.sim.plan import CallerBehaviour
from tests.daemon.harness import floor_harness, floor_settings


@pytest.fixture
def json_stream() -> io.StringIO:
    stream = io.StringIO()
    hlog.configure("json", "DEBUG", stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_call_context_is_bound_to_every_line(json_stream: io.StringIO) -> None:
    log = hlog.get_logger("test")
    with hlog.bind_call(call_id="c-7", uniqueid="1795327343.852", agent="1001", queue=None):
        log.info("offered")
    log.info("outside")
    first, second = _lines(json_stream)
    assert first["call_id"] == "c-7"
    assert first["uniqueid"] == "1795327343.852"
    assert first["agent"] == "1001"
    assert "queue" not in first
    assert "call_id" not in second


def test_secrets_are_redacted(json_stream: io.StringIO) -> None:
    hlog.get_logger("test").info("login", username="acd", secret="acdsecret", api_token="t0k")
    (line,) = _lines(json_stream)
    assert line["username"] == "acd"
    assert line["secret"] == hlog.REDACTED
    assert line["api_token"] == hlog.REDACTED
    assert "acdsecret" not in json_stream.getvalue()


def test_stdlib_loggers_share_the_json_format(json_stream: io.StringIO) -> None:
    # Third-party libraries (uvicorn, SQLAlchemy, aiomqtt) log through the standard library.
    logging.getLogger("uvicorn.error").warning("peer %s refused", "10.0.0.9")
    (line,) = _lines(json_stream)
    assert line["event"] == "peer 10.0.0.9 refused"
    assert line["level"] == "warning"
    assert line["logger"] == "uvicorn.error"


def test_module_loggers_follow_a_later_configure() -> None:
    # Module loggers are made at import time and cached on first use: they must still pick up
    # each configure() (``hotline run``/``demo`` configure after every import) and capture_logs.
    from acd.asterisk.aio.agi_server import log

    first, second = io.StringIO(), io.StringIO()
    hlog.configure("json", "INFO", stream=first)
    log.info("fastagi_listening", host="127.0.0.1", port=1)
    hlog.configure("json", "INFO", stream=second)
    log.info("fastagi_listening", host="127.0.0.1", port=2)
    with capture_logs() as captured:
        log.warning("fastagi_peer_rejected", peer="10.0.0.9", error="bad")
    log.debug("below_the_level")
    assert [line["port"] for line in _lines(first)] == [1]
    (line,) = _lines(second)
    assert line["logger"] == "acd.asterisk.aio.agi_server"
    assert captured == [
        {
            "event": "fastagi_peer_rejected",
            "peer": "10.0.0.9",
            "error": "bad",
            "log_level": "warning",
        }
    ]


class _LoggingIvr:
    """An IVR that logs a line of its own, with a credential in it, and then queues."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.log = hlog.get_logger("ivr.test")

    def language(self, session: AgiSession) -> str:
        return "zh"

    async def __call__(
        self, session: AgiSession, *, caller_number: str, vip: bool, language: str
    ) -> IvrOutcome:
        self.log.info("ivr_order_api_called", api_token="t0k-secret", order_secret="s3cret")
        return IvrOutcome("queue", queue=self.queue)


class _BrokenLookup:
    async def lookup(self, number: str) -> CallerProfile | None:
        raise RuntimeError("customer database down")


def _broken_callers(_sessions: async_sessionmaker[AsyncSession]) -> _BrokenLookup:
    return _BrokenLookup()


@pytest.mark.asyncio
async def test_lines_from_inside_the_call_flow_carry_the_bound_call(
    tmp_path: Path, json_stream: io.StringIO
) -> None:
    # The real daemon and simulator: the call flow binds call_id/uniqueid around each call, so
    # lines logged deep inside it (the caller lookup, the IVR) name the call without passing it.
    settings = floor_settings(1)
    ivr = _LoggingIvr(settings.default_queue)
    features = Features(ivr=lambda _sessions: ivr, callers=_broken_callers)
    async with floor_harness(tmp_path, settings=settings, features=features) as h:
        await h.place(CallerBehaviour(number="5550123", hangup_after=None))
        await h.wait_for(h.quiet, "the call to be over")
        await h.stop_daemon()
    ((call_id, uniqueid),) = h.rows("select id, uniqueid from calls")
    lines = _lines(json_stream)
    (lookup,) = [line for line in lines if line["event"] == "caller_lookup_failed"]
    assert lookup["call_id"] == call_id
    assert lookup["uniqueid"] == uniqueid
    assert lookup["logger"] == "acd.daemon.screen_pop"
    assert lookup["number"] == "5550123"
    assert "customer database down" in str(lookup["error"])
    (ivr_line,) = [line for line in lines if line["event"] == "ivr_order_api_called"]
    assert ivr_line["call_id"] == call_id
    assert ivr_line["api_token"] == hlog.REDACTED
    assert ivr_line["order_secret"] == hlog.REDACTED
    assert "t0k-secret" not in json_stream.getvalue()
    assert "s3cret" not in json_stream.getvalue()
    (stopping,) = [line for line in lines if line["event"] == "daemon_stopping"]
    assert "call_id" not in stopping  # the binding ends with the call
