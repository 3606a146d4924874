"""structlog set-up: JSON lines in production, coloured console in development.

Every module logs key-value events through ``log = get_logger(__name__)``:
``log.warning("fastagi_session_lost", call_id=call_id, error=str(exc))``. Standard-library
loggers (uvicorn, SQLAlchemy, ...) are routed through the same processors, so every line has the
same shape. Context such as ``call_id``, ``uniqueid``, ``agent`` and ``queue`` is bound per call
with ``bind_call()`` (contextvars, so it follows the call's asyncio task). Secrets are redacted by
key name before rendering: a secret must never reach a log line, even by mistake.

Until ``configure()`` runs (tests, benchmarks, commands that never configure logging) events go
to the standard library as one ``event key=value ...`` message, so its levels and handlers decide
what is shown, as they did for the %-style lines: nothing is printed to stdout.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "***"
_SECRET_WORDS = ("secret", "password", "passwd", "token", "authorization", "key")


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for name in list(event_dict):
        lowered = name.lower()
        if any(word in lowered for word in _SECRET_WORDS) and event_dict[name] is not None:
            event_dict[name] = REDACTED
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]


def configure(
    fmt: Literal["json", "console"] = "console", level: str = "INFO", stream: Any = None
) -> None:
    """Configure structlog and the stdlib root logger once, at start-up."""
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream is None and sys.stderr.isatty())
    shared = _shared_processors()
    _install(
        [
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        cache=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _install(processors: list[Processor], *, cache: bool) -> None:
    # A logger cached on first use keeps the processor list object it was made with: filling
    # the one configured list in place lets it follow a later configure() and
    # structlog.testing.capture_logs(), which swaps that same list's contents.
    current: list[Processor] = structlog.get_config()["processors"]
    current[:] = processors
    structlog.configure(
        processors=current,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=cache,
    )


def _render_for_stdlib(_: WrappedLogger, __: str, event_dict: EventDict) -> Any:
    """Before configure(): one plain message for the stdlib logger; it adds the traceback."""
    kwargs = {k: event_dict.pop(k) for k in ("exc_info", "stack_info") if k in event_dict}
    event = event_dict.pop("event", "")
    pairs = (f"{k}={_plain(v)}" for k, v in event_dict.items())
    return (" ".join([str(event), *pairs]),), kwargs


def _plain(value: object) -> str:
    text = str(value)
    return repr(text) if not text or any(c.isspace() for c in text) else text


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


@contextmanager
def bind_call(**fields: str | None) -> Iterator[None]:
    """Bind call context (call_id, uniqueid, agent, queue) for the duration of a call handler."""
    clean: MutableMapping[str, str] = {k: v for k, v in fields.items() if v is not None}
    with structlog.contextvars.bound_contextvars(**clean):
        yield


if not structlog.is_configured():
    _install(
        [
            structlog.stdlib.filter_by_level,
            structlog.contextvars.merge_contextvars,
            redact_secrets,
            _render_for_stdlib,
        ],
        cache=False,
    )
