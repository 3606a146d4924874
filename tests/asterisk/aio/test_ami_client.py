"""AmiClient behaviour beyond the panoramisk defects: timeouts, lost actions, lists, login modes,
error results, the bounded event stream and the reconnect backoff policy."""

from __future__ import annotations

import asyncio
import random

import pytest
from fake_asterisk_ami import SAFETY, FakeAsterisk, client_for, next_named

from acd.asterisk.aio.ami_client import (
    AmiActionError,
    AmiClient,
    AmiClientClosed,
    AmiConnectionLost,
    AmiTimeout,
    ReconnectBackoff,
)
from acd.asterisk.ami.message import encode


@pytest.mark.asyncio
async def test_unanswered_action_times_out_and_the_connection_stays_usable() -> None:
    async with FakeAsterisk() as fake, client_for(fake) as ami:
        fake.unanswered = {"corestatus"}
        with pytest.raises(AmiTimeout, match="CoreStatus"):
            await ami.action("CoreStatus", timeout=0.2)
        result = await ami.action("CoreSettings")

    assert result.response["AsteriskVersion"] == "22.10.1"
    assert fake.connections == 1


@pytest.mark.asyncio
async def test_action_in_flight_fails_on_disconnect_and_is_not_resent() -> None:
    reconnected = asyncio.Event()

    async def on_connect(again: bool) -> None:
        if again:
            reconnected.set()

    async with FakeAsterisk() as fake, client_for(fake, on_connect=on_connect) as ami:
        fake.unanswered = {"originate"}

        async def originate() -> None:
            with pytest.raises(AmiConnectionLost):
                await ami.action("Originate", [("Channel", "Local/5550101@caller-sim")])

        async with asyncio.timeout(SAFETY), asyncio.TaskGroup() as group:
            group.create_task(originate())
            await fake.wait_until(lambda: "Originate" in fake.action_names())
            fake.drop()
        async with asyncio.timeout(SAFETY):
            await reconnected.wait()
        await ami.action("CoreStatus")

    assert fake.action_names().count("Originate") == 1  # never doubled
    assert fake.action_names(connection=2) == ["Challenge", "Login", "CoreStatus"]


@pytest.mark.asyncio
async def test_action_issued_while_disconnected_waits_for_the_next_login() -> None:
    async with FakeAsterisk() as fake, client_for(fake) as ami:
        fake.login_gate = asyncio.Event()  # the next login answer is held back
        fake.drop()
        async with asyncio.timeout(SAFETY), asyncio.TaskGroup() as group:
            await fake.wait_until(lambda: fake.login_attempts == 2)
            waiting = group.create_task(ami.action("CoreStatus", timeout=SAFETY))
            await asyncio.sleep(0)  # let it start waiting (either order passes)
            assert not ami.connected
            fake.login_gate.set()

    assert waiting.result().ok
    assert fake.action_names(connection=1) == ["Challenge", "Login"]
    assert fake.action_names(connection=2) == ["Challenge", "Login", "CoreStatus"]


@pytest.mark.asyncio
async def test_list_action_collects_its_items() -> None:
    async with FakeAsterisk() as fake, client_for(fake) as ami:
        fake.answer_with["coreshowchannels"] = "act-27"  # recorded with an active call
        result = await ami.action("CoreShowChannels")

    assert result.ok
    assert result.message == "Channels will follow"
    assert [e.name for e in result.events] == ["CoreShowChannel", "CoreShowChannel"]
    assert result.complete is not None
    assert int(result.complete["ListItems"]) == len(result.events)
    assert result.events[0]["Channel"] == "Local/5550101@caller-sim-000001b7;2"


@pytest.mark.asyncio
async def test_error_response_is_a_result_unless_checked() -> None:
    async with FakeAsterisk() as fake, client_for(fake) as ami:
        fake.answer_with["queueadd"] = fake.recording.ids_for("QueueAdd")[1]  # the duplicate
        headers = [("Queue", "sales"), ("Interface", "Local/agent4@agents/n")]
        result = await ami.action("QueueAdd", headers)
        with pytest.raises(AmiActionError, match="Already there") as raised:
            await ami.action("QueueAdd", headers, check=True)

    assert not result.ok
    assert result.message == "Unable to add interface: Already there"
    assert raised.value.result.response.name == "Error"


@pytest.mark.asyncio
async def test_md5_login_keeps_the_secret_off_the_wire_and_plain_login_is_an_option() -> None:
    async with FakeAsterisk() as fake:
        async with client_for(fake):
            pass
        md5_wire = bytes(fake.raw_received)
        async with AmiClient("127.0.0.1", fake.port, "acd", "acdsecret", use_md5=False):
            pass

    assert b"acdsecret" not in md5_wire
    assert b"AuthType: MD5" in md5_wire
    assert fake.action_names(connection=2) == ["Login"]
    assert b"Secret: acdsecret" in fake.raw_received


