"""``hotline.yaml``: how the daemon reaches Asterisk, MQTT, the database and serves HTTP.

Secrets are never written in YAML: a ``*_env`` key names the environment variable that holds the
value (e.g. ``secret_env: HOTLINE_AMI_SECRET``). ``load_settings`` resolves them into
``SecretStr`` fields, which print as ``**********``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator

from acd.settings.common import (
    EnvName,
    FrozenModel,
    Port,
    PositiveSeconds,
    TimeZoneName,
    refuse_secret_in_file,
)


class AmiSettings(FrozenModel):
    host: str = "127.0.0.1"
    port: Port = 5038
    username: str = Field(min_length=1)
    secret_env: EnvName = "HOTLINE_AMI_SECRET"
    # Filled by load_settings from the environment; never read from YAML.
    secret: SecretStr | None = Field(default=None, exclude=True)
    # Cap of the reconnect back-off (from 0.5 s, with jitter: each wait is between half the cap
    # and the cap): 0.8 reconnects within a second of Asterisk coming back (issue 12).
    reconnect_max_s: float = Field(default=0.8, ge=0.5)
    ping_interval_s: PositiveSeconds = 20.0

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "secret", "secret_env")


class FastAgiSettings(FrozenModel):
    host: str = "127.0.0.1"  # bound by the daemon and written into the dialplan's agi:// URLs
    port: Port = 4573
    # The shared README: backlog 5 dropped 4 of 50 simultaneous connects; keep it large.
    backlog: int = Field(default=512, ge=64)
    allowed_peers: tuple[str, ...] = ("127.0.0.1",)
    session_timeout_s: PositiveSeconds = 3600.0
    # Shared secret in every AGI URL of the dialplan (``?key=${HOTLINE_AGI_KEY}``, substituted
    # at install): sessions without it are refused, so a local process cannot pose as Asterisk.
    key_env: EnvName = "HOTLINE_AGI_KEY"
    key: SecretStr | None = Field(default=None, exclude=True)  # resolved from key_env
    # At most this many sessions at once (further connections are closed at once, and Asterisk's
    # dialplan falls back to Queue()); also capped below the process's open-file limit.
    max_sessions: int = Field(default=2000, ge=1)
    # Asterisk sends the environment block right after connecting: a peer silent this long is
    # dropped, so idle connections cannot hold sessions (or file descriptors).
    idle_timeout_s: PositiveSeconds = 10.0
    command_timeout_s: PositiveSeconds = 300.0  # per command reply (Dial/Queue pass their own)
    # A second daemon's FastAGI address (the standby): the dialplan offers an unfinished caller
    # to it right after this address (``hotline dialplan render``).
    standby_host: str | None = None
    standby_port: Port = 4573

    @model_validator(mode="before")
    @classmethod
    def _no_key_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "key", "key_env")

    @model_validator(mode="after")
    def _standby_elsewhere(self) -> FastAgiSettings:
        if self.standby_address == (self.host, self.port):
            raise ValueError(
                f"standby_host:standby_port is the active daemon's own address {self.host}:"
                f"{self.port}: the standby (hotline run --standby) listens on another host or port"
            )
        return self

    @property
    def standby_address(self) -> tuple[str, int] | None:
        """Where ``hotline run --standby`` listens; None when no standby is configured."""
        if self.standby_host is None:
            return None
        return self.standby_host, self.standby_port


class MqttTls(FrozenModel):
    """TLS to the broker: the CA that signed its certificate, and a client certificate if the
    broker asks for one (``require_certificate true`` in mosquitto.conf)."""

    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> MqttTls:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file expected together (the client certificate)")
        return self


class MqttSettings(FrozenModel):
    host: str = "127.0.0.1"
    port: Port = 1883
    topic_prefix: str = Field(default="hotline", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    client_id: str = Field(default="hotline-acd", min_length=1)
    buffer_size: int = Field(default=10_000, ge=1)  # messages kept while the broker is away
    # Screen pops carry names, numbers and VIP flags: use broker authentication (and TLS off
    # the host). The password comes from the environment variable ``password_env`` names.
    username: str | None = Field(default=None, min_length=1)
    password_env: EnvName | None = None
    password: SecretStr | None = Field(default=None, exclude=True)  # resolved from password_env
    tls: MqttTls | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_password_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "password", "password_env")

    @model_validator(mode="after")
    def _password_needs_user(self) -> MqttSettings:
        if self.password_env is not None and self.username is None:
            raise ValueError("password_env expected together with username")
        return self


class DatabaseSettings(FrozenModel):
    url: str = "sqlite+aiosqlite:///var/hotline.db"
    spool_dir: str = "var/spool"  # events written here when the database is unreachable


# The advisory lock key every hotline daemon of one installation takes ("hotline" in ASCII);
# installations sharing one PostgreSQL server but not one database need not differ (advisory
# locks are per database), ones sharing a database must.
DEFAULT_LOCK_ID = 0x686F746C696E65


class LeadershipSettings(FrozenModel):
    """Which daemon is active, when several share one PostgreSQL database (``hotline run`` and
    ``hotline run --standby``): the holder of a session-level advisory lock."""

    lock_id: int = Field(default=DEFAULT_LOCK_ID, ge=-(2**63), lt=2**63)
    try_every_s: PositiveSeconds = 0.5  # a standby tries to take the lock this often
    # The active daemon checks its lock connection this often and steps down when a check
    # fails or takes longer than the interval; PostgreSQL ends a session silent for three
    # intervals (idle_session_timeout), so a daemon cut off from it loses the lock then.
    check_every_s: PositiveSeconds = 1.0


class FallbackImportSettings(FrozenModel):
    """Calls the dialplan's plain ``Queue()`` handled while no daemon took them, read from
    Asterisk's own logs into the reports (``calls.handled_by = 'fallback'``)."""

    enabled: bool = True
    # Asterisk's files as this host sees them (the defaults of a Debian Asterisk).
    queue_log: str = "/var/log/asterisk/queue_log"
    cdr_csv: str | None = "/var/log/asterisk/cdr-csv/Master.csv"  # None: end times from queue_log
    # Master.csv times are the Asterisk host's local time (cdr.conf usegmtime = no): its zone,
    # when it is not this machine's.
    cdr_timezone: TimeZoneName | None = None
    every_s: PositiveSeconds = 30.0


