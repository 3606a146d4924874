"""Checks of ``agents.yaml`` that combine the agents with their ``phones:`` settings.

Each issue is placed where the operator has to change something: the agent's ``location`` when
that location is not configured, the transport's port when two transports would share a socket.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from acd.settings.errors import ConfigIssue
from acd.settings.schema_phones import PhonesSettings, is_any_address
from acd.settings.schema_routing import AgentsFile

FILE = "agents.yaml"


@dataclass(frozen=True, slots=True)
class Listener:
    """One socket a rendered transport opens."""

    path: str  # key path of its port in agents.yaml
    name: str  # e.g. "office UDP"
    stream: bool  # TCP and TLS share the stream socket space, UDP has its own
    address: str
    port: int

    def clashes_with(self, other: Listener) -> bool:
        if self.stream != other.stream or self.port != other.port:
            return False
        mine, theirs = ipaddress.ip_address(self.address), ipaddress.ip_address(other.address)
        if mine.version != theirs.version:
            return False
        return mine == theirs or mine.is_unspecified or theirs.is_unspecified


def listeners(phones: PhonesSettings) -> list[Listener]:
    """The sockets the rendered pjsip.conf binds (a WSS transport binds none: http.conf does)."""
    office = phones.office
    found = []
    if office.udp_port is not None:
        found.append(
            Listener("phones.office.udp_port", "office UDP", False, office.address, office.udp_port)
        )
    if office.tcp_port is not None:
        found.append(
            Listener("phones.office.tcp_port", "office TCP", True, office.address, office.tcp_port)
        )
    if phones.remote is not None:
        remote = phones.remote
        found.append(
            Listener("phones.remote.tls_port", "remote TLS", True, remote.address, remote.tls_port)
        )
    return found


def _address_issues(phones: PhonesSettings) -> list[ConfigIssue]:
    if phones.allow_any_address:
        return []
    bound = [("phones.office.address", phones.office.address)]
    if phones.remote is not None:
        bound.append(("phones.remote.address", phones.remote.address))
    return [
        ConfigIssue(
            FILE,
            path,
            f"{address} binds every interface (expected the address the phones should reach;"
            " set phones.allow_any_address: true to bind every interface on purpose)",
        )
        for path, address in bound
        if is_any_address(address)
    ]


def _port_issues(phones: PhonesSettings) -> list[ConfigIssue]:
    issues = []
    sockets = listeners(phones)
    for i, later in enumerate(sockets):
        for earlier in sockets[:i]:
            if later.clashes_with(earlier):
                message = (
                    f"{later.name} port {later.port} on {later.address} is already taken by"
                    f" {earlier.name} ({earlier.path}): expected a different port"
                )
                issues.append(ConfigIssue(FILE, later.path, message))
                break
    return issues


def _agent_issues(agents: AgentsFile) -> list[ConfigIssue]:
    phones = agents.phones
    office = phones.office
    issues = []
    for i, agent in enumerate(agents.agents):
        at = f"agents[{i}]"
        if agent.location == "remote" and phones.remote is None:
            issues.append(
                ConfigIssue(
                    FILE,
                    f"{at}.location",
                    "location remote needs phones.remote (TLS address, cert_file and"
                    " private_key_file)",
                )
            )
        if agent.location == "office" and office.udp_port is None and office.tcp_port is None:
            issues.append(
                ConfigIssue(
                    FILE,
                    f"{at}.location",
                    "location office needs phones.office.udp_port or phones.office.tcp_port",
                )
            )
        if agent.webrtc and agent.location != "remote":
            issues.append(
                ConfigIssue(
                    FILE, f"{at}.webrtc", "webrtc expects location remote (DTLS-SRTP over WSS)"
                )
            )
        elif agent.webrtc and phones.remote is not None and phones.remote.dtls is None:
            issues.append(
                ConfigIssue(
                    FILE,
                    f"{at}.webrtc",
                    "webrtc needs phones.remote.dtls (cert_file and private_key_file): browsers"
                    " only take DTLS-SRTP",
                )
            )
        try:
            phones.quality(agent.location, agent.quality)
        except ValueError as exc:
            issues.append(ConfigIssue(FILE, f"{at}.quality", str(exc)))
    return issues


def check_phones(agents: AgentsFile) -> list[ConfigIssue]:
    phones = agents.phones
    return _address_issues(phones) + _port_issues(phones) + _agent_issues(agents)
