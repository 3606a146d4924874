"""One AMI message: an ordered list of headers, repeated headers kept.

AMI messages are ``Key: Value`` lines ended by a blank line. A header may repeat (``Variable``,
``Output``, ``ChanVariable``) and order matters, so a message is a tuple of pairs, not a dict.
Look-ups are case-insensitive because Asterisk accepts lower-case header names on input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from acd.asterisk.errors import LocalProtocolError


class Kind(Enum):
    EVENT = "Event"
    RESPONSE = "Response"
    ACTION = "Action"
    OTHER = "Other"


def _kind_of(first_key: str) -> Kind:
    key = first_key.lower()
    if key == "event":
        return Kind.EVENT
    if key == "response":
        return Kind.RESPONSE
    if key == "action":
        return Kind.ACTION
    return Kind.OTHER


@dataclass(frozen=True, slots=True)
class Message:
    """An immutable AMI message. ``headers`` keeps wire order and duplicates."""

    headers: tuple[tuple[str, str], ...]
    _index: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _lookup(self) -> dict[str, str]:
        # Built on first look-up, not at parse time: most events are routed on one or two headers
        # and many are dropped unread. First occurrence wins (filled in reverse order).
        index = self._index
        if not index and self.headers:
            for key, value in reversed(self.headers):
                index[key.lower()] = value
        return index

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, str]] = (), /, **single: str) -> Message:
        """Build from pairs (kept in order) followed by keyword headers."""
        return cls(tuple(pairs) + tuple(single.items()))

    @property
    def kind(self) -> Kind:
        return _kind_of(self.headers[0][0]) if self.headers else Kind.OTHER

    @property
    def name(self) -> str:
        """The value of the first header: the event name, the response status or the action."""
        return self.headers[0][1] if self.headers else ""

    @property
    def action_id(self) -> str | None:
        return self._lookup().get("actionid")

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._lookup().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        try:
            return self._lookup()[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lookup()

    def get_all(self, key: str) -> list[str]:
        """Every value of a repeated header, in wire order."""
        wanted = key.lower()
        return [value for k, value in self.headers if k.lower() == wanted]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    def as_dict(self) -> dict[str, str | list[str]]:
        """JSON-friendly view: repeated headers become lists."""
        out: dict[str, str | list[str]] = {}
        for key, value in self.headers:
            prev = out.get(key)
            if prev is None:
                out[key] = value
            elif isinstance(prev, list):
                prev.append(value)
            else:
                out[key] = [prev, value]
        return out


def encode(message: Message) -> bytes:
    """Wire form: ``Key: Value`` CR LF per header and a blank line.

    Raises ``LocalProtocolError`` for a header that would break framing (CR or LF inside).
    """
    parts: list[str] = []
    for key, value in message.headers:
        if not key or any(c in key for c in ":\r\n") or "\r" in value or "\n" in value:
            raise LocalProtocolError(f"header {key!r}: {value!r} cannot be framed")
        parts.append(f"{key}: {value}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("utf-8")
