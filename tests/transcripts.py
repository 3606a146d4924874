"""Access to the recorded real-Asterisk traffic in ``../shared/asterisk/transcripts``.

The ``.txt`` transcripts show CR LF as the visible text ``\\r\\n`` and FastAGI's LF as
``\\n``, each followed by a real newline; ``--- <<<`` / ``--- >>>`` lines give direction and
``#``/``==`` lines are notes. ``wire_bytes`` turns one direction of such a file back into the
exact bytes that crossed the socket.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

_DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "asterisk"


def shared_dir() -> Path:
    return Path(os.environ.get("HOTLINE_SHARED", str(_DEFAULT)))


def transcript_path(name: str) -> Path:
    return shared_dir() / "transcripts" / name


def read_text(name: str) -> str:
    path = transcript_path(name)
    if name.endswith(".gz"):
        return gzip.decompress(path.read_bytes()).decode("utf-8")
    return path.read_text(encoding="utf-8")


def wire_bytes(name: str, direction: str = "<<<") -> bytes:
    """The bytes sent in one direction (``<<<`` from Asterisk, ``>>>`` to it), in file order.

    Only lines ending in the visible ``\\r\\n`` or ``\\n`` terminator are wire data; markers such
    as ``<<EOF...>>`` and notes are skipped.
    """
    out: list[str] = []
    current: str | None = None
    for line in read_text(name).splitlines():
        if line.startswith("--- <<<"):
            current = "<<<"
            continue
        if line.startswith("--- >>>"):
            current = ">>>"
            continue
        if line.startswith("---"):  # "--- ### note" and other non-wire headers
            current = None
            continue
        if line.startswith("<<") and line.removesuffix("\\n").endswith(">>"):
            continue  # markers such as <<EOF: ...>> are notes, not bytes
        if current != direction:
            continue
        if line.endswith("\\r\\n"):
            out.append(line[: -len("\\r\\n")] + "\r\n")
        elif line.endswith("\\n"):
            out.append(line[: -len("\\n")] + "\n")
    return "".join(out).encode("utf-8")
