"""Reading one YAML file of the config dir into plain data, with file:line:column errors.

A duplicate key in a mapping is an error too: PyYAML would silently keep the last one, and an
operator who wrote ``priority`` twice meant one of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from acd.settings.errors import ConfigError, ConfigIssue


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return ""
    # PyYAML counts from 0; editors count from 1.
    return f"{mark.line + 1}:{mark.column + 1}"


def read_yaml(path: Path) -> dict[str, Any]:
    """The top-level mapping of ``path``; raises ConfigError naming file(:line:column)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, "", f"file not found: {path}")]) from None
    except OSError as exc:
        raise ConfigError([ConfigIssue(name, "", f"cannot read {path}: {exc}")]) from None
    except UnicodeDecodeError as exc:
        # Saved in a legacy encoding (GBK, Latin-1...): name the first bad byte, not a traceback.
        bad = exc.object[exc.start : exc.start + 1].hex()
        raise ConfigError(
            [ConfigIssue(name, "", f"not UTF-8 text: byte 0x{bad} at offset {exc.start}")]
        ) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = _position(exc)
        problem = getattr(exc, "problem", None) or str(exc)
        file = f"{name}:{where}" if where else name
        raise ConfigError([ConfigIssue(file, "", f"YAML syntax error: {problem}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        got = type(data).__name__
        raise ConfigError([ConfigIssue(name, "", f"expected a mapping at the top, got {got}")])
    return data
