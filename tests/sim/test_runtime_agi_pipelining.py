"""Command lines sent back to back, before their replies: the simulator against Asterisk 22.10.1.

Recorded with a bare FastAGI server (tests/fixtures/asterisk-dev/q9_agi_pipelining_*.txt.gz):
res_agi.c reads command lines through a stdio FILE after polling the socket, so lines that came
in one write wait in the FILE's buffer until the socket's next bytes, or its end, wake the loop.
Three commands in one write get one reply; the other two follow only after the server writes
again or shuts its side down. A line written while a command runs is read after it, as usual.
The daemon never writes a command before the previous reply (``AgiSession``); these tests keep
the simulator from hiding a stall should that ever change.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from acd.asterisk.ami.message import Message
from acd.sim.plan import DialplanPlan, SimPlan
from acd.sim.runtime import Simulator
from tests.sim.runtime_support import AmiProbe

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk-dev"
CASES = ("pipe3", "pipe2_then_singles", "exec_set", "exec_set_late")
_LINE = re.compile(r"^\S+ conn=(?P<conn>\d+) \+\s*\S+ms (?P<dir><<<|>>>|###) (?P<rest>.*)$")
SAFETY_S = 10.0
QUIET_S = 0.3  # nothing more arrives in this long (the recordings' stalls waited 2 s)


@dataclass(frozen=True)
class Phase:
    """What the server did (``send`` bytes, or ``b""`` for its shutdown(SHUT_WR)) and every
    byte Asterisk sent before the server's next action."""

    send: bytes
    replies: bytes


def recorded_phases(case: str) -> list[list[Phase]]:
    """Each recorded connection of the case as phases (the environment block left out)."""
    text = gzip.decompress((FIXTURES / f"q9_agi_pipelining_{case}.txt.gz").read_bytes()).decode()
    conns: dict[int, list[Phase]] = {}
    for raw in text.splitlines():
        m = _LINE.match(raw)
        if m is None:
            continue
        phases = conns.setdefault(int(m["conn"]), [])
        rest = m["rest"]
        if m["dir"] == ">>>":
            phases.append(Phase(ast.literal_eval(rest), b""))
        elif m["dir"] == "###" and rest.startswith("stall"):
            phases.append(Phase(b"", b""))
        elif m["dir"] == "<<<" and phases and not rest.startswith("EOF"):
            last = phases[-1]
            phases[-1] = Phase(last.send, last.replies + ast.literal_eval(rest))
    return [conns[c] for c in sorted(conns)]


@pytest.mark.parametrize("case", CASES)
def test_every_recorded_connection_of_a_case_went_the_same_way(case: str) -> None:
    runs = recorded_phases(case)
    assert len(runs) >= 20
    assert all(run == runs[0] for run in runs)


def test_the_recordings_show_the_stall() -> None:
    (first, stall) = recorded_phases("pipe3")[0]
    assert first == Phase(b"SET VARIABLE A 1\nSET VARIABLE B 2\nANSWER\n", b"200 result=1\n")
    assert stall.send == b""  # nothing came for 2 s; then the server shut its side down
    assert stall.replies == b"200 result=1\n200 result=0\nHANGUP\n"


def _started(command: str) -> Callable[[Message], bool]:
    return lambda m: m.name == "AGIExecStart" and m.get("Command") == command


class _Server:
    """A FastAGI server that plays one recorded connection's phases and keeps what came back."""

    def __init__(self, phases: list[Phase]) -> None:
        self.phases = phases
        self.got: list[bytes] = []
        self.done = asyncio.Event()
        self.probe: AmiProbe | None = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (await reader.readline()) not in (b"\n", b""):
                pass  # the environment block
            for n, phase in enumerate(self.phases):
                if phase.send:
                    writer.write(phase.send)
                else:
                    writer.write_eof()
                got = await reader.readexactly(len(phase.replies))
                if not got and phase.send:
                    # the recording wrote the next line while this command ran: wait until the
                    # simulator has read and started it (its AGIExecStart), so the two lines
                    # cannot reach it in one read
                    assert self.probe is not None
                    await self.probe.wait_event(_started(phase.send.decode().rstrip("\n")))
                last = n + 1 == len(self.phases)
                if got and not last:  # nothing beyond what Asterisk sent before our next action
                    with contextlib.suppress(TimeoutError):
                        got += await asyncio.wait_for(reader.read(1), QUIET_S)
                self.got.append(got)
        finally:
            writer.close()
            self.done.set()


@pytest.mark.asyncio
@pytest.mark.parametrize("case", CASES)
async def test_the_simulator_answers_back_to_back_commands_as_recorded(
    case: str, tmp_path: Path
) -> None:
    phases = recorded_phases(case)[0]
    server = _Server(phases)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    sim = Simulator(SimPlan(dialplan=DialplanPlan(agi_port=port)), seed=3, recordings_dir=tmp_path)
    await sim.start()
    try:
        async with asyncio.timeout(SAFETY_S):
            probe = await AmiProbe.connect(sim.ami_port)
            assert (await probe.login_md5()).ok
            server.probe = probe
            queued = await probe.action(
                "Originate",
                [
                    ("Channel", "Local/5550900@caller-sim/n"),
                    ("Context", "hotline"),
                    ("Exten", "s"),
                    ("Priority", "1"),
                    ("Async", "true"),
                ],
            )
            assert queued.ok
            await server.done.wait()
    finally:
        await sim.close()
        listener.close()
    assert server.got == [p.replies for p in phases]
