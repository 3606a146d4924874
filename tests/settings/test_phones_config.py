"""agents.yaml ``phones:`` and per-agent ``location``: what check-config accepts and refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acd.cli.main import main
from acd.settings.errors import ConfigError
from acd.settings.loader import load_settings
from acd.settings.settings import Settings
from tests.settings.conftest import SHIPPED_CONFIG, Edit

Change = Callable[[dict[str, Any]], None]


def problems(config_dir: Path) -> list[str]:
    """Every issue load_settings reports (none: the config is valid)."""
    try:
        load_settings(config_dir, env={}, require_secrets=False)
    except ConfigError as exc:
        return [str(issue) for issue in exc.issues]
    return []


def loaded(config_dir: Path) -> Settings:
    return load_settings(config_dir, env={}, require_secrets=False)


def phones(change: Change) -> Change:
    """An edit of agents.yaml's phones: section."""

    def apply(data: dict[str, Any]) -> None:
        change(data["phones"])

    return apply


def agent(index: int, **values: Any) -> Change:
    def apply(data: dict[str, Any]) -> None:
        data["agents"][index].update(values)

    return apply


def test_shipped_config_has_office_and_remote_agents() -> None:
    settings = load_settings(SHIPPED_CONFIG, env={}, require_secrets=False)
    locations = {a.id: a.location for a in settings.agents}
    assert locations["1004"] == "remote"
    assert {loc for aid, loc in locations.items() if aid != "1004"} == {"office"}
    remote = settings.phones.remote
    assert remote is not None
    assert remote.media_encryption == "sdes"
    assert remote.key_password_env == "HOTLINE_SIP_TLS_KEY_PASSWORD"
    # 1004 overrides the remote RTT limit; the qualify comes from phones.remote.quality
    quality = settings.phone_quality(settings.agent("1004"))
    assert (quality.qualify_frequency_s, quality.rtt_limit_ms) == (30, 500)
    office = settings.phone_quality(settings.agent("1001"))
    assert (office.qualify_frequency_s, office.rtt_limit_ms) == (60, None)


def test_agents_file_without_phones_binds_loopback_udp(config_dir: Path, edit: Edit) -> None:
    def strip(data: dict[str, Any]) -> None:
        del data["phones"]
        for entry in data["agents"]:
            entry.pop("location", None)
            entry.pop("quality", None)

    edit("agents.yaml", strip)
    settings = loaded(config_dir)
    assert settings.phones.office.address == "127.0.0.1"
    assert (settings.phones.office.udp_port, settings.phones.office.tcp_port) == (5060, None)
    assert settings.phones.remote is None


