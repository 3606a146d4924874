"""Checks on the secrets taken from the environment, and on who the service tokens act as.

Pure functions returning ``ConfigIssue`` values (``load_settings`` reports them with the other
secret problems, so ``hotline run`` and ``hotline check-config`` refuse the same things):

- every API token, the FastAGI key and the session key carry at least 128 bits, as far as the
  text can tell: a length for its alphabet (22 base64url characters, 32 hex digits) and no
  obvious repetition. ``python -c 'import secrets; print(secrets.token_urlsafe(32))'`` passes.
- no two secrets are the same (one token per role: a token shared by two entries would make a
  sign-in ambiguous, and an agent's token must never be an admin's);
- an agent-role token names a configured agent, a supervisor link a configured supervisor.
"""

from __future__ import annotations

import ipaddress
import math
import re
import string
from collections.abc import Iterable

from pydantic import SecretStr

from acd.settings.errors import ConfigIssue
from acd.settings.schema_routing import AgentsFile
from acd.settings.schema_system import SystemSettings

MIN_SECRET_BITS = 128
MIN_DISTINCT_CHARACTERS = 8  # "aaaa..." and "abab..." are long but not random
_HEX_ALPHABETS = (frozenset("0123456789abcdef"), frozenset("0123456789ABCDEF"))
_URLSAFE = frozenset(string.ascii_letters + string.digits + "-_")
FILE = "hotline.yaml"


def estimated_bits(value: str) -> float:
    """Bits of a secret drawn at random from the smallest usual alphabet that holds it."""
    if not value:
        return 0.0
    chars = set(value)
    # the usual alphabets, smallest first: a base64url token without a digit is still base64url
    if any(chars <= hex_digits for hex_digits in _HEX_ALPHABETS):
        pool = 16
    elif chars <= set(string.digits):
        pool = 10
    elif chars <= set(string.ascii_lowercase + string.digits) or chars <= set(
        string.ascii_uppercase + string.digits
    ):
        pool = 36
    elif chars <= _URLSAFE:
        pool = 64
    else:
        pool = 94  # printable ASCII
    return len(value) * math.log2(max(pool, 2))


def weakness(value: str) -> str | None:
    """Why ``value`` is not a strong enough secret, or None."""
    bits = estimated_bits(value)
    if bits < MIN_SECRET_BITS:
        return (
            f"expected at least {MIN_SECRET_BITS} random bits (e.g. 22+ characters of"
            f" secrets.token_urlsafe), got about {bits:.0f}"
        )
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return "expected a random value, got a repetitive one"
    return None


def _named_secrets(system: SystemSettings) -> list[tuple[str, str, SecretStr | None]]:
    """(key path, what, value) of every secret that must be strong."""
    found: list[tuple[str, str, SecretStr | None]] = [
        (f"http.tokens[{i}].token_env", f"the HTTP API token {t.name!r}", t.token)
        for i, t in enumerate(system.http.tokens)
    ]
    found.append(("fastagi.key_env", "the FastAGI key", system.fastagi.key))
    if system.http.session_key_env is not None:
        found.append(("http.session_key_env", "the session key", system.http.session_key))
    found.append(("ami.secret_env", "the AMI secret", system.ami.secret))
    return found


def secret_issues(system: SystemSettings) -> list[ConfigIssue]:
    """Weak or repeated secrets (the unset ones are reported by the loader already)."""
    issues: list[ConfigIssue] = []
    first: dict[str, str] = {}
    for path, what, secret in _named_secrets(system):
        if secret is None:
            continue
        value = secret.get_secret_value()
        why = weakness(value)
        if why is not None:
            issues.append(ConfigIssue(FILE, path, f"{what}: {why}"))
        if value in first:
            issues.append(
                ConfigIssue(
                    FILE,
                    path,
                    f"{what} is the same value as {first[value]}: expected a different secret"
                    " for each (one token per role)",
                )
            )
        else:
            first[value] = path
    return issues


_URLSAFE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def agi_key_issues(system: SystemSettings) -> list[ConfigIssue]:
    """The FastAGI key goes into dialplan URLs: only characters that need no quoting there."""
    key = system.fastagi.key
    if key is None or _URLSAFE_KEY.match(key.get_secret_value()):
        return []
    return [
        ConfigIssue(
            FILE,
            "fastagi.key_env",
            "the FastAGI key: expected only A-Z a-z 0-9 - _ (it is written into AGI URLs;"
            " secrets.token_urlsafe makes one)",
        )
    ]


def exposure_issues(system: SystemSettings) -> list[ConfigIssue]:
    """Keys and session cookies must not cross a network in clear."""
    http = system.http
    if http.tls is None and not _loopback(http.host):
        return [
            ConfigIssue(
                FILE,
                "http.host",
                f"{http.host} is reachable from other hosts: expected http.tls (cert_file,"
                " key_file) or a loopback address behind a TLS proxy",
            )
        ]
    return []


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def token_binding_issues(system: SystemSettings, agents: AgentsFile) -> list[ConfigIssue]:
    agent_ids = {a.id for a in agents.agents}
    supervisor_ids = {s.id for s in agents.supervisors}
    issues: list[ConfigIssue] = []
    for i, token in enumerate(system.http.tokens):
        if token.agent is not None and token.agent not in agent_ids:
            issues.append(_unknown(f"http.tokens[{i}].agent", "agent", token.agent, agent_ids))
        if token.supervisor is not None and token.supervisor not in supervisor_ids:
            path = f"http.tokens[{i}].supervisor"
            issues.append(_unknown(path, "supervisor", token.supervisor, supervisor_ids))
    issues += _duplicate_names(t.name for t in system.http.tokens)
    return issues


def _unknown(path: str, kind: str, value: str, known: Iterable[str]) -> ConfigIssue:
    listed = ", ".join(sorted(known)) or "(none defined)"
    return ConfigIssue(
        FILE, path, f"unknown {kind} {value!r} (expected one of agents.yaml: {listed})"
    )


def _duplicate_names(names: Iterable[str]) -> list[ConfigIssue]:
    seen: set[str] = set()
    issues = []
    for i, name in enumerate(names):
        if name in seen:
            issues.append(
                ConfigIssue(FILE, f"http.tokens[{i}].name", f"duplicate token name {name!r}")
            )
        seen.add(name)
    return issues
