"""FastAGI command lines: argument quoting, splitting, and typed builders.

Asterisk splits a command line with res/res_agi.c ``parse_args()``: spaces and tabs separate
arguments unless inside double quotes; ``"`` toggles quoting (an opening quote after whitespace
starts an argument, so ``""`` is an empty argument); a backslash makes the next character literal
(and is itself dropped). There is no other escape: a newline cannot be sent at all (it ends the
command), so an argument with CR/LF is a ``LocalProtocolError``. ``run_agi()`` reads a command
into a ``char buf[AGI_BUF_LEN]`` (2048): a longer line would be cut and its tail run as a second
command, so builders refuse it.

The builders reproduce the exact lines of the recorded server (fastagi_session.txt), e.g.
``STREAM FILE beep ""``, ``SET VARIABLE IVR_STARTED "1"``, ``EXEC Set "CDR(ivr)=sales"``.
"""

from __future__ import annotations

import re

from acd.asterisk.errors import LocalProtocolError

#: res/res_agi.c: ``#define AGI_BUF_LEN 2048`` -- fgets() keeps room for the LF and the NUL.
MAX_COMMAND_BYTES = 2046

# Characters that never need quoting; anything else in an EXEC argument gets quotes, as the
# recorded server did (``EXEC Set "CDR(ivr)=sales"`` but ``EXEC NoSuchApplication foo``).
_PLAIN = re.compile(r"[A-Za-z0-9_.\-/+@#*:]+")
_UNSAFE_BARE = re.compile(r"[\s\"\\]")


def _check(arg: str) -> str:
    if "\n" in arg or "\r" in arg or "\0" in arg:
        raise LocalProtocolError(f"FastAGI argument cannot contain CR, LF or NUL: {arg!r}")
    return arg


def quote(arg: str) -> str:
    """Always-quoted form: ``"..."`` with ``\\`` and ``"`` backslash-escaped (parse_args rules)."""
    escaped = _check(arg).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def bare_or_quoted(arg: str) -> str:
    """The argument bare when parse_args would read it back unchanged, else quoted."""
    if arg == "" or _UNSAFE_BARE.search(_check(arg)):
        return quote(arg)
    return arg


def build(*words: str) -> str:
    """Join already formatted words into one command line, enforcing Asterisk's buffer size."""
    line = " ".join(words)
    _check(line)
    if len(line.encode("utf-8")) > MAX_COMMAND_BYTES:
        raise LocalProtocolError(f"FastAGI command longer than {MAX_COMMAND_BYTES} bytes")
    return line


def split_args(line: str) -> tuple[str, ...]:
    """Split a command line into argv exactly as res/res_agi.c parse_args() does."""
    argv: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    in_word = False
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and not in_word:
                in_word = True  # an opening quote starts a (possibly empty) argument
        elif char in " \t" and not quoted and not escaped:
            if in_word:
                argv.append("".join(current))
                current = []
            in_word = False
        elif char == "\\" and not escaped:
            escaped = True
        else:
            in_word = True
            current.append(char)
            escaped = False
    if in_word:
        argv.append("".join(current))
    return tuple(argv)


# --- typed builders ------------------------------------------------------------------------------


def answer() -> str:
    return "ANSWER"


def hangup(channel: str | None = None) -> str:
    return "HANGUP" if channel is None else build("HANGUP", bare_or_quoted(channel))


def noop() -> str:
    return "NOOP"


def stream_file(file: str, escape_digits: str = "", offset: int | None = None) -> str:
    words = ["STREAM FILE", bare_or_quoted(file), quote(escape_digits)]
    if offset is not None:
        words.append(str(offset))
    return build(*words)


def get_data(file: str, timeout_ms: int | None = None, max_digits: int | None = None) -> str:
    """GET DATA. res_agi.c handle_getdata(): argv[3] timeout (0 = default), argv[4] max digits,
    so a max without a timeout sends 0 in the timeout's place. The reply's result is the digit
    string (``(timeout)`` when the caller stopped, possibly after some digits)."""
    words = ["GET DATA", bare_or_quoted(file)]
    if timeout_ms is not None or max_digits is not None:
        words.append(str(timeout_ms if timeout_ms is not None else 0))
    if max_digits is not None:
        words.append(str(max_digits))
    return build(*words)


def get_option(file: str, escape_digits: str, timeout_ms: int | None = None) -> str:
    words = ["GET OPTION", bare_or_quoted(file), quote(escape_digits)]
    if timeout_ms is not None:
        words.append(str(timeout_ms))
    return build(*words)


def record_file(file: str, file_format: str, escape_digits: str, timeout_ms: int) -> str:
    """RECORD FILE with the four required arguments; ``timeout_ms`` -1 records until a key."""
    return build(
        "RECORD FILE",
        bare_or_quoted(file),
        bare_or_quoted(file_format),
        bare_or_quoted(escape_digits),
        str(timeout_ms),
    )


