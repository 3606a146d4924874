"""Answered calls through the real daemon and the PBX simulator: recording from the answer, the
post-call survey after the agent hangs up, and the screen pop on the agent's MQTT topic."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from acd.app.daemon import Daemon
from acd.asterisk.agi.replies import AgiReply
from acd.asterisk.aio.agi_session import AgiSession
from acd.asterisk.aio.ami_client import AmiClient
from acd.asterisk.ami.message import Message
from acd.daemon.call_flow import conversation
from acd.daemon.closed_calls import ClosedCall
from acd.daemon.ivr_port import IvrOutcome
from acd.engine.floor_inputs import AgentAction
from acd.sim.plan import AgentBehaviour, CallerBehaviour
from tests.conftest import port_open
from tests.daemon.flow_daemon import FlowSetup, PastCall, Profile, flow_daemon, flow_settings
from tests.daemon.harness import FAST_AGENT, Harness, floor_harness


def _wav_facts(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    return data[:4], hashlib.sha256(data).hexdigest()


@pytest.mark.asyncio
async def test_call_is_recorded_from_the_answer_and_catalogued(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    layout = settings.recording.model_copy(update={"layout": "{queue}/{call_id}"})
    settings = settings.model_copy(update={"recording": layout})
    phone = settings.agents[0].endpoint
    harness = floor_harness(
        tmp_path, settings=settings, behaviour=FAST_AGENT, start=False, keep_events=True
    )
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        await h.place(CallerBehaviour(number="5550400", hangup_after=None))
        await h.wait_for(
            lambda: any(c.recording_id for c in daemon.registry.recent), "the recording"
        )
        (call,) = daemon.registry.recent

        # The simulator's AMI stream, in its order: MixMonitor starts on the agent's channel
        # when it answers, by the Dial's U() Gosub, before DialEnd and the bridge (not in the
        # IVR, not while ringing), with option b (the file's length below is the talk).
        def agent_leg(m: Message) -> bool:
            return (m.get("DestChannel") or "").startswith(f"{phone}-")

        (begin,) = [m for m in h.sim_events("DialBegin") if agent_leg(m)]
        timeline = [
            m.name
            for m in h.sim.emitted or []
            if (m.name in ("DialBegin", "DialEnd") and agent_leg(m))
            or (m.name == "MixMonitorStart" and m.get("Channel") == begin.get("DestChannel"))
            or (m.name == "MixMonitorStart" and m.get("Channel") == call.channel)
        ]
        answered = [m for m in h.sim_events("DialEnd") if agent_leg(m)]
    assert timeline == ["DialBegin", "MixMonitorStart", "DialEnd"]
    assert [m.get("DialStatus") for m in answered] == ["ANSWER"]
    assert call.recording_path is not None
    wav = Path(call.recording_path)
    assert wav == tmp_path / "recordings" / "enquiries" / f"{call.call_id}.wav"  # the layout
    head, sha = _wav_facts(wav)
    assert head == b"RIFF"
    (rec,) = h.rows("select id, call_id, agent_id, sha256, duration_s, path from recordings")
    assert rec[:3] == (call.recording_id, call.call_id, settings.agents[0].id)
    assert rec[3] == sha
    assert rec[4] > 0
    assert rec[5] == str(wav)
    assert h.rows("select recording_id, outcome from calls") == [(call.recording_id, "answered")]
    # started by the Dial's U() (the AMI user has no `system` class for the MixMonitor action)
    # in the rendered [hotline-answer], with option b: only the bridged talk is in the file;
    # the place stored by its B() before the ring
    execs = [e.get("Command") or "" for e in h.sim_events("AGIExecStart")]
    (dial,) = [c for c in execs if c.startswith("EXEC Dial")]
    assert "B(hotline-predial^place^1(enquiries^" in dial
    assert f"U(hotline-answer^{wav}^br(" in dial
    assert not any(c.startswith("EXEC MixMonitor") for c in execs)
    assert rec[4] == pytest.approx(FAST_AGENT.talk_time, abs=0.25)
    legs = h.rows("select leg, sha256 from recording_legs order by leg")
    assert [leg for leg, _ in legs] == ["in", "out"]  # dual channel: both legs catalogued
    for leg, sha in legs:
        stored = wav.with_name(f"{wav.stem}-{leg}.wav")
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
        assert stored.stat().st_mode & 0o777 == 0o600


async def _offered(daemon: Daemon) -> bool:
    return bool(await daemon.acd.read(lambda f, _now: len(f.engaged_calls()) == 1))


def _ringing(h: Harness) -> bool:
    """The agent's phone rings in the PBX: the Dial ran (its pre-dial handler too). The
    floor's reservation comes before the Dial is even sent: a hang-up then beat the recording."""
    endpoint = h.settings.agents[0].endpoint
    return any(c.name.startswith(f"{endpoint}-") for c in h.sim.pbx.channels())


