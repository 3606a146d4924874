"""Start-up checks of ``hotline run``, done before anything connects or writes.

A fault found here stops the daemon with one line naming the cause and the README's exit code,
before the MQTT client connects (a second daemon with the same client id would throw the running
one off the broker), before AMI logs in and before the database is migrated.

Two kinds:

* ``config_faults``: what the configuration itself gets wrong (exit 2): an unsupported database
  URL, a database file or directory that cannot be used, a spool or recording directory that
  cannot be written, an unusable recording key, two servers on one address, a standby daemon
  without PostgreSQL. ``hotline
  check-config`` runs the same checks, so it rejects everything ``run`` would.
* ``service_faults``: what this machine is not offering right now: a listening port already
  taken (exit 3), an address that is not this machine's (exit 2), PostgreSQL unreachable (exit 3)
  or not migrated (exit 2).

Relative paths are resolved against the working directory, as the daemon does.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from acd.exitcodes import ExitCode
from acd.settings.errors import ConfigIssue
from acd.settings.settings import Settings
from acd.storage.engine import UnsupportedDatabase, create_engine, normalise_url
from acd.storage.errors import is_transient
from acd.storage.migrate import current_revisions, head_revisions
from recordings.crypto import RecordingKeyError, parse_key

SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database file
CONNECT_TIMEOUT_S = 5.0
# SQLSTATEs that a retry cannot fix: the URL names a database (3D000 invalid_catalog_name) or a
# user / password (class 28, invalid_authorization_specification) the server does not accept.
_CONFIG_SQLSTATES = ("3D000", "28")


@dataclass(frozen=True, slots=True)
class Fault:
    """One reason not to start: the exit code, and where and what (like a ``ConfigIssue``)."""

    code: ExitCode
    file: str  # the config file (or "--db") the cause lives in
    path: str  # the key path in it, "" for the whole file
    message: str

    def __str__(self) -> str:
        return str(self.issue())

    def issue(self) -> ConfigIssue:
        return ConfigIssue(self.file, self.path, self.message)


def _usage(file: str, path: str, message: str) -> Fault:
    return Fault(ExitCode.USAGE, file, path, message)


# --- what the configuration gets wrong ----------------------------------------------------------


def config_faults(
    settings: Settings, *, db_url: str | None = None, standby: bool = False
) -> list[Fault]:
    """Every configuration fault ``run`` would stop on; ``db_url`` is ``--db`` when given,
    ``standby`` is ``run --standby``."""
    faults: list[Fault] = []
    system = settings.system
    db_where = ("--db", "") if db_url else ("hotline.yaml", "database.url")
    url, fault = database_url(db_url or system.database.url, *db_where)
    if fault is not None:
        faults.append(fault)
    elif url is not None:
        faults += _sqlite_file_faults(url, *db_where)
        faults += _standby_faults(settings, url, standby)
    faults += _directory_faults(
        Path(system.database.spool_dir), "hotline.yaml", "database.spool_dir", "the write spool"
    )
    if settings.recording.enabled:
        faults += _directory_faults(
            Path(settings.recording.directory), "recording.yaml", "directory", "recordings"
        )
    faults += _recording_key_faults(settings)
    fastagi, http = system.fastagi, system.http
    if (fastagi.host, fastagi.port) == (http.host, http.port):
        faults.append(
            _usage(
                "hotline.yaml",
                "http.port",
                f"the HTTP API and FastAGI cannot both listen on {http.host}:{http.port}",
            )
        )
    return faults


def _standby_faults(settings: Settings, url: URL, standby: bool) -> list[Fault]:
    """A standby daemon shares the active one's database: only PostgreSQL can be shared (an
    SQLite file belongs to one daemon, ``acd.daemon.leadership.FileLeadership``)."""
    fastagi = settings.fastagi
    if standby and fastagi.standby_address is None:
        return [
            _usage(
                "hotline.yaml",
                "fastagi.standby_host",
                "run --standby listens on fastagi.standby_host (and standby_port): set them,"
                " the address the dialplan tries when the active daemon does not answer",
            )
        ]
    if url.get_backend_name() == "postgresql":
        return []
    if standby:
        return [_usage("hotline.yaml", "database.url", _NEEDS_POSTGRESQL)]
    if fastagi.standby_address is not None:
        return [_usage("hotline.yaml", "fastagi.standby_host", _NEEDS_POSTGRESQL)]
    return []


_NEEDS_POSTGRESQL = (
    "a standby daemon needs PostgreSQL, shared by both daemons: database.url is SQLite, which"
    " one daemon uses alone (set a postgresql:// URL, or remove fastagi.standby_host)"
)


def database_url(text: str, file: str, path: str) -> tuple[URL | None, Fault | None]:
    try:
        return normalise_url(text), None
    except (UnsupportedDatabase, ArgumentError, ValueError) as exc:
        return None, _usage(file, path, str(exc))


def _sqlite_file_faults(url: URL, file: str, path: str) -> list[Fault]:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return []
    database = Path(str(url.database))
    if database.exists():
        if not database.is_file():
            return [_usage(file, path, f"the SQLite database {database} is not a file")]
        if not os.access(database, os.R_OK | os.W_OK):
            return [_usage(file, path, f"the SQLite database {database} is not writable")]
        with database.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            return [_usage(file, path, f"{database} is not an SQLite database")]
        return []
    return _directory_faults(database.parent, file, path, "the SQLite database")


def _directory_faults(directory: Path, file: str, path: str, what: str) -> list[Fault]:
    """The daemon creates a missing directory; it must be possible and the result writable."""
    if directory.exists():
        if not directory.is_dir():
            return [_usage(file, path, f"{directory} (for {what}) is not a directory")]
        if not os.access(directory, os.W_OK | os.X_OK):
            return [_usage(file, path, f"{directory} (for {what}) is not writable")]
        return []
    ancestor = directory.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return [_usage(file, path, f"cannot create {directory} (for {what}): {ancestor} is a file")]
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return [
            _usage(file, path, f"cannot create {directory} (for {what}): {ancestor} is read-only")
        ]
    return []


def _recording_key_faults(settings: Settings) -> list[Fault]:
    encryption = settings.recording.encryption
    if not encryption.enabled or encryption.key is None:
        return []  # an unset key is already a missing-secret error of load_settings
    try:
        parse_key(encryption.key.get_secret_value())
    except RecordingKeyError as exc:
        return [_usage("recording.yaml", "encryption.key_env", f"${encryption.key_env}: {exc}")]
    return []


# --- what this machine is not offering right now ------------------------------------------------


async def service_faults(
    settings: Settings, *, db_url: str | None = None, standby: bool = False
) -> list[Fault]:
    """Ports the daemon will listen on (``standby``: the standby address), and a PostgreSQL
    database it will use."""
    system = settings.system
    agi_host, agi_port, prefix = system.fastagi.host, system.fastagi.port, ""
    if standby and system.fastagi.standby_address is not None:
        (agi_host, agi_port), prefix = system.fastagi.standby_address, "standby_"
    faults = [
        fault
        for fault in (
            listen_fault(agi_host, agi_port, "fastagi", "FastAGI", prefix=prefix),
            listen_fault(system.http.host, system.http.port, "http", "the HTTP API"),
        )
        if fault is not None
    ]
    url, _ = database_url(db_url or system.database.url, "", "")
    if url is not None and url.get_backend_name() == "postgresql":
        fault = await _postgresql_fault(url, "--db" if db_url else "hotline.yaml")
        if fault is not None:
            faults.append(fault)
    return faults


def listen_fault(
    host: str, port: int, section: str, what: str, *, prefix: str = ""
) -> Fault | None:
    """Bind (not listen) with the options asyncio's and uvicorn's servers use (SO_REUSEADDR):
    a port another process listens on refuses it, one merely in TIME_WAIT does not. The keys
    named are ``<section>.<prefix>host`` and ``...port``."""
    where = f"{section}.{prefix}host" if port == 0 else f"{section}.{prefix}port"
    try:
        infos = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
        )
    except socket.gaierror as exc:
        return _usage("hotline.yaml", f"{section}.{prefix}host", f"{what} address {host!r}: {exc}")
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                return _bind_fault(exc, host, port, where, what)
    return None


def _bind_fault(exc: OSError, host: str, port: int, where: str, what: str) -> Fault:
    if exc.errno == errno.EADDRINUSE:
        return Fault(
            ExitCode.UNAVAILABLE,
            "hotline.yaml",
            where,
            f"{what} cannot listen on {host}:{port}: the port is in use (another hotline?)",
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        message = f"{what} cannot listen on {host}: not an address of this machine"
        return _usage("hotline.yaml", where.removesuffix("port") + "host", message)
    return _usage("hotline.yaml", where, f"{what} cannot listen on {host}:{port}: {exc.strerror}")


async def _postgresql_fault(url: URL, file: str) -> Fault | None:
    path = "" if file == "--db" else "database.url"
    shown = url.render_as_string(hide_password=True)
    engine = create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_S})
    try:
        current = set(await current_revisions(engine))  # reads only: nothing is written here
    except Exception as exc:
        if not is_transient(exc):
            raise
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0] or type(exc).__name__
        if _names_what_the_server_lacks(exc):
            return _usage(file, path, f"database {shown} refused: {reason}")
        return Fault(ExitCode.UNAVAILABLE, file, path, f"database unreachable at {shown}: {reason}")
    finally:
        await engine.dispose()
    heads = set(head_revisions())
    if current != heads:
        have = ", ".join(sorted(current)) or "nothing"
        return _usage(
            file,
            path,
            f"database {shown} is at schema {have}, this version needs "
            f"{', '.join(sorted(heads))}: run `hotline db upgrade`",
        )
    return None


def _names_what_the_server_lacks(exc: BaseException) -> bool:
    sqlstate = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
    return sqlstate.startswith(_CONFIG_SQLSTATES)
