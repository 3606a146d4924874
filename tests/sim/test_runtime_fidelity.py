"""The simulator over real sockets where the recordings say what Asterisk does: a FastAGI server
that dies (ami_daemon_killed_3_waiting.raw), AMI PlayDTMF (q1_playdtmf.txt), and the log files
a fallback Queue() writes (q6)."""

from __future__ import annotations

import asyncio
import csv
import socket
from pathlib import Path

import pytest

from acd.asterisk.ami.framing import NEED_DATA, Framer
from acd.asterisk.ami.message import Message
from acd.cli.demo.plan import DemoParams, sim_plan
from acd.settings import names
from acd.settings.loader import load_settings
from acd.sim.plan import AgentBehaviour, CallerBehaviour, DialplanPlan, SimPlan
from acd.sim.runtime import Simulator
from tests.dev_captures import capture_json
from tests.sim.capture_support import trail
from tests.sim.runtime_support import AmiProbe
from tests.transcripts import transcript_path

CONFIG = Path(__file__).resolve().parents[2] / "config"
SCALE = 10.0


class DyingAgiServer:
    """Takes the call like the daemon (sets a variable), waits for a digit, then its process
    is killed: the socket is closed with the command still pending."""

    def __init__(self, die_after: float) -> None:
        self.die_after = die_after
        self.replies: list[str] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.waiting = asyncio.Event()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while (await reader.readline()) not in (b"\n", b""):
                pass
            writer.write(b'SET VARIABLE HOTLINE_CALL_ID "x"\n')
            self.replies.append((await reader.readline()).decode())
            writer.write(b"WAIT FOR DIGIT -1\n")
            self.waiting.set()
            await asyncio.sleep(self.die_after)
        finally:
            self._tasks.discard(task)
            writer.transport.abort()  # SIGKILL: no FIN handshake, no more reading


def _raw_events(name: str) -> list[Message]:
    framer = Framer(expect_banner=True)
    framer.receive_data(transcript_path(name).read_bytes())
    out: list[Message] = []
    while (item := framer.next_message()) is not NEED_DATA:
        if isinstance(item, Message):
            out.append(item)
    return out


@pytest.mark.asyncio
async def test_a_killed_fastagi_server_ends_the_session_as_a_success_as_recorded(
    tmp_path: Path,
) -> None:
    agi = DyingAgiServer(die_after=0.3)
    port = await agi.start()
    settings = load_settings(CONFIG, require_secrets=False)
    # the fallback Queue() records the caller (queues.conf monitor-type): into tmp_path, not /
    plan = sim_plan(settings, DemoParams(), agi_port=port, recordings_dir=str(tmp_path))
    sim = Simulator(plan, time_scale=SCALE, keep_events=True)
    await sim.start()
    try:
        await sim.place_call(CallerBehaviour(number="13900000099", hangup_after=None))
        async with asyncio.timeout(10):
            await agi.waiting.wait()
            await sim.wait_idle()
    finally:
        await sim.close()
        await agi.close()
    # the first AGI and each resume attempt reached this same (dying) server
    assert agi.replies == ["200 result=1\n"] * (1 + names.RESUME_ATTEMPTS)
    events = sim.emitted or []
    channel = next(m["Channel"] for m in events if m.name == "Newexten")
    ours = trail(events, channel)
    recorded = _raw_events("ami_daemon_killed_3_waiting.raw")
    real_channel = "Local/13900000099@caller-sim-00000014;1"
    real = trail(recorded, real_channel)
    # from the pending command on: it ends 200 Success, AGI() returns SUCCESS and the dialplan
    # goes on at the next priority, as recorded (the recording ran the old [hotline], which
    # then hung up; the shipped one now goes to [hotline-resume])
    start_ours = ours.index(("AGIExecEnd", "WAIT FOR DIGIT -1", "200", "Success"))
    start_real = next(i for i, s in enumerate(real) if s == ("VarSet", "AGISTATUS", "SUCCESS"))
    assert ours[start_ours + 1] == real[start_real] == ("VarSet", "AGISTATUS", "SUCCESS")
    agi_priority = int(next(s for s in reversed(real[:start_real]) if s[0] == "Newexten")[3])
    assert real[start_real + 1][:4] == ("Newexten", "hotline", "s", str(agi_priority + 1))
    ours_agi = int(next(s for s in reversed(ours[:start_ours]) if s[0] == "Newexten")[3])
    assert ours[start_ours + 2][:5] == (
        "Newexten", "hotline", "s", str(ours_agi + 1), "Goto"
    )  # fmt: skip
    # HOTLINE_DONE never set: offered to a daemon again (this dying one, each time), then the
    # plain Queue(); the caller is never hung up
    assert [m for m in events if m.name == "QueueCallerJoin"]


