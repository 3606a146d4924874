"""The seven panoramisk 1.4 defects (docs/panoramisk.md), each shown fixed in our AmiClient.

Every test runs the real client against a scripted fake Asterisk on 127.0.0.1 that replays bytes
recorded from Asterisk 22.10.1. ``asyncio.timeout(SAFETY)`` only turns a hang into a failure; no
test asserts a duration.
"""

from __future__ import annotations

import asyncio

import pytest
from fake_asterisk_ami import SAFETY, FakeAsterisk, client_for, next_named, renamed
from structlog.testing import capture_logs

from acd.asterisk.aio.ami_client import AmiClientClosed, AmiConnectionLost, AmiLoginError
from acd.asterisk.ami.message import Message, encode


@pytest.mark.asyncio
async def test_a_utf8_character_split_across_reads_arrives_intact() -> None:
    async with FakeAsterisk() as fake, client_for(fake) as ami, ami.events() as stream:
        event = renamed(fake.recording.event("Newchannel"), "Zoë Müller")
        data = encode(event)
        inside_e_umlaut = data.index("ë".encode()) + 1  # between the two bytes of U+00EB
        await fake.send(data, split_at=inside_e_umlaut)

        received = await next_named(stream, "Newchannel")

    assert received["CallerIDName"] == "Zoë Müller"
    assert received.headers == event.headers


@pytest.mark.asyncio
async def test_b_raising_subscriber_does_not_drop_the_connection() -> None:
    def broken_subscriber(event: Message) -> None:
        raise RuntimeError("owner bug")

    async with FakeAsterisk() as fake, client_for(fake) as ami, ami.events() as stream:
        ami.subscribe(broken_subscriber)
        seen: list[str] = []
        ami.subscribe(lambda event: seen.append(event["Uniqueid"]))
        first, second = [e for e in fake.recording.events if e.name == "Newchannel"][:2]
        with capture_logs() as logs:
            await fake.send(encode(first))
            await fake.send(encode(second))
            await next_named(stream, "Newchannel")
            await next_named(stream, "Newchannel")
        result = await ami.action("CoreStatus")

        assert seen == [first["Uniqueid"], second["Uniqueid"]]
        failures = [e for e in logs if e["event"] == "ami_event_callback_failed"]
        assert len(failures) == 2  # one per event; the traceback goes with each
        assert all(e["log_level"] == "error" and e["exc_info"] is True for e in failures)
        assert "broken_subscriber" in failures[0]["callback"]
        assert [e["ami_event"] for e in failures] == ["Newchannel", "Newchannel"]
        assert result.ok
        assert fake.connections == 1
        assert ami.counters.reconnects == 0


@pytest.mark.asyncio
async def test_c_asterisk_that_stops_answering_ping_is_detected_and_reconnected() -> None:
    logins: list[bool] = []
    reconnected = asyncio.Event()

    async def on_connect(again: bool) -> None:
        logins.append(again)
        if again:
            reconnected.set()

    async with FakeAsterisk() as fake:
        fake.hang_after_login = {1}  # socket stays open, nothing is answered any more
        async with client_for(fake, ping_interval_s=0.2, on_connect=on_connect) as ami:
            async with asyncio.timeout(SAFETY):
                await reconnected.wait()
                await fake.wait_until(lambda: fake.closed_connections >= 1)
            result = await ami.action("CoreStatus")

            assert logins == [False, True]
            assert fake.connections == 2
            assert "Ping" in fake.action_names(connection=1)
            assert ami.counters.reconnects == 1
            assert result.ok


@pytest.mark.asyncio
async def test_d_actions_work_after_login_without_fully_booted() -> None:
    # An AMI user whose read= lacks "system" never gets FullyBooted.
    async with FakeAsterisk(fully_booted=False) as fake:
        fake.login_gate = asyncio.Event()
        ami = client_for(fake)
        try:
            async with asyncio.timeout(SAFETY), asyncio.TaskGroup() as group:
                group.create_task(ami.start())
                await fake.wait_until(lambda: fake.login_attempts == 1)
                # Issued while the login is still unanswered: it must go out right after it.
                queued = group.create_task(
                    ami.action(
                        "QueueAdd",
                        [("Queue", "sales"), ("Interface", "Local/agent4@agents/n")],
                    )
                )
                await asyncio.sleep(0)  # let the action start waiting (either order passes)
                fake.login_gate.set()
            status = await ami.action("CoreStatus")
        finally:
            await ami.close()

    assert queued.result().message == "Added interface to queue"
    assert status.ok
    assert fake.action_names() == ["Challenge", "Login", "QueueAdd", "CoreStatus"]


@pytest.mark.asyncio
async def test_e_wrong_secret_fails_once_and_is_not_retried() -> None:
    async with FakeAsterisk() as fake:
        ami = client_for(fake, secret="wrong")
        with pytest.raises(AmiLoginError) as raised:
            await ami.start()
        with pytest.raises(AmiLoginError):
            await ami.wait_closed()  # the supervisor has ended: nothing can retry
        with pytest.raises(AmiLoginError):
            await ami.action("Ping")
        async with asyncio.timeout(SAFETY):
            await fake.wait_until(lambda: fake.closed_connections == 1)

        assert str(raised.value) == "AMI login failed for user 'acd': Authentication failed"
        assert fake.login_attempts == 1
        assert fake.connections == 1
        assert b"wrong" not in fake.raw_received  # MD5 login: the secret never crossed the wire


@pytest.mark.asyncio
async def test_f_queue_add_returns_at_once() -> None:
    async with FakeAsterisk() as fake, client_for(fake) as ami:
        result = await ami.action(
            "QueueAdd",
            [("Queue", "sales"), ("Interface", "Local/agent4@agents/n"), ("Penalty", "0")],
            timeout=SAFETY,
        )

    assert result.ok
    assert result.message == "Added interface to queue"
    assert result.events == ()


@pytest.mark.asyncio
async def test_g_close_during_reconnect_wait_stops_reconnecting() -> None:
    backoff = 0.2
    async with FakeAsterisk() as fake:
        fake.unanswered = {"corestatus"}
        ami = client_for(fake, backoff=(backoff, backoff))
        await ami.start()

        async def lost_in_flight() -> None:
            with pytest.raises(AmiConnectionLost):
                await ami.action("CoreStatus", timeout=SAFETY)

        async with asyncio.timeout(SAFETY), asyncio.TaskGroup() as group:
            group.create_task(lost_in_flight())
            await fake.wait_until(lambda: "CoreStatus" in fake.action_names())
            fake.drop()
        # The client is now waiting to reconnect.
        async with asyncio.timeout(SAFETY):
            await ami.close()
        seen_at_close = fake.connections
        await asyncio.sleep(4 * backoff)  # the peer keeps listening: nobody must come back

        assert seen_at_close == 1
        assert fake.connections == 1
        with pytest.raises(AmiClientClosed):
            await ami.action("Ping")
