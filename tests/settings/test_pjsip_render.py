"""pjsip.conf per agent location, and queues.conf state interfaces, from the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acd.asterisk.devices import device_of
from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_all
from acd.settings.pjsip_render import render_pjsip_conf
from acd.settings.settings import Settings
from tests.settings.conftest import SHIPPED_CONFIG, Edit

Section = tuple[str, dict[str, list[str]]]

# Option names res_pjsip registers per object type, as listed in Asterisk 22's
# res/res_pjsip/pjsip_config.xml (configObject transport / endpoint / auth / aor / global). Any
# rendered option outside these is a typo Asterisk would refuse.
KNOWN_OPTIONS = {
    "transport": {
        "type",
        "protocol",
        "bind",
        "cert_file",
        "priv_key_file",
        "ca_list_file",
        "password",
        "method",
        "external_media_address",
        "external_signaling_address",
        "local_net",
    },
    "endpoint": {
        "type",
        "context",
        "disallow",
        "allow",
        "auth",
        "aors",
        "callerid",
        "transport",
        "media_encryption",
        "media_encryption_optimistic",
        "dtls_cert_file",
        "dtls_private_key",
        "dtls_ca_file",
        "dtls_verify",
        "dtls_setup",
        "rtp_symmetric",
        "force_rport",
        "rewrite_contact",
        "direct_media",
        "webrtc",
        "media_address",
        "bind_rtp_to_media_address",
    },
    "auth": {"type", "auth_type", "username", "password"},
    "aor": {
        "type",
        "max_contacts",
        "remove_existing",
        "qualify_frequency",
        "qualify_timeout",
        "maximum_expiration",
    },
    "global": {"type", "send_contact_status_on_update_registration"},
}

DTLS = {"cert_file": "/etc/asterisk/keys/dtls.crt", "private_key_file": "/etc/asterisk/dtls.key"}


def sections(text: str) -> list[Section]:
    """``[name]`` blocks with their options (repeated options kept in order)."""
    found: list[Section] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            found.append((line.strip("[]"), {}))
            continue
        key, sep, value = line.partition(" = ")
        assert sep, raw
        found[-1][1].setdefault(key, []).append(value)
    return found


def section(text: str, name: str, kind: str) -> dict[str, str]:
    """The single-valued options of section ``name`` of type ``kind``."""
    for found, options in sections(text):
        if found == name and options["type"] == [kind]:
            return {key: values[-1] for key, values in options.items()}
    raise AssertionError(f"no [{name}] of type {kind}")


def render(config_dir: Path) -> str:
    return render_pjsip_conf(load_settings(config_dir, env={}, require_secrets=False))


def shipped() -> Settings:
    return load_settings(SHIPPED_CONFIG, env={}, require_secrets=False)


def remote(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        change(data["phones"]["remote"])

    return apply


def test_every_rendered_option_is_a_res_pjsip_option() -> None:
    text = render_pjsip_conf(shipped())
    for name, options in sections(text):
        kind = options["type"][0]
        assert set(options) <= KNOWN_OPTIONS[kind], (name, set(options) - KNOWN_OPTIONS[kind])


def test_transports_bind_the_configured_addresses_never_any() -> None:
    text = render_pjsip_conf(shipped())
    assert "0.0.0.0" not in text
    assert section(text, "transport-office-udp", "transport") == {
        "type": "transport",
        "protocol": "udp",
        "bind": "127.0.0.1:5060",
    }
    assert section(text, "transport-office-tcp", "transport")["bind"] == "127.0.0.1:5060"
    assert section(text, "transport-remote-tls", "transport") == {
        "type": "transport",
        "protocol": "tls",
        "bind": "127.0.0.1:5061",
        "cert_file": "/etc/asterisk/keys/hotline.crt",
        "priv_key_file": "/etc/asterisk/keys/hotline.key",
        "password": "${HOTLINE_SIP_TLS_KEY_PASSWORD}",
        "method": "tlsv1_2",
    }
    assert "transport-remote-wss" not in text  # no browser phone configured


def test_remote_endpoint_gets_tls_srtp_nat_handling_and_one_contact() -> None:
    text = render_pjsip_conf(shipped())
    endpoint = section(text, "1004", "endpoint")
    assert endpoint["transport"] == "transport-remote-tls"
    assert endpoint["media_encryption"] == "sdes"
    assert endpoint["media_encryption_optimistic"] == "no"
    for option in ("rtp_symmetric", "force_rport", "rewrite_contact"):
        assert endpoint[option] == "yes", option
    assert endpoint["direct_media"] == "no"
    assert "dtls_cert_file" not in endpoint
    aor = section(text, "1004", "aor")
    assert aor == {
        "type": "aor",
        "max_contacts": "1",
        "remove_existing": "yes",
        "qualify_frequency": "30",
        "qualify_timeout": "3.0",
        "maximum_expiration": "300",
    }


def test_office_endpoint_stays_plain() -> None:
    text = render_pjsip_conf(shipped())
    endpoint = section(text, "1001", "endpoint")
    # UDP and TCP both configured: the phone's own contact picks the transport
    assert "transport" not in endpoint
    # ... so no transport's address binds the RTP: the office address does
    assert (endpoint["media_address"], endpoint["bind_rtp_to_media_address"]) == (
        "127.0.0.1",
        "yes",
    )
    assert not {"media_encryption", "rewrite_contact", "direct_media"} & set(endpoint)
    aor = section(text, "1001", "aor")
    assert (aor["qualify_frequency"], aor["max_contacts"]) == ("60", "1")
    assert "maximum_expiration" not in aor
    assert section(text, "1001-auth", "auth")["password"] == "${HOTLINE_SIP_PASSWORD_1001}"


def test_contact_status_on_every_registration_refresh() -> None:
    text = render_pjsip_conf(shipped())
    assert section(text, "global", "global") == {
        "type": "global",
        "send_contact_status_on_update_registration": "yes",
    }


def test_office_with_udp_only_forces_that_transport(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", lambda d: d["phones"]["office"].update(tcp_port=None))
    text = render(config_dir)
    assert "transport-office-tcp" not in text
    assert section(text, "1001", "endpoint")["transport"] == "transport-office-udp"


@pytest.mark.parametrize(("address", "bound"), [("10.0.0.5", True), ("0.0.0.0", False)])
def test_office_media_stays_on_the_office_address(
    config_dir: Path, edit: Edit, address: str, bound: bool
) -> None:
    edit("agents.yaml", lambda d: d["phones"].update(allow_any_address=not bound))
    edit("agents.yaml", lambda d: d["phones"]["office"].update(address=address))
    endpoint = section(render(config_dir), "1001", "endpoint")
    if bound:
        assert endpoint["media_address"] == address
        assert endpoint["bind_rtp_to_media_address"] == "yes"
    else:  # every address asked for: Asterisk's own default
        assert "media_address" not in endpoint
        assert "bind_rtp_to_media_address" not in endpoint


def test_office_with_one_transport_binds_media_through_it(config_dir: Path, edit: Edit) -> None:
    edit("agents.yaml", lambda d: d["phones"]["office"].update(tcp_port=None))
    endpoint = section(render(config_dir), "1001", "endpoint")
    assert endpoint["transport"] == "transport-office-udp"
    assert "bind_rtp_to_media_address" not in endpoint  # the transport's address is used


def test_dtls_endpoint_gets_the_certificates(config_dir: Path, edit: Edit) -> None:
    dtls = {**DTLS, "ca_file": "/etc/asterisk/keys/ca.crt"}
    edit("agents.yaml", remote(lambda r: r.update(media_encryption="dtls", dtls=dtls)))
    endpoint = section(render(config_dir), "1004", "endpoint")
    assert endpoint["media_encryption"] == "dtls"
    assert endpoint["dtls_cert_file"] == DTLS["cert_file"]
    assert endpoint["dtls_private_key"] == DTLS["private_key_file"]
    assert endpoint["dtls_ca_file"] == "/etc/asterisk/keys/ca.crt"
    assert (endpoint["dtls_verify"], endpoint["dtls_setup"]) == ("fingerprint", "actpass")


def test_webrtc_agent_gets_the_wss_transport_and_webrtc_options(
    config_dir: Path, edit: Edit
) -> None:
    edit("agents.yaml", remote(lambda r: r.update(dtls=DTLS)))  # SIP phones keep SDES

    def browser(data: dict[str, Any]) -> None:
        data["agents"][3]["webrtc"] = True

    edit("agents.yaml", browser)
    text = render(config_dir)
    assert section(text, "transport-remote-wss", "transport") == {
        "type": "transport",
        "protocol": "wss",
        "bind": "127.0.0.1",
    }
    assert "http.conf needs tlsenable = yes" in text
    endpoint = section(text, "1004", "endpoint")
    assert endpoint["transport"] == "transport-remote-wss"
    assert endpoint["webrtc"] == "yes"
    assert endpoint["media_encryption"] == "dtls"
    assert endpoint["dtls_cert_file"] == DTLS["cert_file"]
    for name, options in sections(text):
        assert set(options) <= KNOWN_OPTIONS[options["type"][0]], name


def test_nat_and_ipv6(config_dir: Path, edit: Edit) -> None:
    nat = {"external_address": "203.0.113.10", "local_nets": ["10.0.0.0/8", "192.168.1.0/24"]}
    edit("agents.yaml", remote(lambda r: r.update(address="2001:db8::5", nat=nat)))
    edit("agents.yaml", remote(lambda r: r.pop("key_password_env")))
    text = render(config_dir)
    tls = dict(sections(text))["transport-remote-tls"]
    assert tls["bind"] == ["[2001:db8::5]:5061"]
    assert tls["external_media_address"] == ["203.0.113.10"]
    assert tls["external_signaling_address"] == ["203.0.113.10"]
    assert tls["local_net"] == ["10.0.0.0/8", "192.168.1.0/24"]
    assert "password" not in tls


def test_no_secret_reaches_pjsip_conf(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HOTLINE_SIP_TLS_KEY_PASSWORD": "k3y-pass", "HOTLINE_SIP_PASSWORD_1004": "sip-pass"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    text = render_pjsip_conf(load_settings(SHIPPED_CONFIG, require_secrets=False))
    assert "k3y-pass" not in text
    assert "sip-pass" not in text
    assert "password = ${HOTLINE_SIP_TLS_KEY_PASSWORD}" in text


@pytest.mark.parametrize(
    ("endpoint", "device"),
    [
        ("PJSIP/1001", "PJSIP/1001"),
        ("Local/1001@agent-phones/n", "Local/1001@agent-phones"),  # the README gotcha
        ("Local/1001@hotline-agents", "Local/1001@hotline-agents"),
        ("Local/1001@hotline-agents/nj", "Local/1001@hotline-agents"),
    ],
)
def test_device_of(endpoint: str, device: str) -> None:
    assert device_of(endpoint) == device


def test_fallback_members_use_the_real_device(config_dir: Path, edit: Edit) -> None:
    def local_agent(data: dict[str, Any]) -> None:
        data["agents"][2]["endpoint"] = "Local/1003@agent-phones/n"

    edit("agents.yaml", local_agent)
    settings = load_settings(config_dir, env={}, require_secrets=False)
    text = render_all(settings)["queues.conf"]
    complaints = text.split("[complaints]\n", 1)[1].split("\n[", 1)[0]
    members = [line for line in complaints.splitlines() if line.startswith("member => ")]
    # Shared README: DeviceStateChange names Local/1003@agent-phones (no /n); a state interface
    # of PJSIP/1003 made every fallback member Invalid on a real Asterisk (issue 16).
    assert members == [
        "member => Local/1003@agent-phones/n,2,Zhang Min,Local/1003@agent-phones",
        "member => PJSIP/1005,0,Chen Jing,PJSIP/1005",
        "member => PJSIP/1006,1,Zhao Lei,PJSIP/1006",
    ]
