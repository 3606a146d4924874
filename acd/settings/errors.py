"""Configuration errors that name the file, the key path and what was expected.

pydantic's ``ValidationError`` speaks in ``loc`` tuples and "Input should be ..."; operators editing
YAML need ``queues.yaml: queues[2].relax[0].after_s: expected a number, got 'soon'``. Every
validation stage collects ``ConfigIssue`` values so one run reports all problems at once.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: str  # e.g. "queues.yaml"
    path: str  # e.g. "queues[2].relax[0].after_s"; "" for the whole file
    message: str  # what was expected (and what was found)

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """Raised by ``load_settings`` with every problem found, not just the first."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def format_path(loc: Iterable[int | str]) -> str:
    """``("queues", 2, "relax", 0, "after_s")`` -> ``queues[2].relax[0].after_s``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(model: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class that owns the last key of ``loc`` (to list its allowed keys)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        else:
            # a list index or a dict key: step into the element type
            args = [a for a in get_args(current) if a is not Ellipsis]
            if not args:
                return None
            current = args[-1]
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X`` so optional sub-sections are walked like required ones."""
    if get_origin(annotation) in (Union, types.UnionType):
        candidates = [a for a in get_args(annotation) if a is not type(None)]
        if len(candidates) == 1:
            return candidates[0]
    return annotation


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def issues_from_validation(
    file: str, exc: ValidationError, model: type[BaseModel]
) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        bad_key = bool(loc) and loc[-1] == "[key]"  # pydantic's marker for a bad mapping key
        if bad_key:
            loc = loc[:-1]
        if kind == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            # secrets resolved from the environment are not keys one may write
            keys = [n for n, f in owner.model_fields.items() if not f.exclude] if owner else []
            allowed = ", ".join(keys)
            message = f"unknown key (expected one of: {allowed})" if allowed else "unknown key"
        elif kind == "missing":
            message = "required key is missing"
        else:
            text = str(err["msg"])
            # model validators raise ValueError("...") -> "Value error, ..."
            text = text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
            text = text.replace("Input should be", "expected", 1)
            if kind == "string_pattern_mismatch":
                text = f"expected text matching {err.get('ctx', {}).get('pattern', '')!r}"
            if kind.endswith("_parsing"):
                # "expected a valid integer, unable to parse string as an integer": say it once
                text = text.split(", ", 1)[0]
            if kind in ("model_type", "model_attributes_type", "dict_type"):
                text = "expected a mapping"
            if kind != "value_error" and "input" in err:
                text += f", got {_describe(err['input'])}"
            message = text
        if bad_key:
            message = f"invalid key: {message}"
        issues.append(ConfigIssue(file, format_path(loc), message))
    return issues
