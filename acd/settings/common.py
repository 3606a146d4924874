"""Building blocks shared by the per-file schemas: the frozen base model and common value types."""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]*$"


class FrozenModel(BaseModel):
    """Every config section: unknown keys are errors and values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Queue, skill, menu, calendar names: they become dialplan extensions and queues.conf section
# names, so they stay lower-case ASCII words (no leading "_", which would make a pattern).
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN, max_length=40)]

# An environment variable name that holds a secret; the secret itself never sits in a file.
EnvName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]

Seconds = Annotated[float, Field(ge=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Port = Annotated[int, Field(ge=1, le=65535)]


def _as_tuple(value: Any) -> Any:
    """Accept one sound name or a list of them."""
    if isinstance(value, str):
        return (value,)
    return value


def _check_sound(value: str) -> str:
    # Asterisk sound names are paths without extension, relative to the sounds dir.
    if not value or value.startswith("/") or "." in value.rsplit("/", 1)[-1] or " " in value:
        raise ValueError(
            f"expected a sound name without extension (e.g. hotline/zh/welcome), got {value!r}"
        )
    return value


Sound = Annotated[str, AfterValidator(_check_sound)]
Sounds = Annotated[tuple[Sound, ...], BeforeValidator(_as_tuple), Field(min_length=1)]

# Per language (e.g. "zh", "en") one or more sound files played in order.
Prompts = dict[Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")], Sounds]


def _check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"expected an IANA time zone such as Asia/Shanghai, got {value!r}"
        ) from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]


def keys_as_str(value: Any) -> Any:
    """YAML reads ``1:`` as the integer 1; menu keys and the like are strings."""
    if isinstance(value, dict):
        return {
            str(k) if isinstance(k, int) and not isinstance(k, bool) else k: v
            for k, v in value.items()
        }
    return value


def refuse_secret_in_file(data: Any, key: str, env_key: str) -> Any:
    """Secrets come from the environment only (``*_env`` keys name the variable)."""
    if isinstance(data, dict) and key in data:
        raise ValueError(
            f"{key!r} must not be written in a file: set {env_key} to the name of an"
            " environment variable holding it"
        )
    return data


def refuse_removed_keys(data: Any, removed: dict[str, str]) -> Any:
    """A key that was removed gets a clear error saying why and what replaces it (not only
    "unknown key"), so an older configuration is fixed, not silently half-applied."""
    if isinstance(data, dict):
        for key, why in removed.items():
            if key in data:
                raise ValueError(f"{key!r} was removed: {why}")
    return data
