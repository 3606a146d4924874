"""Render ``pjsip.conf`` for the agents' phones: transports per location, endpoint, auth, AOR.

Option names and meanings are res_pjsip's (res/res_pjsip/pjsip_config.xml, Asterisk 22):
- transport ``protocol``/``bind``, TLS ``cert_file``/``priv_key_file``/``ca_list_file``/
  ``method``/``password`` (the private key's password: config_transport.c transport_apply copies
  it into the TLS settings), NAT ``external_media_address``/``external_signaling_address``/
  ``local_net``. A transport without ``bind`` does not start ("binding not specified",
  config_transport.c transport_apply), so every transport gets a configured address.
- endpoint ``media_encryption`` (sdes/dtls) with ``media_encryption_optimistic = no`` (no
  fallback to plain RTP), ``dtls_*``, NAT ``rtp_symmetric``/``force_rport``/``rewrite_contact``/
  ``direct_media``, ``webrtc`` (enables rtcp_mux, use_avpf, ice_support,
  media_use_received_transport), ``transport`` (forces the transport of outgoing requests).
- aor ``max_contacts = 1`` + ``remove_existing = yes`` (one phone per agent; a re-registration
  from a new NAT address replaces the old contact), ``qualify_frequency``/``qualify_timeout``,
  ``maximum_expiration``.
- global ``send_contact_status_on_update_registration``: res_pjsip/pjsip_options.c
  contact_observer_updated sends an AMI ``ContactStatus`` (with the last qualify's RTT) on every
  registration refresh; without it ``ContactStatus`` only comes when the status changes
  (sip_options_contact_status_notify_task), so a phone that stays Reachable but slow is never
  reported.

No secret is rendered: SIP passwords and the TLS key password are ``${ENV_NAME}`` placeholders.
"""

from __future__ import annotations

import ipaddress
import re

from acd.settings import names
from acd.settings.dialplan_render import HEADER
from acd.settings.schema_phones import PhonesSettings, RemotePhones, is_any_address
from acd.settings.schema_routing import AgentSettings
from acd.settings.settings import Settings

TRANSPORT_OFFICE_UDP = "transport-office-udp"
TRANSPORT_OFFICE_TCP = "transport-office-tcp"
TRANSPORT_REMOTE_TLS = "transport-remote-tls"
TRANSPORT_REMOTE_WSS = "transport-remote-wss"


def sip_password_env(agent: AgentSettings) -> str:
    """Environment variable holding the agent softphone's SIP password."""
    return "HOTLINE_SIP_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", agent.softphone.upper())


def bind_address(address: str, port: int | None = None) -> str:
    """``10.0.0.5:5060``, ``[2001:db8::5]:5061``; no port: the bare address."""
    if port is None:
        return address
    if ipaddress.ip_address(address).version == 6:
        return f"[{address}]:{port}"
    return f"{address}:{port}"


def _office_transports(phones: PhonesSettings) -> list[str]:
    office = phones.office
    lines: list[str] = []
    for name, protocol, port in (
        (TRANSPORT_OFFICE_UDP, "udp", office.udp_port),
        (TRANSPORT_OFFICE_TCP, "tcp", office.tcp_port),
    ):
        if port is None:
            continue
        lines += [
            "",
            f"; office phones, {protocol.upper()} on the internal address",
            f"[{name}]",
            "type = transport",
            f"protocol = {protocol}",
            f"bind = {bind_address(office.address, port)}",
        ]
    return lines


def _remote_transports(remote: RemotePhones, *, webrtc: bool) -> list[str]:
    lines = [
        "",
        "; remote phones: TLS only (signalling encrypted, so SDES keys are not exposed)",
        f"[{TRANSPORT_REMOTE_TLS}]",
        "type = transport",
        "protocol = tls",
        f"bind = {bind_address(remote.address, remote.tls_port)}",
        f"cert_file = {remote.cert_file}",
        f"priv_key_file = {remote.private_key_file}",
    ]
    if remote.ca_file is not None:
        lines.append(f"ca_list_file = {remote.ca_file}")
    if remote.key_password_env is not None:
        lines.append(f"password = ${{{remote.key_password_env}}}")
    lines.append(f"method = {remote.tls_method}")
    nat = remote.nat
    if nat.external_address is not None:
        lines += [
            "; Asterisk behind NAT: phones outside local_net are given the public address",
            f"external_media_address = {nat.external_address}",
            f"external_signaling_address = {nat.external_address}",
        ]
        lines += [f"local_net = {net}" for net in nat.local_nets]
    if webrtc:
        lines += [
            "",
            "; browser phones (webrtc: true). res_pjsip wants a bind here but opens no socket:",
            "; browsers connect to Asterisk's HTTPS server, so http.conf needs tlsenable = yes,",
            "; tlsbindaddr, tlscertfile and tlsprivatekey (not rendered by hotline).",
            f"[{TRANSPORT_REMOTE_WSS}]",
            "type = transport",
            "protocol = wss",
            f"bind = {bind_address(remote.address)}",
        ]
    return lines


