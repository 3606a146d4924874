"""The FastAGI environment block: the ``agi_*: value`` lines Asterisk sends before any command.

Asterisk writes one ``agi_<name>: <value>`` line per variable and an empty line (shared README;
fastagi_session.txt). ``agi_network_script`` is the URL path after ``agi://host:port/`` *including*
any ``?query``, which is how the dialplan passes route parameters (``agent?action=login``).
Dialplan arguments arrive as ``agi_arg_1`` .. ``agi_arg_N``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import parse_qsl, urlsplit

_ARG_PREFIX = "agi_arg_"


@dataclass(frozen=True)
class AgiEnvironment:
    """Everything Asterisk told us about the call when the FastAGI session opened."""

    #: every ``agi_*`` variable as received (keys keep their ``agi_`` prefix), in wire order
    variables: Mapping[str, str]
    #: the script as Asterisk sent it, query included: ``ivr-dtmf?lang=en&mode=test``
    network_script: str
    #: the route key: the script without the query and surrounding slashes: ``ivr-dtmf``
    script_path: str
    #: the query string parsed into a mapping (last value wins for a repeated key)
    params: Mapping[str, str]
    #: the dialplan arguments, agi_arg_1..N in numeric order
    args: tuple[str, ...]

    def get(self, name: str, default: str = "") -> str:
        """A variable by name, with or without the ``agi_`` prefix."""
        key = name if name.startswith("agi_") else f"agi_{name}"
        return self.variables.get(key, default)

    # The fields a contact-center script reads most; all are plain strings as sent.
    @property
    def request(self) -> str:
        return self.get("request")

    @property
    def channel(self) -> str:
        return self.get("channel")

    @property
    def uniqueid(self) -> str:
        return self.get("uniqueid")

    @property
    def callerid(self) -> str:
        return self.get("callerid")

    @property
    def calleridname(self) -> str:
        return self.get("calleridname")

    @property
    def context(self) -> str:
        return self.get("context")

    @property
    def extension(self) -> str:
        return self.get("extension")

    @property
    def priority(self) -> str:
        return self.get("priority")

    @property
    def language(self) -> str:
        return self.get("language")

    @property
    def channel_type(self) -> str:
        return self.get("type")

    @property
    def dnid(self) -> str:
        return self.get("dnid")

    @property
    def accountcode(self) -> str:
        return self.get("accountcode")

    @property
    def version(self) -> str:
        return self.get("version")


def split_script(network_script: str) -> tuple[str, dict[str, str]]:
    """``"agent?action=login"`` -> ``("agent", {"action": "login"})``."""
    path, _, query = network_script.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True))
    return path.strip("/"), params


def parse_environment(pairs: Iterable[tuple[str, str]]) -> AgiEnvironment:
    """Build the environment from the ``(key, value)`` pairs of the block, in wire order."""
    variables: dict[str, str] = {}
    numbered: dict[int, str] = {}
    for key, value in pairs:
        variables[key] = value
        suffix = key[len(_ARG_PREFIX) :] if key.startswith(_ARG_PREFIX) else ""
        if suffix.isdigit():
            numbered[int(suffix)] = value
    script = variables.get("agi_network_script")
    if script is None:
        # Not a network request (or an older Asterisk): derive it from the agi:// URL.
        parts = urlsplit(variables.get("agi_request", ""))
        script = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    path, params = split_script(script)
    return AgiEnvironment(
        variables=MappingProxyType(variables),
        network_script=script,
        script_path=path,
        params=MappingProxyType(params),
        args=tuple(numbered[i] for i in sorted(numbered)),
    )
