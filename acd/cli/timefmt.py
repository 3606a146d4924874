"""Times in command output are the centre's (``timezone`` of hotline.yaml), with the offset, so
a supervisor in Shanghai reads the wall clock they know and a script still gets an exact instant.
The database keeps UTC; only what is shown is converted."""

from __future__ import annotations

from datetime import datetime, tzinfo


def local_time(moment: datetime, zone: tzinfo) -> str:
    """``2026-11-23 17:41:56 +08:00``: for tables and messages."""
    local = moment.astimezone(zone)
    offset = local.isoformat()[-6:] if local.utcoffset() else "+00:00"
    return f"{local:%Y-%m-%d %H:%M:%S} {offset}"


def local_iso(moment: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 with the centre's offset (``2026-11-23T17:41:56+08:00``): for --json."""
    return None if moment is None else moment.astimezone(zone).isoformat()