def _office_transport(phones: PhonesSettings) -> str | None:
    """The transport office endpoints are forced to, when there is only one to choose."""
    office = phones.office
    if office.udp_port is not None and office.tcp_port is not None:
        return None  # the contact's own transport (UDP or TCP) picks the matching one
    return TRANSPORT_OFFICE_UDP if office.udp_port is not None else TRANSPORT_OFFICE_TCP


def _media_lines(agent: AgentSettings, remote: RemotePhones) -> list[str]:
    encryption = "dtls" if agent.webrtc else remote.media_encryption
    lines = [f"media_encryption = {encryption}", "media_encryption_optimistic = no"]
    if encryption == "dtls" and remote.dtls is not None:
        lines += [
            f"dtls_cert_file = {remote.dtls.cert_file}",
            f"dtls_private_key = {remote.dtls.private_key_file}",
        ]
        if remote.dtls.ca_file is not None:
            lines.append(f"dtls_ca_file = {remote.dtls.ca_file}")
        lines += ["dtls_verify = fingerprint", "dtls_setup = actpass"]
    return lines


def _endpoint(agent: AgentSettings, phones: PhonesSettings) -> list[str]:
    ext = agent.softphone
    lines = [
        f"[{ext}]",
        "type = endpoint",
        f"context = {names.CONTEXT_AGENTS}",
        "disallow = all",
        "allow = ulaw,alaw",
        f"auth = {ext}-auth",
        f"aors = {ext}",
        f'callerid = "{agent.name}" <{ext}>',
    ]
    remote = phones.remote
    if agent.location == "remote" and remote is not None:
        if agent.webrtc:
            lines += [f"transport = {TRANSPORT_REMOTE_WSS}", "webrtc = yes"]
        else:
            lines.append(f"transport = {TRANSPORT_REMOTE_TLS}")
        lines += _media_lines(agent, remote)
        lines += [
            "; behind the agent's home NAT: answer where requests come from, keep media here",
            "rtp_symmetric = yes",
            "force_rport = yes",
            "rewrite_contact = yes",
            "direct_media = no",
        ]
    else:
        transport = _office_transport(phones)
        if transport is not None:
            lines.append(f"transport = {transport}")
        elif not is_any_address(phones.office.address):
            # No transport to bind RTP to, so Asterisk would take every address
            # (res/res_pjsip_sdp_rtp.c create_rtp): keep the media on the office address.
            lines += [
                f"media_address = {phones.office.address}",
                "bind_rtp_to_media_address = yes",
            ]
    return lines


def _auth_and_aor(agent: AgentSettings, settings: Settings) -> list[str]:
    ext = agent.softphone
    quality = settings.phone_quality(agent)
    lines = [
        "",
        f"[{ext}-auth]",
        "type = auth",
        "auth_type = userpass",
        f"username = {ext}",
        f"password = ${{{sip_password_env(agent)}}}",
        "",
        f"[{ext}]",
        "type = aor",
        "max_contacts = 1",
        "remove_existing = yes",
        f"qualify_frequency = {quality.qualify_frequency_s}",
    ]
    if quality.qualify_frequency_s:
        lines.append(f"qualify_timeout = {quality.qualify_timeout_s}")
    remote = settings.phones.remote
    if agent.location == "remote" and remote is not None:
        lines.append(f"maximum_expiration = {remote.registration_max_s}")
    return lines


def render_pjsip_conf(settings: Settings) -> str:
    phones = settings.phones
    agents = sorted(settings.agents, key=lambda a: a.softphone)
    lines = [
        HEADER,
        "; Agent phones. Passwords are ${...} placeholders: substitute them from the",
        "; environment when installing (e.g. envsubst with the variable names); never commit",
        "; real ones. Transports bind the addresses of agents.yaml phones:.",
        "[global]",
        "type = global",
        "; an AMI ContactStatus (with the latest qualify RTT) at every registration refresh,",
        "; not only when a phone's status changes: the daemon watches remote phones' RTT",
        "send_contact_status_on_update_registration = yes",
    ]
    lines += _office_transports(phones)
    if phones.remote is not None:
        webrtc = any(a.webrtc and a.location == "remote" for a in agents)
        lines += _remote_transports(phones.remote, webrtc=webrtc)
    seen: set[str] = set()
    for agent in agents:
        if agent.softphone in seen:
            continue
        seen.add(agent.softphone)
        where = "browser phone, remote" if agent.webrtc else agent.location
        lines += ["", f"; agent {agent.id}: {agent.name} ({where})"]
        lines += _endpoint(agent, phones)
        lines += _auth_and_aor(agent, settings)
    return "\n".join(lines) + "\n"
