"""Telling a database outage (retry later) from a refused write (retrying cannot help)."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

# The statement itself is wrong for this database: a bug or bad data. Retrying forever would
# block every later write behind it, so such a command is set aside instead.
_PERMANENT = (
    sa_exc.IntegrityError,
    sa_exc.DataError,
    sa_exc.ProgrammingError,
    sa_exc.NotSupportedError,
)


def is_transient(error: BaseException) -> bool:
    """True when the same write may succeed later: the connection or the server failed.

    Anything from the driver that is not a statement-level refusal counts as an outage:
    asyncpg reports a terminated backend or a database not accepting connections as a plain
    ``Error`` (SQLAlchemy's asyncpg dialect maps only constraint/syntax/interface classes),
    and SQLite's "database is locked" / "unable to open database file" are OperationalError.
    """
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        return not isinstance(error, _PERMANENT)
    return isinstance(
        error, OSError | TimeoutError | sa_exc.TimeoutError | sa_exc.DisconnectionError
    )