def test_remote_agent_without_remote_settings(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", phones(lambda p: p.pop("remote")))
    assert problems(config_dir) == [
        "agents.yaml: agents[3].location: location remote needs phones.remote (TLS address,"
        " cert_file and private_key_file)"
    ]


def test_remote_settings_without_tls_files(config_dir: Path, edit: Edit) -> None:
    def drop_tls(p: dict[str, Any]) -> None:
        del p["remote"]["cert_file"], p["remote"]["private_key_file"]

    edit("agents.yaml", phones(drop_tls))
    assert problems(config_dir) == [
        "agents.yaml: phones.remote.cert_file: required key is missing",
        "agents.yaml: phones.remote.private_key_file: required key is missing",
    ]


def test_dtls_without_certificates(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", phones(lambda p: p["remote"].update(media_encryption="dtls")))
    assert problems(config_dir) == [
        "agents.yaml: phones.remote: media_encryption dtls expects 'dtls' with cert_file and"
        " private_key_file"
    ]
    dtls = {"cert_file": "/etc/asterisk/keys/dtls.crt", "private_key_file": "/k/dtls.key"}
    edit("agents.yaml", phones(lambda p: p["remote"].update(dtls=dtls)))
    assert problems(config_dir) == []


@pytest.mark.parametrize(
    ("where", "address"),
    [("office", "0.0.0.0"), ("remote", "0.0.0.0"), ("office", "::")],
)
def test_any_address_needs_the_opt_in(
    config_dir: Path, edit: Edit, where: str, address: str
) -> None:
    edit("agents.yaml", phones(lambda p: p[where].update(address=address)))
    assert problems(config_dir) == [
        f"agents.yaml: phones.{where}.address: {address} binds every interface (expected the"
        " address the phones should reach; set phones.allow_any_address: true to bind every"
        " interface on purpose)"
    ]
    edit("agents.yaml", phones(lambda p: p.update(allow_any_address=True)))
    assert problems(config_dir) == []


def test_address_must_be_an_ip_and_paths_absolute(config_dir: Path, edit: Edit) -> None:
    def bad(p: dict[str, Any]) -> None:
        p["office"]["address"] = "pbx.example.com"
        p["remote"]["cert_file"] = "keys/hotline.crt"
        p["remote"]["private_key_file"] = "/etc/asterisk/keys/a.key ; injected = yes"

    edit("agents.yaml", phones(bad))
    assert problems(config_dir) == [
        "agents.yaml: phones.office.address: expected an IPv4 or IPv6 address, got"
        " 'pbx.example.com'",
        "agents.yaml: phones.remote.cert_file: expected an absolute file path on the Asterisk"
        " host without ';', got 'keys/hotline.crt'",
        "agents.yaml: phones.remote.private_key_file: expected an absolute file path on the"
        " Asterisk host without ';', got '/etc/asterisk/keys/a.key ; injected = yes'",
    ]


def test_tls_port_taken_by_office_tcp(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", phones(lambda p: p["remote"].update(tls_port=5060)))
    assert problems(config_dir) == [
        "agents.yaml: phones.remote.tls_port: remote TLS port 5060 on 127.0.0.1 is already taken"
        " by office TCP (phones.office.tcp_port): expected a different port"
    ]


def test_same_port_different_sockets_or_addresses_is_fine(config_dir: Path, edit: Edit) -> None:
    # UDP and TCP on 5060 (the shipped config) share no socket; TLS on 5060 of another address
    # neither.
    edit("agents.yaml", phones(lambda p: p["remote"].update(address="192.0.2.10", tls_port=5060)))
    assert problems(config_dir) == []


def test_any_address_clashes_with_every_address_of_its_family(config_dir: Path, edit: Edit) -> None:
    def clash(p: dict[str, Any]) -> None:
        p["allow_any_address"] = True
        p["office"]["address"] = "0.0.0.0"
        p["remote"].update(address="192.0.2.10", tls_port=5060)

    edit("agents.yaml", phones(clash))
    assert problems(config_dir) == [
        "agents.yaml: phones.remote.tls_port: remote TLS port 5060 on 192.0.2.10 is already"
        " taken by office TCP (phones.office.tcp_port): expected a different port"
    ]
    edit("agents.yaml", phones(lambda p: p["remote"].update(address="2001:db8::10")))
    assert problems(config_dir) == []  # 0.0.0.0 is IPv4 only


def test_office_agents_need_an_office_transport(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", phones(lambda p: p["office"].update(udp_port=None, tcp_port=None)))
    found = problems(config_dir)
    assert len(found) == 5  # every agent but the remote 1004
    assert found[0] == (
        "agents.yaml: agents[0].location: location office needs phones.office.udp_port or"
        " phones.office.tcp_port"
    )


def test_webrtc_needs_remote_and_dtls(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", agent(0, webrtc=True))
    edit("agents.yaml", agent(3, webrtc=True))
    assert problems(config_dir) == [
        "agents.yaml: agents[0].webrtc: webrtc expects location remote (DTLS-SRTP over WSS)",
        "agents.yaml: agents[3].webrtc: webrtc needs phones.remote.dtls (cert_file and"
        " private_key_file): browsers only take DTLS-SRTP",
    ]


def test_rtt_limit_needs_qualify(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", agent(3, quality={"qualify_frequency_s": 0}))
    edit("agents.yaml", phones(lambda p: p["office"]["quality"].update(rtt_limit_ms=150)))
    edit("agents.yaml", agent(0, quality={"qualify_frequency_s": 0}))
    assert problems(config_dir) == [
        "agents.yaml: agents[0].quality: rtt_limit_ms needs qualify_frequency_s > 0 (the RTT is"
        " measured by the qualify)",
        "agents.yaml: agents[3].quality: rtt_limit_ms needs qualify_frequency_s > 0 (the RTT is"
        " measured by the qualify)",
    ]


def test_qualify_timeout_below_frequency(config_dir: Path, edit: Edit) -> None:
    quality = {"qualify_frequency_s": 2, "qualify_timeout_s": 3.0}
    edit("agents.yaml", phones(lambda p: p["office"].update(quality=quality)))
    assert problems(config_dir) == [
        "agents.yaml: phones.office.quality: qualify_timeout_s expected below qualify_frequency_s"
    ]


def test_key_password_only_from_the_environment(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", phones(lambda p: p["remote"].update(key_password="hunter2")))
    found = problems(config_dir)
    assert found == [
        "agents.yaml: phones.remote: 'key_password' must not be written in a file: set"
        " key_password_env to the name of an environment variable holding it"
    ]
    assert all("hunter2" not in line for line in found)


def test_nat_local_nets_need_the_external_address(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", phones(lambda p: p["remote"].update(nat={"local_nets": ["10.0.0.0/8"]})))
    assert problems(config_dir) == [
        "agents.yaml: phones.remote.nat: local_nets expected only together with external_address"
    ]
    nat = {"external_address": "203.0.113.10", "local_nets": ["10.1.2.3/8", "bad"]}
    edit("agents.yaml", phones(lambda p: p["remote"].update(nat=nat)))
    assert problems(config_dir) == [
        "agents.yaml: phones.remote.nat.local_nets[1]: expected a network such as 10.0.0.0/8,"
        " got 'bad'"
    ]


def test_check_config_cli_exits_2_on_a_bad_combination(
    config_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]
) -> None:
    edit("agents.yaml", phones(lambda p: p["office"].update(address="0.0.0.0")))
    code = main(["check-config", "--config", str(config_dir), "--skip-secrets", "--json"])
    assert code == 2
    out = capsys.readouterr().out
    assert '"path": "phones.office.address"' in out
