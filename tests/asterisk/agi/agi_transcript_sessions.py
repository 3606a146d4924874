"""fastagi_session.txt split into its six recorded sessions (scenarios A-F), both directions.

``tests/transcripts.wire_bytes`` rebuilds one direction of the whole file; the scenarios need
their own byte streams, so this splits the text at the ``== SCENARIO`` banners and applies the
same notation rules to each part. Unlike ``wire_bytes`` (which keeps them), the ``<<EOF: ...>>`` and
``<<server: ...>>`` marker lines are left out: they are notes, not bytes on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.transcripts import read_text

NAME = "fastagi_session.txt"


@dataclass(frozen=True)
class RecordedSession:
    scenario: str  # "A" .. "F"
    from_asterisk: bytes
    to_asterisk: bytes

    @property
    def commands(self) -> list[str]:
        return self.to_asterisk.decode("utf-8").splitlines()


def _direction_bytes(lines: list[str], direction: str) -> bytes:
    out: list[str] = []
    current: str | None = None
    for line in lines:
        if line.startswith("--- <<<"):
            current = "<<<"
        elif line.startswith("--- >>>"):
            current = ">>>"
        elif line.startswith("--- "):
            current = None  # '--- ### note' blocks are not wire data
        elif line.startswith("<<") and line.endswith(">>\\n"):
            continue  # markers such as <<EOF: asterisk closed the TCP connection>>
        elif current == direction and line.endswith("\\n"):
            out.append(line[: -len("\\n")] + "\n")
    return "".join(out).encode("utf-8")


def recorded_sessions() -> list[RecordedSession]:
    sessions: list[RecordedSession] = []
    scenario: str | None = None
    block: list[str] = []

    def flush() -> None:
        if scenario is not None:
            sessions.append(
                RecordedSession(
                    scenario, _direction_bytes(block, "<<<"), _direction_bytes(block, ">>>")
                )
            )

    for line in read_text(NAME).splitlines():
        if line.startswith("== SCENARIO "):
            flush()
            scenario = line[len("== SCENARIO ")]
            block = []
        else:
            block.append(line)
    flush()
    return sessions
