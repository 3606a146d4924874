"""The exit codes of every ``hotline`` command, in one place (README "Exit codes").

Scripts and service managers act on them: 1 means the command did its work and found something
to look at, 2 that the operator must fix the command line, an input file or the configuration
before trying again, 3 that something outside hotline (a database, the daemon, a port) was not
available and a retry later may succeed.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: the command ran and found problems (protocol errors in a capture, a refused request...)
    PROBLEMS = 1
    #: bad usage, invalid input or configuration
    USAGE = 2
    #: a needed service or resource (database, daemon, a listening port) was unavailable
    UNAVAILABLE = 3
    #: stopped with Ctrl-C (128 + SIGINT, as a shell reports it)
    INTERRUPTED = 130
