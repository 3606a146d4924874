"""Variable substitution (``${...}``) and expressions (``$[...]``) of the dialplan: pure text.

SOURCE: main/pbx_variables.c ``pbx_substitute_variables_helper_full_location`` (nesting,
``${VAR:offset:length}``, functions when the name has a ``(``), ``parse_variable_name`` and
``substring``; main/ast_expr2.fl + ast_expr2.y for ``$[...]``: tokens in double quotes keep their
quotes, ``[0-9]+(.[0-9]+)?`` are numbers, operators by precedence ``|`` < ``&`` < comparisons <
``+ -`` < ``* / %`` < unary ``- !``; a comparison is numeric when both sides are numbers,
else a string comparison; ``|`` gives the left side unless it is empty or zero, ``&`` gives 0
unless both are non-empty and non-zero. The regex, ternary and function-call forms of
``$[...]`` are not supported and raise ``ExprError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class ExprError(ValueError):
    """A substitution or expression the simulator cannot evaluate."""


class Resolver(Protocol):
    def variable(self, name: str) -> str | None: ...
    def function(self, name: str, args: str) -> str: ...


def substitute(text: str, resolver: Resolver) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        start = text.find("$", i)
        if start < 0 or start + 1 >= len(text) or text[start + 1] not in "{[":
            stop = len(text) if start < 0 else start + 1
            out.append(text[i:stop])
            i = stop
            continue
        out.append(text[i:start])
        opener = text[start + 1]
        end = _closing(text, start + 2, opener)
        inner = text[start + 2 : end]
        inner = substitute(inner, resolver) if "$" in inner else inner
        out.append(_variable(inner, resolver) if opener == "{" else evaluate(inner))
        i = end + 1
    return "".join(out)


def _closing(text: str, pos: int, opener: str) -> int:
    closer = "}" if opener == "{" else "]"
    depth = 1
    while pos < len(text):
        c = text[pos]
        if c == "$" and pos + 1 < len(text) and text[pos + 1] == opener:
            depth += 1
            pos += 1
        elif c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise ExprError(f"missing {closer!r} in {text!r}")


def _variable(spec: str, resolver: Resolver) -> str:
    name, offset, length = _parse_name(spec)
    if "(" in name:
        fname, _, rest = name.partition("(")
        if not rest.endswith(")"):
            raise ExprError(f"function call without ')': {name!r}")
        value = resolver.function(fname, rest[:-1])
    else:
        value = resolver.variable(name) or ""
    return _substring(value, offset, length)


def _parse_name(spec: str) -> tuple[str, int, int | None]:
    parens = 0
    for i, c in enumerate(spec):
        if c == "(":
            parens += 1
        elif c == ")":
            parens -= 1
        elif c == ":" and parens == 0:
            numbers = re.match(r"(-?\d+)(?::(-?\d+))?", spec[i + 1 :])
            offset = int(numbers.group(1)) if numbers else 0
            length = int(numbers.group(2)) if numbers and numbers.group(2) else None
            return spec[:i], offset, length
    return spec, 0, None


def _substring(value: str, offset: int, length: int | None) -> str:
    if offset < 0:
        offset = max(len(value) + offset, 0)
    value = value[offset:]
    if length is None:
        return value
    return value[:length] if length >= 0 else value[: max(len(value) + length, 0)]


def split_args(data: str) -> list[str]:
    """Application arguments: commas outside quotes/parentheses/brackets separate; quotes and
    backslashes are removed (main/app.c ``__ast_app_separate_args`` with remove_chars)."""
    args: list[str] = []
    cur: list[str] = []
    depth = 0
    quoted = escaped = False
    for c in data:
        if escaped:
            cur.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c in "([" and not quoted:
            depth += 1
            cur.append(c)
        elif c in ")]" and not quoted and depth:
            depth -= 1
            cur.append(c)
        elif c == "," and not quoted and depth == 0:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    args.append("".join(cur))
    return args


# -- $[ ... ] --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:"
    r'(?P<str>"[^"]*")'
    r"|(?P<op>\|\||&&|==|!=|>=|<=|=~|~~|::|[|&=<>+\-*/%?!:(),])"
    r"|(?P<num>\d+(?:\.\d+)?(?![A-Za-z0-9.';\\_^#@\x80-\uffff]))"
    r"|(?P<word>(?:[A-Za-z0-9.';\\_^#@\x80-\uffff]|\$(?!\{))+)"
    r")"
)
_NUMBER = re.compile(r"\s*-?\d+(\.\d+)?\s*")
_UNSUPPORTED_OPS = {"=~", "~~", "::", "?", ":", ","}


@dataclass(frozen=True, slots=True)
class _Val:
    text: str
    numeric: bool

    def number(self) -> float | None:
        if self.numeric or _NUMBER.fullmatch(self.text):
            return float(self.text)
        return None

    def is_zero_or_null(self) -> bool:
        value = self.number()
        return self.text == "" or (value is not None and value == 0)


def _num(value: float) -> _Val:
    return _Val(format(value, ".16g"), True)


def _tokens(expr: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _TOKEN.match(expr, pos)
        if match is None or match.end() == pos:
            raise ExprError(f"cannot read expression {expr!r} at {pos}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "op" and value in _UNSUPPORTED_OPS:
            raise ExprError(f"operator {value!r} is not supported in $[{expr}]")
        out.append((kind, {"||": "|", "&&": "&", "==": "="}.get(value, value)))
        pos = match.end()
    return out


_LEVELS: tuple[tuple[str, ...], ...] = (
    ("|",),
    ("&",),
    ("=", "!=", "<", ">", "<=", ">="),
    ("+", "-"),
    ("*", "/", "%"),
)


def evaluate(expr: str) -> str:
    """The value of ``$[expr]`` as Asterisk prints it (``1``/``0`` for comparisons)."""
    tokens = _tokens(expr)
    if not tokens:
        return ""
    value, pos = _level(tokens, 0, 0, expr)
    if pos != len(tokens):
        raise ExprError(f"unexpected {tokens[pos][1]!r} in $[{expr}]")
    return value.text


def _level(tokens: list[tuple[str, str]], pos: int, level: int, expr: str) -> tuple[_Val, int]:
    if level == len(_LEVELS):
        return _unary(tokens, pos, expr)
    left, pos = _level(tokens, pos, level + 1, expr)
    while pos < len(tokens) and tokens[pos][0] == "op" and tokens[pos][1] in _LEVELS[level]:
        op = tokens[pos][1]
        right, pos = _level(tokens, pos + 1, level + 1, expr)
        left = _apply(op, left, right, expr)
    return left, pos


def _unary(tokens: list[tuple[str, str]], pos: int, expr: str) -> tuple[_Val, int]:
    if pos >= len(tokens):
        raise ExprError(f"incomplete expression $[{expr}]")
    kind, value = tokens[pos]
    if (kind, value) == ("op", "-"):
        operand, pos = _unary(tokens, pos + 1, expr)
        return _num(-_need_number(operand, expr)), pos
    if (kind, value) == ("op", "!"):
        operand, pos = _unary(tokens, pos + 1, expr)
        return _num(1 if operand.is_zero_or_null() else 0), pos
    if (kind, value) == ("op", "("):
        inner, pos = _level(tokens, pos + 1, 0, expr)
        if pos >= len(tokens) or tokens[pos] != ("op", ")"):
            raise ExprError(f"missing ')' in $[{expr}]")
        return inner, pos + 1
    if kind == "op":
        raise ExprError(f"unexpected {value!r} in $[{expr}]")
    if pos + 1 < len(tokens) and tokens[pos + 1] == ("op", "("):
        raise ExprError(f"function calls inside $[] are not supported: $[{expr}]")
    return _Val(value, kind == "num"), pos + 1


def _need_number(value: _Val, expr: str) -> float:
    number = value.number()
    if number is None:
        raise ExprError(f"non-numeric argument {value.text!r} in $[{expr}]")
    return number


_COMPARE: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "!=": lambda c: c != 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def _apply(op: str, a: _Val, b: _Val, expr: str) -> _Val:
    if op == "|":
        return b if a.is_zero_or_null() else a
    if op == "&":
        return _num(0) if a.is_zero_or_null() or b.is_zero_or_null() else a
    if op in _COMPARE:
        if a.numeric and b.numeric:
            x, y = float(a.text), float(b.text)
            cmp = (x > y) - (x < y)
        else:
            cmp = (a.text > b.text) - (a.text < b.text)
        return _num(1 if _COMPARE[op](cmp) else 0)
    x, y = _need_number(a, expr), _need_number(b, expr)
    if op in "/%" and y == 0:
        raise ExprError(f"division by zero in $[{expr}]")
    if op == "+":
        return _num(x + y)
    if op == "-":
        return _num(x - y)
    if op == "*":
        return _num(x * y)
    if op == "/":
        return _num(x / y if (x / y) != int(x / y) else int(x / y))
    return _num(x % y)
