"""The simulator's AMI server over real TCP: login, replies in the recorded shapes, faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from acd.asterisk.ami.message import Message
from acd.sim.runtime import Simulator
from tests.sim.runtime_support import AmiProbe, is_event
from tests.transcripts import read_text


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(seed=1, auth_failure_delay=0.05)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.close()


async def logged_in(sim: Simulator) -> AmiProbe:
    probe = await AmiProbe.connect(sim.ami_port)
    done = await probe.login_md5()
    assert done.ok, done.response
    return probe


def recorded_reply(section: str) -> list[Message]:
    """The messages Asterisk sent in one numbered section of ami_login_and_actions.txt."""
    from acd.asterisk.ami.framing import NEED_DATA, Framer

    text = read_text("ami_login_and_actions.txt")
    start = text.index(f"########## {section} ")
    end = text.find("##########", start + 10)
    raw: list[str] = []
    direction = ""
    for line in text[start:end].splitlines():
        if line.startswith("--- "):
            direction = line[4:7]
        elif line.startswith("Asterisk Call Manager/"):
            continue  # the banner
        elif direction == "<<<" and line.endswith("\\r\\n"):
            raw.append(line[:-4] + "\r\n")
    framer = Framer(expect_banner=False)
    framer.receive_data("".join(raw).encode())
    out: list[Message] = []
    while (item := framer.next_message()) is not NEED_DATA:
        assert isinstance(item, Message)
        out.append(item)
    return out


def names(message: Message) -> list[str]:
    return [key for key, _ in message.headers]


@pytest.mark.asyncio
async def test_md5_login_gets_fully_booted_and_successful_auth(sim: Simulator) -> None:
    probe = await AmiProbe.connect(sim.ami_port)
    done = await probe.login_md5()
    assert probe.banner == "Asterisk Call Manager/11.0.0"
    assert done.response.name == "Success"
    assert done.message == "Authentication accepted"
    booted = await probe.wait_event(is_event("FullyBooted"))
    assert names(booted) == names(recorded_reply("3.")[1])
    auth = await probe.wait_event(is_event("SuccessfulAuth"))
    assert auth["AccountID"] == "acd"
    assert names(auth) == names(recorded_reply("3.")[2])
    await probe.close()


@pytest.mark.asyncio
async def test_wrong_secret_is_refused_then_closed(sim: Simulator) -> None:
    probe = await AmiProbe.connect(sim.ami_port)
    action_id, data = probe.conn.login("acd", "wrong")
    probe.writer.write(data)
    done = await probe.wait_done(action_id)
    assert (done.response.name, done.message) == ("Error", "Authentication failed")
    await probe.read_to_eof()
    assert probe.eof


@pytest.mark.asyncio
async def test_actions_before_login_are_denied(sim: Simulator) -> None:
    probe = await AmiProbe.connect(sim.ami_port)
    done = await probe.action("Ping")
    assert (done.response.name, done.message) == ("Error", "Permission denied")
    await probe.close()


@pytest.mark.asyncio
async def test_ping_logoff_and_unknown_action_replies(sim: Simulator) -> None:
    probe = await logged_in(sim)
    pong = await probe.action("Ping")
    assert names(pong.response) == names(recorded_reply("4.")[0])
    assert pong.response["Ping"] == "Pong"
    assert float(pong.response["Timestamp"]) > 1.7e9
    unknown = await probe.action("Queues")
    assert unknown.response.name == "Error"
    assert unknown.message == recorded_reply("13.")[0]["Message"]
    bad = await probe.wait_event(is_event("RequestBadFormat"))
    assert bad["RequestType"] == "Action: Queues"
    bye = await probe.action("Logoff")
    assert (bye.response.name, bye.message) == ("Goodbye", "Thanks for all the fish.")
    await probe.read_to_eof()
    assert probe.eof


@pytest.mark.asyncio
async def test_events_off_stops_events_but_not_replies(sim: Simulator) -> None:
    listener = await logged_in(sim)
    off = await listener.action("Events", [("EventMask", "off")])
    assert off.response["Events"] == "Off"
    other = await logged_in(sim)
    await other.action("UserEvent", [("UserEvent", "First")])
    await listener.action("Events", [("EventMask", "on")])
    await other.action("UserEvent", [("UserEvent", "Second")])
    seen = await listener.wait_event(is_event("UserEvent"))
    # the first UserEvent was sent while this session had events off
    assert seen["UserEvent"] == "Second"
    await listener.close()
    await other.close()


@pytest.mark.asyncio
async def test_queue_status_list_has_the_recorded_shape(sim: Simulator) -> None:
    probe = await logged_in(sim)
    done = await probe.action("QueueStatus", [("Queue", "sales")])
    recorded = recorded_reply("9.")
    assert names(done.response) == names(recorded[0])
    assert done.response["Message"] == "Queue status will follow"
    assert [m.name for m in done.events] == [m.name for m in recorded[1:-1]]
    for ours, theirs in zip(done.events, recorded[1:-1], strict=True):
        assert names(ours) == names(theirs)
    assert done.complete is not None
    assert names(done.complete) == names(recorded[-1])
    assert done.complete["ListItems"] == "4"
    unknown = await probe.action("QueueStatus", [("Queue", "nosuchqueue")])
    assert unknown.events == ()
    await probe.close()


@pytest.mark.asyncio
async def test_queue_member_actions_answer_like_asterisk(sim: Simulator) -> None:
    probe = await logged_in(sim)
    member = [("Queue", "sales"), ("Interface", "Local/agent4@agents/n")]
    added = await probe.action("QueueAdd", [*member, ("MemberName", "Agent Four")])
    assert added.message == "Added interface to queue"
    again = await probe.action("QueueAdd", member)
    assert (again.response.name, again.message) == (
        "Error",
        "Unable to add interface: Already there",
    )
    paused = await probe.action("QueuePause", [*member, ("Paused", "true"), ("Reason", "lunch")])
    assert paused.message == "Interface paused successfully"
    removed = await probe.action("QueueRemove", member)
    assert removed.message == "Removed interface from queue"
    gone = await probe.action("QueueRemove", member)
    assert gone.message == "Unable to remove interface: Not there"
    nobody = await probe.action(
        "QueuePause", [("Interface", "Local/nobody@agents/n"), ("Paused", "true")]
    )
    assert (nobody.response.name, nobody.message) == ("Error", "Interface not found")
    await probe.close()


@pytest.mark.asyncio
async def test_channel_actions_on_unknown_channels(sim: Simulator) -> None:
    probe = await logged_in(sim)
    nope = [("Channel", "Local/nope-00000000;1")]
    hangup = await probe.action("Hangup", nope)
    assert hangup.message == "No such channel"
    redirect = await probe.action(
        "Redirect", [*nope, ("Context", "parking-lot"), ("Exten", "transfer"), ("Priority", "1")]
    )
    assert redirect.message == "Channel does not exist: Local/nope-00000000;1"
    mix = await probe.action("MixMonitor", [*nope, ("File", "x.wav")])
    assert mix.message == "No such channel"
    missing = await probe.action("Originate", [("Context", "hotline"), ("Exten", "s")])
    assert missing.message == "Channel not specified"
    channels = await probe.action("CoreShowChannels")
    assert channels.response["Message"] == "Channels will follow"
    assert channels.complete is not None
    assert channels.complete["ListItems"] == "0"
    await probe.close()


@pytest.mark.asyncio
async def test_drop_ami_fault_closes_every_session(sim: Simulator) -> None:
    one, two = await logged_in(sim), await logged_in(sim)
    sim.faults.drop_ami()
    await one.read_to_eof()
    await two.read_to_eof()
    assert one.eof
    assert two.eof
    again = await logged_in(sim)  # new logins still work
    assert (await again.action("Ping")).ok
    await again.close()


@pytest.mark.asyncio
async def test_stalled_ami_reads_actions_and_answers_nothing(sim: Simulator) -> None:
    probe = await logged_in(sim)
    sim.faults.stall_ami()
    lost = probe.send("Ping")
    async with asyncio.timeout(5):
        while sim.faults.ami_actions_ignored < 1:  # the simulator has read it
            await asyncio.sleep(0.01)
    # Un-stall and ping again: the second Ping is answered, the first never is.
    sim.faults.stall_ami(False)
    answered = await probe.action("Ping")
    assert answered.ok
    assert lost in probe.conn.pending_action_ids
    await probe.close()


@pytest.mark.asyncio
async def test_login_with_events_off_gets_no_events(sim: Simulator) -> None:
    quiet = await AmiProbe.connect(sim.ami_port)
    assert (await quiet.login_md5(events=False)).ok
    other = await logged_in(sim)
    await other.action("UserEvent", [("UserEvent", "Hello")])
    assert (await quiet.action("Ping")).ok  # replies still come
    assert quiet.events == []  # no FullyBooted, no SuccessfulAuth, no UserEvent
    await quiet.close()
    await other.close()
