"""``agents.yaml`` ``phones:``: where Asterisk listens for the agents' SIP phones, and how.

Two locations. ``office``: UDP and/or TCP on an internal address. ``remote`` (agents working from
home): TLS, SRTP (SDES or DTLS), NAT handling, one contact per agent, qualify for reachability.
Every transport is bound to an address written here; ``0.0.0.0`` / ``::`` (every interface) only
with ``allow_any_address: true``. Certificates are paths; the key password comes from the
environment (``key_password_env``) and is rendered as a ``${NAME}`` placeholder, never read here.

Option names rendered from these settings: res/res_pjsip/pjsip_config.xml (see pjsip_render.py).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from acd.settings.common import EnvName, FrozenModel, Port, refuse_secret_in_file

# ``;`` starts a comment in Asterisk .conf files and a line break ends the value: neither may
# reach a rendered line.
_CONF_BREAKERS = (";", "\n", "\r")


def _check_ip(value: str) -> str:
    # res_pjsip parses ``bind`` with pj_sockaddr_parse (config_transport.c
    # transport_bind_handler): an IP literal, not a host name.
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"expected an IPv4 or IPv6 address, got {value!r}") from None


def _check_network(value: str) -> str:
    # transport local_net: "CIDR or dotted decimal format with the IP and mask separated with a
    # slash" (pjsip_config.xml).
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError(f"expected a network such as 10.0.0.0/8, got {value!r}") from None


def _check_path(value: str) -> str:
    if not value.startswith("/") or any(c in value for c in _CONF_BREAKERS):
        raise ValueError(
            f"expected an absolute file path on the Asterisk host without ';', got {value!r}"
        )
    return value


IpAddress = Annotated[str, AfterValidator(_check_ip)]
Network = Annotated[str, AfterValidator(_check_network)]
FilePath = Annotated[str, AfterValidator(_check_path)]

Location = Literal["office", "remote"]
MediaEncryption = Literal["sdes", "dtls"]
# transport ``method`` values of res_pjsip (pjsip_config.xml); older ones are refused here.
TlsMethod = Literal["tlsv1_2", "tlsv1_3"]


def is_any_address(address: str) -> bool:
    """``0.0.0.0`` or ``::``: bound to every interface."""
    return ipaddress.ip_address(address).is_unspecified


class PhoneQuality(FrozenModel):
    """Reachability checks of a location's phones: AOR ``qualify_*`` and the RTT limit."""

    # AOR qualify_frequency is whole seconds (0 = never qualify); qualify_timeout fractional.
    qualify_frequency_s: int = Field(default=60, ge=0, le=86_400)
    qualify_timeout_s: float = Field(default=3.0, gt=0, le=60)
    # Round trip of the qualify OPTIONS above which the phone counts as too slow; None = no limit.
    rtt_limit_ms: int | None = Field(default=None, ge=1, le=60_000)

    @model_validator(mode="after")
    def _consistent(self) -> PhoneQuality:
        return check_quality(self)


def check_quality(quality: PhoneQuality) -> PhoneQuality:
    if quality.rtt_limit_ms is not None and quality.qualify_frequency_s == 0:
        raise ValueError(
            "rtt_limit_ms needs qualify_frequency_s > 0 (the RTT is measured by the qualify)"
        )
    if 0 < quality.qualify_frequency_s <= quality.qualify_timeout_s:
        raise ValueError("qualify_timeout_s expected below qualify_frequency_s")
    return quality


class QualityOverride(FrozenModel):
    """Per agent: replaces the location's values that are set."""

    qualify_frequency_s: int | None = Field(default=None, ge=0, le=86_400)
    rtt_limit_ms: int | None = Field(default=None, ge=1, le=60_000)

    def over(self, base: PhoneQuality) -> PhoneQuality:
        """``base`` with this override applied (raises ValueError if the result is invalid)."""
        changes = {k: v for k, v in self.model_dump().items() if v is not None}
        return check_quality(base.model_copy(update=changes))


class OfficePhones(FrozenModel):
    address: IpAddress = "127.0.0.1"  # the Asterisk host's internal (LAN) address
    udp_port: Port | None = 5060  # None = no UDP transport
    tcp_port: Port | None = None  # None = no TCP transport
    quality: PhoneQuality = PhoneQuality()


class DtlsCertificates(FrozenModel):
    """DTLS-SRTP certificate of Asterisk (endpoint ``dtls_cert_file`` / ``dtls_private_key``)."""

    cert_file: FilePath
    private_key_file: FilePath
    ca_file: FilePath | None = None


class NatSettings(FrozenModel):
    """When Asterisk itself sits behind NAT: the public address phones see, and the local nets
    (transport ``external_*_address`` apply only to destinations outside ``local_net``)."""

    external_address: IpAddress | None = None
    local_nets: tuple[Network, ...] = ()

    @model_validator(mode="after")
    def _nets_need_address(self) -> NatSettings:
        if self.local_nets and self.external_address is None:
            raise ValueError("local_nets expected only together with external_address")
        return self


def _remote_quality() -> PhoneQuality:
    # Remote phones sit behind NAT bindings that expire: qualify them more often. 400 ms round
    # trip is where ITU-T G.114's 200 ms one-way delay starts to hurt a conversation.
    return PhoneQuality(qualify_frequency_s=30, rtt_limit_ms=400)


class RemotePhones(FrozenModel):
    address: IpAddress  # the address remote phones reach (public, or what the NAT forwards)
    tls_port: Port = 5061
    cert_file: FilePath
    private_key_file: FilePath
    ca_file: FilePath | None = None
    key_password_env: EnvName | None = None  # the key's password, if it has one
    tls_method: TlsMethod = "tlsv1_2"
    media_encryption: MediaEncryption = "sdes"
    dtls: DtlsCertificates | None = None  # needed for media_encryption dtls and WebRTC
    nat: NatSettings = NatSettings()
    # AOR maximum_expiration: the phone re-registers at least this often, which keeps its NAT
    # binding open and (with send_contact_status_on_update_registration) refreshes the RTT.
    registration_max_s: int = Field(default=300, ge=60, le=7200)
    quality: PhoneQuality = Field(default_factory=_remote_quality)

    @model_validator(mode="before")
    @classmethod
    def _no_password_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "key_password", "key_password_env")

    @model_validator(mode="after")
    def _dtls_has_certificates(self) -> RemotePhones:
        if self.media_encryption == "dtls" and self.dtls is None:
            raise ValueError(
                "media_encryption dtls expects 'dtls' with cert_file and private_key_file"
            )
        return self


class PhonesSettings(FrozenModel):
    """The whole ``phones:`` section of ``agents.yaml``."""

    office: OfficePhones = OfficePhones()
    remote: RemotePhones | None = None  # needed as soon as one agent is remote
    allow_any_address: bool = False  # explicit opt-in to bind 0.0.0.0 / ::

    def quality(self, location: Location, override: QualityOverride) -> PhoneQuality:
        """The qualify settings and RTT limit of one agent's phone."""
        if location == "remote" and self.remote is not None:
            base = self.remote.quality
        else:
            base = self.office.quality
        return override.over(base)
