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
    reconnect_max_s: PositiveSeconds = 30.0
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


class MqttSettings(FrozenModel):
    host: str = "127.0.0.1"
    port: Port = 1883
    topic_prefix: str = Field(default="hotline", pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
    client_id: str = Field(default="hotline-acd", min_length=1)
    buffer_size: int = Field(default=10_000, ge=1)  # messages kept while the broker is away


class DatabaseSettings(FrozenModel):
    url: str = "sqlite+aiosqlite:///var/hotline.db"
    spool_dir: str = "var/spool"  # events written here when the database is unreachable


Role = Literal["agent", "supervisor", "qa", "admin"]


class ApiToken(FrozenModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    role: Role
    token_env: EnvName
    token: SecretStr | None = Field(default=None, exclude=True)  # resolved from token_env

    @model_validator(mode="before")
    @classmethod
    def _no_token_in_file(cls, data: Any) -> Any:
        return refuse_secret_in_file(data, "token", "token_env")


class HttpSettings(FrozenModel):
    host: str = "127.0.0.1"
    port: Port = 8080
    tokens: tuple[ApiToken, ...] = ()


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
    http: HttpSettings = HttpSettings()
    logging: LoggingSettings = LoggingSettings()