@pytest.mark.asyncio
async def test_slow_stream_consumer_loses_oldest_events_and_they_are_counted() -> None:
    async with FakeAsterisk() as fake, client_for(fake) as ami:
        newchannels = [e for e in fake.recording.events if e.name == "Newchannel"][:5]
        marker = fake.recording.event("Hangup")
        async with ami.events(maxsize=2) as slow, ami.events() as fast:
            await fake.send(b"".join(encode(e) for e in [*newchannels, marker]))
            await next_named(fast, "Hangup")  # all were delivered; `slow` read nothing yet
            kept = [await anext(slow), await anext(slow)]
            counters = ami.counters

    assert [e.name for e in kept] == ["Newchannel", "Hangup"]
    assert kept[0]["Uniqueid"] == newchannels[-1]["Uniqueid"]
    assert counters.events_dropped >= 4  # the FullyBooted of the login may be dropped too
    assert counters.events_received >= 6


@pytest.mark.asyncio
async def test_streams_end_when_the_client_closes() -> None:
    async with FakeAsterisk() as fake:
        ami = client_for(fake)
        await ami.start()
        stream = ami.events()
        await ami.close()
        async with asyncio.timeout(SAFETY):
            remaining = [e async for e in stream]

    assert all(e.name in ("FullyBooted",) for e in remaining)


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter_and_resets() -> None:
    backoff = ReconnectBackoff(0.5, 10.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    bases = [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]

    assert all(base / 2 <= d <= base for d, base in zip(delays, bases, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, not lock-step
    backoff.reset()
    assert 0.25 <= backoff.next_delay() <= 0.5
    same_seed = ReconnectBackoff(0.5, 10.0, rng=random.Random(1))
    assert [same_seed.next_delay() for _ in range(8)] == delays
    with pytest.raises(ValueError, match="initial"):
        ReconnectBackoff(2.0, 1.0)


@pytest.mark.asyncio
async def test_garbage_from_the_peer_ends_the_session_and_the_client_reconnects() -> None:
    logins: list[bool] = []
    reconnected = asyncio.Event()

    async def on_connect(again: bool) -> None:
        logins.append(again)
        if again:
            reconnected.set()
            raise RuntimeError("owner resync bug")  # logged, must not cost the connection

    async with FakeAsterisk() as fake, client_for(fake, on_connect=on_connect) as ami:
        await fake.send(b"this line has no colon\r\n\r\n")
        async with asyncio.timeout(SAFETY):
            await reconnected.wait()
        result = await ami.action("CoreStatus")

    assert logins == [False, True]
    assert result.ok
    assert ami.counters.reconnects == 1


@pytest.mark.asyncio
async def test_action_times_out_while_not_logged_in() -> None:
    async with FakeAsterisk() as fake, client_for(fake, backoff=(0.05, 0.05)) as ami:
        fake.login_gate = asyncio.Event()  # the next login is never answered
        fake.drop()
        async with asyncio.timeout(SAFETY):
            await fake.wait_until(lambda: fake.login_attempts == 2)
        with pytest.raises(AmiTimeout, match="not logged in"):
            await ami.action("CoreStatus", timeout=0.2)
        fake.login_gate.set()

    assert "CoreStatus" not in fake.action_names()


@pytest.mark.asyncio
async def test_close_fails_the_action_in_flight_with_a_clear_error() -> None:
    async with FakeAsterisk() as fake:
        fake.unanswered = {"corestatus"}
        ami = client_for(fake)
        await ami.start()

        async def in_flight() -> None:
            with pytest.raises(AmiClientClosed, match="closed"):
                await ami.action("CoreStatus", timeout=SAFETY)

        async with asyncio.timeout(SAFETY), asyncio.TaskGroup() as group:
            group.create_task(in_flight())
            await fake.wait_until(lambda: "CoreStatus" in fake.action_names())
            await ami.close()
        await ami.wait_closed()  # a plain close is not an error

    assert not ami.connected


@pytest.mark.asyncio
async def test_the_owner_hears_when_the_link_goes_down_and_comes_back() -> None:
    events: list[str] = []
    back = asyncio.Event()

    async def on_connect(reconnected: bool) -> None:
        events.append("up")
        if reconnected:
            back.set()

    async with (
        FakeAsterisk() as fake,
        client_for(fake, on_connect=on_connect, on_disconnect=lambda: events.append("down")),
    ):
        await fake.wait_until(lambda: events == ["up"])
        fake.drop()
        async with asyncio.timeout(SAFETY):
            await back.wait()
    assert events == ["up", "down", "up"]  # and no "down" for the close itself
