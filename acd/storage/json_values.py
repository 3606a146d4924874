"""Whether a value can be carried as JSON by the spool: the walk both write commands and timeline
steps are checked with. Pure: no I/O.

JSON values here: str, int, float, bool, None, aware datetimes (the spool tags them), mappings
with scalar keys, lists and tuples of such values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

SCALARS: Final = (str, int, float, bool, type(None))
_PLAIN: Final = frozenset(SCALARS)  # exact types: a set lookup before any isinstance


def fault(value: object, trusted: tuple[type, ...] = ()) -> tuple[str, str, str] | None:
    """None if ``value`` can be spooled; else where in it the first bad value is (``.a[2].b``)
    and what is wrong, the words before and after that place. Instances of ``trusted`` are
    taken as checked (a type that checks itself when made). The path is built only on the way
    back from a fault: this runs at every submit."""
    if type(value) in _PLAIN or isinstance(value, SCALARS):
        return None
    if trusted and isinstance(value, trusted):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return None
        return "", f"naive datetime {value!r}", ""
    if isinstance(value, (dict, Mapping)):  # dict first: the ABC's own check is slow
        for key, item in value.items():
            if type(key) not in _PLAIN and not isinstance(key, SCALARS):
                return "", f"cannot spool a {type(key).__name__} key", ""
            if type(item) in _PLAIN:  # most values: no call
                continue
            found = fault(item, trusted)
            if found is not None:
                return f".{key}{found[0]}", found[1], found[2]
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if type(item) in _PLAIN:
                continue
            found = fault(item, trusted)
            if found is not None:
                return f"[{index}]{found[0]}", found[1], found[2]
        return None
    return "", f"cannot spool a {type(value).__name__}", f": {value!r}"


def refuse(value: object, where: str, trusted: tuple[type, ...] = ()) -> None:
    """ValueError naming the place (``where`` and the path in ``value``) of its first bad
    value, if it has one."""
    found = fault(value, trusted)
    if found is not None:
        path, before, after = found
        raise ValueError(f"{before} ({where}{path}){after}")