# viewer: the wallboard (read-only); the others as in docs/security.md
Role = Literal["viewer", "agent", "supervisor", "qa", "admin"]


class ApiToken(FrozenModel):
    """A service account's token from the environment (people get personal keys instead,
    ``hotline users add``). An agent-role token acts only as ``agent``; a supervisor-role token
    may listen in only from the phones of the ``supervisor`` entry it names."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)
    role: Role
    token_env: EnvName
    agent: str | None = None  # agents.yaml id: required for role agent
    supervisor: str | None = None  # agents.yaml supervisors[].id
    token: SecretStr | None = Field(default=None, exclude=True)  # resolved from token_env

    @model_validator(mode="before")
    @classmethod
    def _no_token_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "token", "token_env")

    @model_validator(mode="after")
    def _agent_bound(self) -> ApiToken:
        if self.role == "agent" and self.agent is None:
            raise ValueError(
                "role agent expects 'agent': the agent id this token acts as (a token shared by"
                " every agent could act on anyone; people get personal keys: hotline users add)"
            )
        if self.role != "agent" and self.agent is not None:
            raise ValueError(f"'agent' is only for role agent, not {self.role}")
        return self


class HttpTls(FrozenModel):
    """HTTPS through uvicorn (``ssl_certfile`` / ``ssl_keyfile``); PEM files."""

    cert_file: str
    key_file: str


class HttpSettings(FrozenModel):
    host: str = "127.0.0.1"  # loopback: put a TLS-terminating proxy or ``tls`` before others
    port: Port = 8080
    tokens: tuple[ApiToken, ...] = ()
    tls: HttpTls | None = None
    max_body_bytes: int = Field(default=1_000_000, ge=1024)  # larger requests get 413
    # Browser sign-in: a personal key is exchanged for a signed session cookie this long,
    # renewed by the open page; revoking the key ends it at the next request.
    session_ttl_s: PositiveSeconds = 900.0
    # Signs session cookies; unset: a random key per daemon start (a restart signs browsers out)
    session_key_env: EnvName | None = None
    session_key: SecretStr | None = Field(default=None, exclude=True)
    # Failed sign-ins from one address before it is made to wait (429 with Retry-After)
    auth_failures_allowed: int = Field(default=10, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _no_session_key_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "session_key", "session_key_env")


class LoggingSettings(FrozenModel):
    format: Literal["json", "console"] = "console"
    level: Literal["debug", "info", "warning", "error"] = "info"


class SystemSettings(FrozenModel):
    """The whole of ``hotline.yaml``."""

    timezone: TimeZoneName = "UTC"
    ami: AmiSettings
    fastagi: FastAgiSettings = FastAgiSettings()
    mqtt: MqttSettings = MqttSettings()
    database: DatabaseSettings = DatabaseSettings()
    leadership: LeadershipSettings = LeadershipSettings()
    fallback_import: FallbackImportSettings = FallbackImportSettings()
    http: HttpSettings = HttpSettings()
    logging: LoggingSettings = LoggingSettings()
