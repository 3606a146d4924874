"""``ivr.yaml``: the voice menus a caller walks through before being queued.

An option maps one key (``0``-``9``, ``*``, ``#``) to an action. Actions are one model with a
``type`` rather than a pydantic tagged union, so an error's key path stays the YAML path
(``menus[1].options.2.queue``) instead of gaining the union tag.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from acd.settings.common import FrozenModel, Identifier, PositiveSeconds, Prompts, keys_as_str

ActionType = Literal["queue", "submenu", "self_service", "callback", "agent", "repeat"]
SelfService = Literal["order_status"]

# Which optional keys each action type takes; the rest must be absent.
_ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "queue": ("queue", "priority", "reason"),
    "submenu": ("menu",),
    "self_service": ("service",),
    "callback": ("queue",),
    "agent": ("queue",),
    "repeat": (),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "queue": ("queue",),
    "submenu": ("menu",),
    "self_service": ("service",),
}
_OPTIONAL_KEYS = ("queue", "priority", "reason", "menu", "service")


class IvrAction(FrozenModel):
    type: ActionType
    queue: Identifier | None = None  # queue / callback / agent (agent: default_queue if unset)
    priority: int | None = Field(default=None, ge=0, le=10)  # overrides the queue's priority
    reason: Identifier | None = None  # travels with the call (screen pop, reports)
    menu: Identifier | None = None  # submenu target
    service: SelfService | None = None  # self_service

    @model_validator(mode="after")
    def _keys_match_type(self) -> IvrAction:
        for key in _REQUIRED.get(self.type, ()):
            if getattr(self, key) is None:
                raise ValueError(f"action type {self.type!r} expects key {key!r}")
        allowed = _ACTION_KEYS[self.type]
        for key in _OPTIONAL_KEYS:
            if key not in allowed and getattr(self, key) is not None:
                expected = ", ".join(allowed) or "no other keys"
                raise ValueError(
                    f"key {key!r} does not apply to action type {self.type!r} (expected {expected})"
                )
        return self


MenuKey = Annotated[str, Field(pattern=r"^[0-9*#]$")]


class Menu(FrozenModel):
    id: Identifier
    prompt: Prompts
    options: Annotated[dict[MenuKey, IvrAction], BeforeValidator(keys_as_str)] = Field(min_length=1)
    timeout_s: PositiveSeconds = 5.0
    max_retries: int = Field(default=3, ge=0, le=10)
    invalid_prompt: Prompts | None = None
    timeout_prompt: Prompts | None = None
    default_action: IvrAction = IvrAction(type="agent")  # after max_retries without a choice


class IvrFile(FrozenModel):
    """The whole of ``ivr.yaml``."""

    languages: tuple[Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")], ...] = Field(
        min_length=1
    )
    default_language: str
    start_menu: Identifier
    max_depth: int = Field(default=3, ge=1, le=10)  # the start menu is depth 1
    invalid_prompt: Prompts  # used when a menu sets none
    timeout_prompt: Prompts
    menus: tuple[Menu, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_language_listed(self) -> IvrFile:
        if self.default_language not in self.languages:
            raise ValueError(
                f"default_language expected one of the languages {list(self.languages)},"
                f" got {self.default_language!r}"
            )
        return self
