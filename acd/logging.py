"""structlog set-up: JSON lines in production, coloured console in development.

Standard-library loggers (``logging.getLogger(__name__)``, used by the protocol adapters) are
routed through the same processors, so every line has the same shape. Context such as
``call_id``, ``uniqueid``, ``agent`` and ``queue`` is bound per call with ``bind_call()``
(contextvars, so it follows the call's asyncio task). Secrets are redacted by key name before
rendering: a secret must never reach a log line, even by mistake.
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
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
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


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


@contextmanager
def bind_call(**fields: str | None) -> Iterator[None]:
    """Bind call context (call_id, uniqueid, agent, queue) for the duration of a call handler."""
    clean: MutableMapping[str, str] = {k: v for k, v in fields.items() if v is not None}
    with structlog.contextvars.bound_contextvars(**clean):
        yield
