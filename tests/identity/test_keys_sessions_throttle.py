"""Personal keys, session tokens and the sign-in back-off: pure parts, time as a parameter."""

from __future__ import annotations

import pytest

from acd.identity import sessions
from acd.identity.keys import issue_key, secret_matches, split_key
from acd.identity.principal import Principal
from acd.identity.throttle import AuthThrottle

KEY = b"k" * 32


def test_issued_key_is_found_by_its_id_and_only_its_secret_matches() -> None:
    issued = issue_key()
    parts = split_key(issued.key)
    assert parts is not None
    key_id, secret = parts
    assert key_id == issued.key_id
    assert len(secret) >= 43  # 256 random bits in base64url
    assert secret_matches(secret, issued.key_sha256)
    assert not secret_matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"), issued.key_sha256)
    assert issued.key_sha256 not in issued.key  # only the hash is stored, never the key
    assert issue_key().key != issued.key


@pytest.mark.parametrize(
    "presented",
    ["", "hlk", "hlk_", "hlk_0123456789ab_", "hlx_0123456789ab_s", "hlk_XYZ3456789ab_s",
     "hlk_0123_s", "hlk_0123456789ab_" + "s" * 200],
)  # fmt: skip
def test_things_that_are_not_keys_are_not_split(presented: str) -> None:
    assert split_key(presented) is None


def test_session_token_round_trip_expiry_and_tampering() -> None:
    claims = sessions.SessionClaims("li.na", "person", "0123456789ab", 1000.0)
    token = sessions.issue(KEY, claims)
    assert sessions.verify(KEY, token, now=999.0) == claims
    assert sessions.verify(KEY, token, now=1000.0) is None  # expired
    assert sessions.verify(b"x" * 32, token, now=999.0) is None  # another daemon's key
    body, _, mac = token.partition(".")
    forged = sessions.issue(b"x" * 32, sessions.SessionClaims("admin", "person", "p", 9e9))
    assert sessions.verify(KEY, forged.partition(".")[0] + "." + mac, now=0.0) is None
    assert sessions.verify(KEY, body + "." + mac[:-2], now=999.0) is None
    assert sessions.verify(KEY, "garbage", now=0.0) is None
    assert sessions.verify(KEY, "a" * 5000, now=0.0) is None


def test_throttle_lets_some_failures_pass_then_doubles_the_wait() -> None:
    throttle = AuthThrottle(allowed=3, window_s=60, base_s=1, max_s=8)
    for t in range(3):
        throttle.failed("10.0.0.1", float(t))
        assert throttle.retry_after("10.0.0.1", float(t)) is None
    throttle.failed("10.0.0.1", 3.0)  # the 4th: wait 1 s
    assert throttle.retry_after("10.0.0.1", 3.0) == 1
    assert throttle.retry_after("10.0.0.2", 3.0) is None  # per address
    throttle.failed("10.0.0.1", 4.0)  # 5th: 2 s
    assert throttle.retry_after("10.0.0.1", 4.5) == 2
    for t in range(6, 12):
        throttle.failed("10.0.0.1", float(t))
    assert throttle.retry_after("10.0.0.1", 11.0) == 8  # capped
    assert throttle.retry_after("10.0.0.1", 19.0) is None
    throttle.succeeded("10.0.0.1")
    throttle.failed("10.0.0.1", 20.0)
    assert throttle.retry_after("10.0.0.1", 20.0) is None  # a success starts afresh


def test_throttle_forgets_the_oldest_addresses_beyond_its_bound() -> None:
    throttle = AuthThrottle(allowed=1, max_clients=2)
    for address in ("a", "b", "c"):
        throttle.failed(address, 0.0)
        throttle.failed(address, 0.0)
    assert throttle.retry_after("a", 0.0) is None  # forgotten
    assert throttle.retry_after("c", 0.0) == 1


def test_agents_act_only_on_themselves_supervisors_on_anyone() -> None:
    agent = Principal("li.na", "agent", "person", agent_id="1001")
    assert agent.may_act_on("1001")
    assert not agent.may_act_on("1002")
    assert not agent.may_act_on(None)  # a call nobody answered is not theirs
    viewer = Principal("tv", "viewer")
    assert not viewer.may_act_on("1001")
    assert not viewer.at_least("agent")
    boss = Principal("zhao", "supervisor", "person")
    assert boss.may_act_on("1002")
    assert boss.may_act_on(None)
