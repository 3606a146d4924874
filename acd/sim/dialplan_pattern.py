"""Extension patterns of extensions.conf: matching and the order Asterisk tries them in.

SOURCE: main/pbx.c ``ext_cmp`` / ``ext_cmp_pattern_pos`` (sort order) and
``_extension_match_core`` (matching). A pattern starts with ``_``; ``X`` is [0-9], ``Z`` [1-9],
``N`` [2-9] (either case: the shared README's ``_agent[2-9]`` gotcha), ``[...]`` a set with
ranges, ``.`` one or more characters, ``!`` zero or more. ``-`` outside a set is eye candy and
ignored. Literal extensions sort before patterns; among patterns the more specific one first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WILD = {".": (0x18000, ".+"), "!": (0x28000, ".*")}
_CLASSES = {"N": (0x0800 | ord("2"), "23456789"), "X": (0x0A00 | ord("0"), "0123456789")}
_CLASSES["Z"] = (0x0900 | ord("1"), "123456789")
_END = 0x30000


class PatternError(ValueError):
    """A malformed pattern (e.g. an unclosed ``[``)."""


def _bits(chars: str) -> tuple[int, ...]:
    """The 32-byte bitmap of ext_cmp_pattern_pos, inverted so that a sort puts the set with
    the lower characters first (pbx.c compares the bitmaps with memcmp(right, left))."""
    table = bytearray(32)
    for c in chars:
        code = ord(c)
        table[code // 8] |= 1 << (7 - code % 8)
    return tuple(255 - b for b in table)


@dataclass(frozen=True, slots=True)
class Pattern:
    """One extension name, literal or ``_`` pattern, ready to match and to sort."""

    text: str
    regex: re.Pattern[str]
    key: tuple[object, ...]

    @property
    def is_pattern(self) -> bool:
        return self.text.startswith("_")

    def matches(self, exten: str) -> bool:
        return self.regex.fullmatch(exten) is not None


def compile_pattern(text: str) -> Pattern:
    if not text.startswith("_"):
        return Pattern(text, re.compile(re.escape(text.replace("-", ""))), (0, text))
    parts: list[str] = []
    key: list[tuple[int, tuple[int, ...]]] = []
    body = text[1:]
    i = 0
    while i < len(body):
        c = body[i]
        i += 1
        if c == "-":
            continue
        if c in _WILD:
            score, regex = _WILD[c]
            parts.append(regex)
            key.append((score, ()))
        elif c.upper() in _CLASSES:
            score, chars = _CLASSES[c.upper()]
            parts.append(f"[{chars}]")
            key.append((score, _bits(chars)))
        elif c == "[":
            end = body.find("]", i)
            if end < 0:
                raise PatternError(f"unclosed [ in pattern {text!r}")
            chars = _expand_set(body[i:end])
            i = end + 1
            if not chars:
                continue  # pbx.c skips an empty set
            parts.append("[" + "".join(re.escape(ch) for ch in sorted(set(chars))) + "]")
            key.append((len(set(chars)) * 0x100 | ord(min(chars)), _bits(chars)))
        else:
            parts.append(re.escape(c))
            key.append((0x0100 | ord(c), _bits(c)))
    key.append((_END, ()))
    return Pattern(text, re.compile("".join(parts), re.DOTALL), (1, tuple(key)))


def _expand_set(spec: str) -> str:
    out: list[str] = []
    j = 0
    while j < len(spec):
        if j + 2 < len(spec) and spec[j + 1] == "-":
            out.extend(chr(code) for code in range(ord(spec[j]), ord(spec[j + 2]) + 1))
            j += 3
        else:
            out.append(spec[j])
            j += 1
    return "".join(out)