@pytest.mark.asyncio
async def test_play_dtmf_action_answers_as_recorded_and_reaches_the_wait() -> None:
    errors = capture_json("q1_playdtmf_results.json")["errors"]
    digits: asyncio.Queue[str] = asyncio.Queue()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\n", b""):
            pass
        writer.write(b"WAIT FOR DIGIT -1\n")
        await digits.put((await reader.readline()).decode())
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sim = Simulator(SimPlan(dialplan=DialplanPlan(agi_port=port)), time_scale=SCALE)
    await sim.start()
    probe = await AmiProbe.connect(sim.ami_port)
    try:
        assert (await probe.login_md5()).ok
        await sim.place_call(CallerBehaviour(number="5550001", hangup_after=None))
        async with asyncio.timeout(10):
            started = await probe.wait_event(lambda m: m.name == "AGIExecStart")
            channel = started["Channel"]
            missing = await probe.action(
                "PlayDTMF", [("Channel", "Local/nosuch-00000000;2"), ("Digit", "1")]
            )
            empty = await probe.action("PlayDTMF", [("Channel", channel), ("Digit", "")])
            done = await probe.action(
                "PlayDTMF", [("Channel", channel), ("Digit", "D"), ("Receive", "yes")]
            )
            reply = await digits.get()
            end = await probe.wait_event(lambda m: m.name == "DTMFEnd")
    finally:
        await probe.close()
        await sim.close()
        server.close()
    assert (missing.response["Response"], missing.message) == ("Error", errors["unknown_channel"])
    assert (empty.response["Response"], empty.message) == ("Error", errors["empty_digit"])
    assert (done.response["Response"], done.message) == ("Success", "DTMF successfully queued")
    assert reply == "200 result=68\n"
    assert (end["Digit"], end["DurationMs"], end["Direction"]) == ("D", "0", "Received")


@pytest.mark.asyncio
async def test_a_fallback_queue_call_writes_queue_log_and_master_csv(tmp_path: Path) -> None:
    # nothing listens on the FastAGI port: AGISTATUS=FAILURE, the shipped fallback Queue()
    settings = load_settings(CONFIG, require_secrets=False)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    plan = sim_plan(settings, DemoParams(), agi_port=port, recordings_dir=str(tmp_path / "rec"))
    phones = {ep: AgentBehaviour(answer_after=0.5, talk_time=1.0) for ep in plan.agents}
    plan = SimPlan(
        queues=plan.queues,
        agents=phones,
        dialplan=plan.dialplan,
        sounds=plan.sounds,
        recordings_dir=plan.recordings_dir,
        asterisk_log_dir=str(tmp_path / "log"),
    )
    sim = Simulator(plan, time_scale=SCALE)
    await sim.start()
    try:
        await sim.place_call(CallerBehaviour(number="5556765", hangup_after=None))
        async with asyncio.timeout(10):
            await sim.wait_idle()
    finally:
        await sim.close()
    queue_log = (tmp_path / "log" / "queue_log").read_text().splitlines()
    events = [line.split("|")[4] for line in queue_log]
    assert events[0] == "ENTERQUEUE"
    assert events[-2:] == ["CONNECT", "COMPLETEAGENT"]
    assert {line.split("|")[2] for line in queue_log} == {settings.default_queue}
    rows = list(csv.reader((tmp_path / "log" / "cdr-csv" / "Master.csv").open()))
    assert all(len(row) == 21 for row in rows)
    caller = [r for r in rows if r[3] == "hotline-fallback" and r[6]]
    assert caller[-1][7:9] == ["Queue", f"{settings.default_queue},t,,,300"]
    assert caller[-1][14] == "ANSWERED"


@pytest.mark.asyncio
async def test_cut_agi_fault_ends_every_session_like_a_killed_server() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\n", b""):
            pass
        writer.write(b"WAIT FOR DIGIT -1\n")
        await reader.read()  # until the simulator cuts the connection

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sim = Simulator(SimPlan(dialplan=DialplanPlan(agi_port=port)), time_scale=SCALE)
    await sim.start()
    probe = await AmiProbe.connect(sim.ami_port)
    try:
        assert (await probe.login_md5()).ok
        await sim.place_call(CallerBehaviour(number="5550002", hangup_after=None))
        async with asyncio.timeout(10):
            await probe.wait_event(lambda m: m.name == "AGIExecStart")
            sim.faults.cut_agi()
            end = await probe.wait_event(lambda m: m.name == "AGIExecEnd")
            status = await probe.wait_event(
                lambda m: m.name == "VarSet" and m["Variable"] == "AGISTATUS"
            )
            await probe.wait_event(lambda m: m.name == "QueueCallerJoin")  # reference [hotline]
    finally:
        await probe.close()
        await sim.close()
        server.close()
    assert (end["Command"], end["ResultCode"], end["Result"]) == (
        "WAIT FOR DIGIT -1",
        "200",
        "Success",
    )
    assert status["Value"] == "SUCCESS"
