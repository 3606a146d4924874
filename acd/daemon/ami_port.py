"""What the daemon's parts need of the AMI client, as protocols (``AmiClient`` is the real one;
tests pass a fake): one place, so every part asks for the same thing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class ActionResult(Protocol):
    @property
    def ok(self) -> bool: ...


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
