from __future__ import annotations

import io
import json
import logging

import pytest

from acd import logging as hlog


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
    logging.getLogger("acd.asterisk.aio.agi_server").warning("peer %s refused", "10.0.0.9")
    (line,) = _lines(json_stream)
    assert line["event"] == "peer 10.0.0.9 refused"
    assert line["level"] == "warning"
    assert line["logger"] == "acd.asterisk.aio.agi_server"