@pytest.mark.asyncio
async def test_a_call_nobody_answered_leaves_no_recording_behind(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    never = AgentBehaviour(answer_after=None)
    harness = floor_harness(
        tmp_path, settings=settings, behaviour=never, start=False, keep_events=True
    )
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        # The caller hangs up while the agent's phone rings (not after a fixed 3 s, which a
        # loaded machine once spent before the caller was even queued).
        await h.place(CallerBehaviour(number="5550401", hangup_after=None))
        await h.wait_for(lambda: _ringing(h), "the agent's phone ringing")
        (caller,) = h.caller_channels()
        assert h.hang_up(caller)
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the hang-up")
        (call,) = daemon.registry.recent
        (dial,) = _dials(h)
    assert "U(hotline-answer^" in dial  # the ring carried the recording, for an answer
    assert not h.sim_events("MixMonitorStart")  # ... which never came: nothing started
    assert call.recording_path is None
    recordings = tmp_path / "recordings"
    assert not recordings.exists() or not any(recordings.rglob("*.wav"))
    assert h.rows("select count(*) from recordings") == [(0,)]


def _without_record_context(extensions: str) -> str:
    """extensions.conf as installed before [hotline-answer] existed."""
    head, found, rest = extensions.partition("[hotline-answer]")
    assert found
    return head + rest[rest.index("\n[") :]


def _stale_dialplan(
    tmp_path: Path, agents: int, behaviour: AgentBehaviour
) -> AbstractAsyncContextManager[Harness]:
    """The harness on a PBX whose installed dialplan has no [hotline-answer]."""
    return floor_harness(
        tmp_path,
        settings=flow_settings(tmp_path, agents),
        behaviour=behaviour,
        start=False,
        keep_events=True,
        installed_dialplan=_without_record_context,
    )


def _dials(h: Harness) -> list[str]:
    return [
        e.get("Command") or ""
        for e in h.sim_events("AGIExecStart")
        if (e.get("Command") or "").startswith("EXEC Dial")
    ]


@pytest.mark.asyncio
async def test_a_dialplan_without_the_record_context_costs_the_recording_not_the_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The Dial's Gosub at the answer is missing from the installed dialplan: the agent still
    rings and answers; the daemon learns from GOSUB_RETVAL that nothing records, says so, and
    catalogues nothing."""
    async with _stale_dialplan(tmp_path, 1, FAST_AGENT) as h, flow_daemon(h, FlowSetup()) as daemon:
        await h.place(CallerBehaviour(number="5550402", hangup_after=None))
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the call over")
        (call,) = daemon.registry.recent
        (dial,) = _dials(h)
    assert "U(hotline-answer^" in dial
    assert not h.sim_events("MixMonitorStart")
    assert call.outcome == "answered"
    assert call.recording_path is None
    assert call.recording_id is None
    assert h.rows("select outcome, recording_id from calls") == [("answered", None)]
    assert h.rows("select count(*) from recordings") == [(0,)]
    assert [r for r in caplog.records if "recording_not_started" in r.getMessage()]


@pytest.mark.asyncio
async def test_a_missed_ring_records_nothing_and_the_agent_who_answers_is_recorded(
    tmp_path: Path,
) -> None:
    """A ring-no-answer starts no recording; the next Dial carries the same order, and the
    agent who answers it is recorded on their own channel, catalogued with that agent."""
    settings = flow_settings(tmp_path, 2)
    first, second = settings.agents
    behaviours = {first.endpoint: AgentBehaviour(answer_after=None), second.endpoint: FAST_AGENT}
    harness = floor_harness(
        tmp_path, settings=settings, behaviour=behaviours, start=False, keep_events=True
    )
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        # the first agent rings first: the other is on a break until then
        await daemon.acd.agent_input(second.id, AgentAction.PAUSE, "break")
        await h.place(CallerBehaviour(number="5550403", hangup_after=None))
        await h.wait_for(lambda: _ringing(h), "the first agent's phone ringing")
        await daemon.acd.agent_input(second.id, AgentAction.UNPAUSE)
        await h.wait_for(
            lambda: any(c.recording_id for c in daemon.registry.recent), "the recording"
        )
        (call,) = daemon.registry.recent
        dials = _dials(h)
        started = h.sim_events("MixMonitorStart")
    assert len(dials) == 2
    assert dials[0].startswith(f'EXEC Dial "{first.endpoint},')
    assert dials[1].startswith(f'EXEC Dial "{second.endpoint},')
    assert call.recording_path is not None
    assert all(f"U(hotline-answer^{call.recording_path}^b" in d for d in dials)
    (mixmonitor,) = started
    assert (mixmonitor.get("Channel") or "").startswith(f"{second.endpoint}-")
    rows = h.rows("select id, agent_id, path from recordings")
    assert rows == [(call.recording_id, second.id, call.recording_path)]


@pytest.mark.asyncio
async def test_each_queue_asks_its_own_share_of_callers_the_survey(tmp_path: Path) -> None:
    settings = flow_settings(
        tmp_path,
        1,
        queues={"enquiries": {"survey_sample_rate": 1.0}, "orders": {"survey_sample_rate": 0.0}},
    )
    harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
    async with harness as h:
        for queue, number in (("enquiries", "5550501"), ("orders", "5550502")):
            async with flow_daemon(h, FlowSetup(queue=queue), survey_rate=None) as daemon:
                await h.place(CallerBehaviour(number=number, prompt_answers=("5", "1")))
                await h.wait_for(lambda: bool(daemon.registry.recent), "the call to end")
    rows = h.rows("select caller_number, survey_rating from calls order by caller_number")
    assert rows == [("5550501", 5), ("5550502", None)]


@pytest.mark.asyncio
async def test_survey_after_the_agent_hangs_up_stores_the_rating(tmp_path: Path) -> None:
    settings = flow_settings(tmp_path, 1)
    harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
    async with harness as h, flow_daemon(h, FlowSetup(), survey_rate=1.0) as daemon:
        # rating 4, then "1": the problem was solved
        await h.place(CallerBehaviour(number="5550500", prompt_answers=("4", "1")))
        await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the call to end")
    rows = h.rows("select outcome, hung_up_by, survey_rating, survey_solved from calls")
    assert rows == [("answered", "agent", 4, 1)]


@pytest.mark.mqtt
@pytest.mark.asyncio
async def test_screen_pop_reaches_the_agent_topic_before_the_phone_rings(tmp_path: Path) -> None:
    if not port_open("127.0.0.1", 1883, 0.5):
        pytest.fail("Mosquitto expected on 127.0.0.1:1883")
    prefix = f"test-flow-{uuid.uuid4().hex[:8]}"
    settings = flow_settings(tmp_path, 1, mqtt_prefix=prefix)
    agent = settings.agents[0].id
    last = PastCall(
        "c-old", dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC), "orders", "2003", "answered"
    )
    setup = FlowSetup(
        ivr=IvrOutcome(
            "queue",
            queue="after_sales",
            reason="item_missing",
            order_number="A1001",
            path=({"node": "main", "keys": ["2"]}, {"node": "after_sales", "keys": ["3"]}),
        ),
        profiles={"5550600": Profile("Li Lei", vip=True, recent_calls=(last,))},
    )
    topic = f"{prefix}/agents/{agent}/screenpop"
    # What arrives in this process, in order: the pop (a desktop subscribed to the agent's
    # topic) and the PBX's DialBegin for the agent's phone (an AMI client watching the PBX).
    arrivals: list[str] = []
    pops: list[aiomqtt.Message] = []

    phone = settings.agents[0].endpoint

    def on_ami(event: Message) -> None:
        # the agent's phone (the simulated caller's own Local channel has a DialBegin too)
        if event.name == "DialBegin" and event.get("DialString") == phone:
            arrivals.append("DialBegin")

    async def desktop(sub: aiomqtt.Client) -> None:
        async for message in sub.messages:
            arrivals.append("screenpop")
            pops.append(message)

    async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"{prefix}-sub") as sub:
        await sub.subscribe(topic, qos=1)
        harness = floor_harness(tmp_path, settings=settings, behaviour=FAST_AGENT, start=False)
        async with (
            harness as h,
            flow_daemon(h, setup, mqtt=True) as daemon,
            asyncio.TaskGroup() as tasks,
        ):
            publisher = daemon.publisher
            assert publisher is not None  # (a broker that is away gets the pop once it is back)
            await h.wait_for(publisher.connected.is_set, "the daemon's link to the broker")
            # a user of its own: the daemon's has eventfilter lines (no DialBegin for it)
            h.sim.secrets["observer"] = "observer-secret"
            watcher = AmiClient("127.0.0.1", h.sim.ami_port, "observer", "observer-secret")
            watcher.subscribe(on_ami)
            await watcher.start()
            listening = tasks.create_task(desktop(sub))
            try:
                await h.place(CallerBehaviour(number="5550600", hangup_after=None))
                await h.wait_for(lambda: len(arrivals) == 2, "the pop and the ring")
            finally:
                listening.cancel()
                await watcher.close()
    assert arrivals == ["screenpop", "DialBegin"]
    (message,) = pops
    assert str(message.topic) == topic
    assert isinstance(message.payload, bytes)
    pop = json.loads(message.payload)
    assert pop["type"] == "agent.screenpop"
    assert (pop["agent_id"], pop["number"], pop["name"], pop["vip"]) == (
        agent, "5550600", "Li Lei", True
    )  # fmt: skip
    assert pop["ivr"] == {
        "menus": [{"node": "main", "keys": ["2"]}, {"node": "after_sales", "keys": ["3"]}],
        "reason": "item_missing",
        "order_number": "A1001",
    }
    assert pop["recent_calls"] == [
        {
            "call_id": "c-old",
            "arrived_at": "2026-11-01T09:30:00+00:00",
            "queue": "orders",
            "agent_id": "2003",
            "outcome": "answered",
        }
    ]


async def the_call_over(h: Harness, daemon: Daemon) -> tuple[ClosedCall, list[str]]:
    """The one call placed, once over, and the FastAGI commands run on its channel."""
    await h.wait_for(lambda: any(c.outcome for c in daemon.registry.recent), "the call over")
    (call,) = daemon.registry.recent
    execs = [
        e.get("Command") or ""
        for e in h.sim_events("AGIExecStart")
        if e.get("Channel") == call.channel
    ]
    return call, execs


@pytest.mark.asyncio
async def test_the_caller_reaches_the_dial_in_as_few_agi_round_trips_as_asterisk_allows(
    tmp_path: Path,
) -> None:
    """Each AGI command before the Dial is time the caller waits for the agent's phone to ring
    (issue 13): the call's variables go in one MSet at the start; with an agent free, the Dial
    itself stores the caller's place and starts the recording (its pre-dial handler), and after
    it one GET FULL VARIABLE reads how it ended and the recording's file; nothing follows."""
    settings = flow_settings(tmp_path, 1)
    harness = floor_harness(
        tmp_path, settings=settings, behaviour=FAST_AGENT, start=False, keep_events=True
    )
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        await h.place(CallerBehaviour(number="5550410", hangup_after=None))
        call, execs = await the_call_over(h, daemon)
        values = {
            m.get("Variable"): m.get("Value")
            for m in h.sim_events("VarSet")
            if m.get("Channel") == call.channel
        }
        # a function, not a variable (no VarSet): the Dial's events carry the new language
        (dial_begin,) = [e for e in h.sim_events("DialBegin") if e.get("Channel") == call.channel]
        after_agi = [
            (e.get("Context"), e.get("Application"))
            for e in h.sim_events("Newexten")
            if e.get("Channel") == call.channel and e.get("Context") == "hotline-resume"
        ]
    assert dial_begin.get("Language") == "zh"
    assert execs[:1] == [
        # the caller's language with the call's variables: one command before the prompts, and
        # no ANSWER: the rendered [hotline] answered before AGI() (?answered=1)
        f'EXEC MSet "HOTLINE_CALL_ID={call.call_id},HOTLINE_ARRIVED={values["HOTLINE_ARRIVED"]},'
        'CHANNEL(language)=zh"',
    ]
    dial = next(i for i, c in enumerate(execs) if c.startswith("EXEC Dial"))
    # an agent was free: the Dial follows at once, stores the caller's place before the ring
    # (option B, [hotline-predial]) and starts the recording at the answer (option U,
    # [hotline-answer])
    assert dial == 1
    since = values["HOTLINE_SINCE"]
    priority = settings.queue("enquiries").priority
    place = f"enquiries^{priority}^{since}"
    assert (
        f"B(hotline-predial^place^1({place}))U(hotline-answer^{call.recording_path}^b"
        in (execs[dial])
    )
    assert execs[dial + 1] == 'GET FULL VARIABLE "${DIALSTATUS}|${ANSWEREDTIME}|${GOSUB_RETVAL}"'

    assert not any("HOTLINE_RECORDING" in c for c in execs)
    # and nothing more: DIALSTATUS=ANSWER already tells [hotline-resume] the caller is done (no
    # HOTLINE_DONE), which hangs up without offering the caller to a daemon again
    assert len(execs) == dial + 2
    assert ("hotline-resume", "Hangup") in after_agi
    assert not any(app == "AGI" for _, app in after_agi)
    # what a resuming daemon and the fallback Queue() read is on the channel
    assert values["HOTLINE_CALL_ID"] == call.call_id
    assert values["HOTLINE_QUEUE"] == "enquiries"
    assert values["HOTLINE_PRIORITY"] == str(settings.queue("enquiries").priority)
    assert float(values["HOTLINE_SINCE"]) == pytest.approx(float(values["HOTLINE_ARRIVED"]), abs=5)
    assert values["GOSUB_RETVAL"] == call.recording_path  # from the agent's leg, at the answer
    assert call.outcome == "answered"
    assert call.talked == (settings.agents[0].id,)


@pytest.mark.asyncio
async def test_the_dial_is_written_before_the_call_sets_up_its_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ring yields once to the Dial's task, so the agent's phone is asked for before the
    call's task builds what it waits on during the conversation (a task for its requests,
    ``asyncio.wait``): ~30 µs of the caller's way to the ring (docs/offer-delivery.md)."""
    written: list[str] = []
    dial_written_at_waits: list[bool] = []
    exchange = AgiSession._exchange
    converse = conversation.Conversation._converse

    async def recording_exchange(self: AgiSession, line: str) -> AgiReply:
        written.append(line)
        return await exchange(self, line)

    async def noting_converse(self: Any, call: Any, dial: Any, answer: Any) -> Any:
        dial_written_at_waits.append(any(line.startswith("EXEC Dial") for line in written))
        return await converse(self, call, dial, answer)

    monkeypatch.setattr(AgiSession, "_exchange", recording_exchange)
    monkeypatch.setattr(conversation.Conversation, "_converse", noting_converse)
    async with floor_harness(tmp_path, agents=1, behaviour=FAST_AGENT) as h:
        await h.place(CallerBehaviour(number="5550411", hangup_after=None))
        await h.wait_for(lambda: bool(dial_written_at_waits), "the ring's waits")
    assert dial_written_at_waits == [True]


@pytest.mark.asyncio
async def test_a_dialplan_that_does_not_say_it_answered_gets_the_answer_from_the_daemon(
    tmp_path: Path,
) -> None:
    """An installed dialplan of one's own (or rendered before ``?answered=1``) may run AGI()
    on a channel not yet up, and test HOTLINE_DONE alone: the daemon answers it before the
    first prompt and sets HOTLINE_DONE after the conversation, as it always did."""
    settings = flow_settings(tmp_path, 1)
    harness = floor_harness(
        tmp_path,
        settings=settings,
        behaviour=FAST_AGENT,
        start=False,
        keep_events=True,
        installed_dialplan=lambda text: text.replace("?answered=1&", "?"),
    )
    async with harness as h, flow_daemon(h, FlowSetup()) as daemon:
        await h.place(CallerBehaviour(number="5550411", hangup_after=None))
        call, execs = await the_call_over(h, daemon)
    assert execs[1] == "ANSWER"
    assert execs[2].startswith("EXEC Dial")
    # nor may it end a caller on DIALSTATUS=ANSWER: it is told the daemon is through
    assert execs[-1] == 'SET VARIABLE HOTLINE_DONE "1"'
    assert call.outcome == "answered"
