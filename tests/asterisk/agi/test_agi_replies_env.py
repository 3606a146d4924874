"""Reply parsing/formatting and environment parsing, edge cases beyond the recording."""

from __future__ import annotations

import pytest

from acd.asterisk.agi.env import parse_environment, split_script
from acd.asterisk.agi.replies import (
    DEAD_CHANNEL_LINE,
    INVALID_COMMAND_LINE,
    AgiReply,
    format_result,
    format_usage,
    parse_reply,
    status_of,
)
from acd.asterisk.errors import RemoteProtocolError


def one(line: str) -> AgiReply:
    return parse_reply((line,))


def test_data_may_contain_parentheses_and_spaces() -> None:
    reply = one("200 result=1 (a (b) c) endpos=7")
    assert (reply.result, reply.data, reply.endpos) == ("1", "a (b) c", 7)
    assert one("200 result=1 ()").data == ""


def test_non_200_forms() -> None:
    assert one(INVALID_COMMAND_LINE).text == "Invalid or unknown command"
    dead = one(DEAD_CHANNEL_LINE)
    assert dead.dead_channel
    assert not dead.ok
    assert dead.digit is None
    no_usage = one("520 Invalid command syntax.  Proper usage not available.")
    assert no_usage.code == 520
    assert no_usage.result == ""
    memory = one("503 result=-2 Memory allocation failure")
    assert (memory.code, memory.result, memory.text) == (503, "-2", "Memory allocation failure")


def test_status_of_and_bad_lines() -> None:
    assert status_of("520-Invalid command syntax.  Proper usage follows:") == (520, True)
    assert status_of("200 result=0") == (200, False)
    for bad in ["HTTP/1.1 200 OK", "200", "2000 result=0", "", "abc"]:
        with pytest.raises(RemoteProtocolError):
            status_of(bad)


def test_format_round_trips() -> None:
    for args in [
        (200, "0", None, None),
        (200, "", "timeout", None),
        (200, "49", None, 10240),
        (200, "0", "timeout", 12000),
    ]:
        reply = one(format_result(*args))
        assert (reply.code, reply.result, reply.data, reply.endpos) == args
    text = format_usage("Usage line one\nline two")
    lines = tuple(text.splitlines())
    reply = parse_reply(lines)
    assert reply.code == 520
    assert reply.text == "Usage line one\nline two"


def test_environment_without_network_script_uses_request_url() -> None:
    env = parse_environment(
        [("agi_request", "agi://10.0.0.1:4573/agent?action=login&reason=lunch")]
    )
    assert env.network_script == "agent?action=login&reason=lunch"
    assert (env.script_path, dict(env.params)) == ("agent", {"action": "login", "reason": "lunch"})
    assert env.args == ()
    assert env.get("channel") == ""
    assert env.get("agi_request").startswith("agi://")


def test_split_script_keeps_blank_values_and_decodes() -> None:
    assert split_script("/ivr/?lang=&x=a%20b") == ("ivr", {"lang": "", "x": "a b"})
