"""Access to the recorded real-Asterisk traffic in ``tests/fixtures/asterisk/transcripts``.

The fixtures are byte-identical copies of the shared recordings (their README gives provenance and
SHA-256 sums); ``HOTLINE_SHARED=DIR`` reads ``DIR/transcripts`` instead.

The ``.txt`` transcripts show CR LF as the visible text ``\\r\\n`` and FastAGI's LF as
``\\n``, each followed by a real newline; ``--- <<<`` / ``--- >>>`` lines give direction and
``#``/``==`` lines are notes. ``wire_bytes`` turns one direction of such a file back into the
exact bytes that crossed the socket.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "asterisk"


def shared_dir() -> Path:
    return Path(os.environ.get("HOTLINE_SHARED") or FIXTURES)


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