def wait_for_digit(timeout_ms: int) -> str:
    """``-1`` waits forever."""
    return build("WAIT FOR DIGIT", str(timeout_ms))


def say_number(number: int, escape_digits: str = "") -> str:
    return build("SAY NUMBER", str(number), quote(escape_digits))


def say_digits(digits: str, escape_digits: str = "") -> str:
    return build("SAY DIGITS", bare_or_quoted(digits), quote(escape_digits))


def set_variable(name: str, value: str) -> str:
    return build("SET VARIABLE", bare_or_quoted(name), quote(value))


# What MSet can carry unquoted: main/pbx_variables.c pbx_builtin_setvar_multiple splits its data
# on ',' and each pair on '=', and strips quotes; a value with any of those needs SET VARIABLE.
_MSET_SAFE = re.compile(r"[A-Za-z0-9_.\-/+@#*:]*")
# A variable, or a dialplan function with one plain argument (``CHANNEL(language)``): MSet's
# argument split keeps parentheses together (main/app.c ``__ast_app_separate_args``).
_MSET_NAME = re.compile(r"[A-Za-z0-9_.\-/+@#*:]+|[A-Za-z0-9_]+\([A-Za-z0-9_]+\)")


def mset_safe(value: str) -> bool:
    """Whether ``value`` travels in an MSet (over FastAGI or in the dialplan) as it is."""
    return _MSET_SAFE.fullmatch(value) is not None


def set_variables(pairs: tuple[tuple[str, str], ...]) -> str | None:
    """One ``EXEC MSet "A=1,B=2"`` setting every pair in one round trip, or None when a pair
    cannot travel that way (then send ``set_variable`` for each)."""
    if len(pairs) < 2:
        return None
    for name, value in pairs:
        if not _MSET_NAME.fullmatch(name) or not _MSET_SAFE.fullmatch(value):
            return None
    return exec_("MSet", *(f"{name}={value}" for name, value in pairs))


def get_variable(name: str) -> str:
    return build("GET VARIABLE", bare_or_quoted(name))


def get_full_variable(expression: str, channel: str | None = None) -> str:
    words = ["GET FULL VARIABLE", quote(expression)]
    if channel is not None:
        words.append(bare_or_quoted(channel))
    return build(*words)


def exec_(app: str, *args: str) -> str:
    """EXEC <app> "<a1,a2,...>": the application's arguments go as ONE argument joined with ','.

    res_agi.c handle_exec() passes argv[2] to the application unchanged, and applications split
    their data on ','. Plain words stay bare, anything else is quoted (as recorded).
    """
    if not app or not _PLAIN.fullmatch(app):
        raise LocalProtocolError(f"not an application name: {app!r}")
    if not args:
        return build("EXEC", app)
    data = ",".join(args)
    return build("EXEC", app, data if _PLAIN.fullmatch(data) else quote(data))


def channel_status(channel: str | None = None) -> str:
    return "CHANNEL STATUS" if channel is None else build("CHANNEL STATUS", bare_or_quoted(channel))


def verbose(message: str, level: int = 1) -> str:
    return build("VERBOSE", quote(message), str(level))


def database_get(family: str, key: str) -> str:
    return build("DATABASE GET", bare_or_quoted(family), bare_or_quoted(key))


def database_put(family: str, key: str, value: str) -> str:
    return build("DATABASE PUT", bare_or_quoted(family), bare_or_quoted(key), bare_or_quoted(value))


def database_del(family: str, key: str) -> str:
    return build("DATABASE DEL", bare_or_quoted(family), bare_or_quoted(key))


def set_music(on: bool, music_class: str | None = None) -> str:
    words = ["SET MUSIC", "on" if on else "off"]
    if music_class is not None:
        words.append(bare_or_quoted(music_class))
    return build(*words)


# Commands res_agi.c marks usable on a hung-up channel (the ``dead`` column of its commands[]
# table); every other command gets ``511`` once the caller is gone.
DEAD_CHANNEL_COMMANDS = frozenset(
    {
        ("ASYNCAGI", "BREAK"),
        ("DATABASE", "DEL"),
        ("DATABASE", "DELTREE"),
        ("DATABASE", "GET"),
        ("DATABASE", "PUT"),
        ("EXEC",),
        ("GET", "FULL", "VARIABLE"),
        ("GET", "VARIABLE"),
        ("NOOP",),
        ("SET", "VARIABLE"),
        ("VERBOSE",),
    }
)


def allowed_on_dead_channel(line: str) -> bool:
    """True if Asterisk still runs this command after the caller hung up (else it answers 511)."""
    words = tuple(word.upper() for word in split_args(line)[:3])
    return any(words[: len(key)] == key for key in DEAD_CHANNEL_COMMANDS)
