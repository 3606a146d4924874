"""What the daemon's parts need of the AMI client, as protocols (``AmiClient`` is the real one;
tests pass a fake): one place, so every part asks for the same thing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class ActionResult(Protocol):
    """An action's outcome (``acd.asterisk.ami.client.ActionCompleted``)."""

    @property
    def ok(self) -> bool: ...

    @property
    def message(self) -> str: ...  # Asterisk's reason when not ok

    @property
    def action_id(self) -> str: ...  # what its later events (OriginateResponse) carry


class AmiActions(Protocol):
    async def action(
        self,
        name: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - AmiClient's signature
    ) -> ActionResult: ...


class LinkedAmi(AmiActions, Protocol):
    """An AMI client that also says whether its link is up."""

    @property
    def connected(self) -> bool: ...
