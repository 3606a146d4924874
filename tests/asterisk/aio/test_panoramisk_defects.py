"""Characterisation of the pinned panoramisk 1.4: the seven defects that made us write our own
AMI client (docs/panoramisk.md). Each test passes *because* the defect is there; if a panoramisk
upgrade fixes one, its test fails and docs/panoramisk.md should be revisited.

(b)-(g) run panoramisk's real Manager against the fake Asterisk over TCP on 127.0.0.1; (a) feeds
its protocol object two chunks directly so the split point is exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fake_asterisk_ami import SAFETY, FakeAsterisk, recording, renamed
from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from acd.asterisk.ami.message import encode


class _Transport(asyncio.Transport):
    def write(self, data: Any) -> None:
        pass


@asynccontextmanager
async def panoramisk_manager(
    fake: FakeAsterisk, *, secret: str = "acdsecret", **config: Any
) -> AsyncIterator[Any]:
    config.setdefault("ping_delay", 60)
    manager = Manager(
        host="127.0.0.1",
        port=fake.port,
        username="acd",
        secret=secret,
        reconnect_timeout=0,
        loop=asyncio.get_running_loop(),
        **config,
    )
    await manager.connect()
    try:
        yield manager
    finally:
        # close() alone does not stop reconnecting (defect g): disarm connect() first.
        manager.connect = lambda *args, **kwargs: None
        manager.close()


def signal() -> tuple[asyncio.Event, Callable[..., None]]:
    event = asyncio.Event()
    return event, lambda *args: event.set()


@pytest.mark.asyncio
async def test_a_panoramisk_drops_a_utf8_character_split_across_reads() -> None:
    manager = Manager(loop=asyncio.get_running_loop())
    names: list[str] = []
    manager.register_event("Newchannel", lambda _m, event: names.append(event.CallerIDName))
    protocol = AMIProtocol()
    protocol.connection_made(_Transport())
    protocol.factory = manager
    protocol.encoding = "utf8"
    data = encode(renamed(recording().event("Newchannel"), "Zoë Müller"))
    split = data.index("ë".encode()) + 1

    protocol.data_received(data[:split])
    protocol.data_received(data[split:])

    assert names == ["Zo Müller"]  # each read is decoded alone with errors="ignore"


@pytest.mark.asyncio
async def test_b_panoramisk_drops_the_connection_when_a_callback_raises() -> None:
    def broken(_manager: Any, _event: Any) -> None:
        raise RuntimeError("owner bug")

    async with FakeAsterisk() as fake:
        logged_in, on_login = signal()
        async with panoramisk_manager(fake, on_login=on_login) as manager:
            manager.register_event("Newchannel", broken)
            async with asyncio.timeout(SAFETY):
                await logged_in.wait()
                await fake.send(encode(fake.recording.event("Newchannel")))
                await fake.wait_until(lambda: fake.closed_connections == 1)

    assert fake.closed_connections >= 1


@pytest.mark.asyncio
async def test_c_panoramisk_never_notices_that_pings_go_unanswered() -> None:
    async with FakeAsterisk() as fake:
        fake.hang_after_login = {1}
        async with panoramisk_manager(fake, ping_delay=0, ping_interval=1):
            # Pings 2 and 3 come after the login, each unanswered for a whole interval by ping 4.
            async with asyncio.timeout(SAFETY):
                await fake.wait_until(lambda: fake.action_names(connection=1).count("Ping") >= 4)

            assert fake.closed_connections == 0  # still "connected" to a hung Asterisk
            assert fake.connections == 1


@pytest.mark.asyncio
async def test_d_panoramisk_resends_queued_actions_only_on_fully_booted() -> None:
    async with FakeAsterisk(fully_booted=False) as fake:
        fake.unanswered = {"corestatus"}
        logins: list[object] = []
        second_login, set_second = signal()

        def on_login(manager: Any) -> None:
            logins.append(manager)
            if len(logins) == 2:
                set_second()

        async with panoramisk_manager(fake, on_login=on_login) as manager:
            async with asyncio.timeout(SAFETY):
                await fake.wait_until(lambda: fake.login_attempts == 1)
                queued = manager.send_action({"Action": "CoreStatus"})
                await fake.wait_until(lambda: "CoreStatus" in fake.action_names())
                fake.unanswered = set()
                fake.drop()
                await second_login.wait()
                settings = await manager.send_action({"Action": "CoreSettings"})

            assert settings.AsteriskVersion == "22.10.1"
            assert fake.action_names(connection=2) == ["Login", "CoreSettings"]
            assert not queued.done()  # waits for a FullyBooted that never comes
            queued.cancel()


@pytest.mark.asyncio
async def test_e_panoramisk_retries_a_wrong_secret_forever() -> None:
    async with FakeAsterisk() as fake, panoramisk_manager(fake, secret="wrong") as manager:
        async with asyncio.timeout(SAFETY):
            await fake.wait_until(lambda: fake.login_attempts >= 3)

        assert fake.connections >= 3
        assert manager.authenticated is False


@pytest.mark.asyncio
async def test_f_panoramisk_hangs_on_queue_add() -> None:
    async with FakeAsterisk() as fake:
        logged_in, on_login = signal()
        async with panoramisk_manager(fake, on_login=on_login) as manager:
            async with asyncio.timeout(SAFETY):
                await logged_in.wait()
                added = manager.send_action(
                    {"Action": "QueueAdd", "Queue": "sales", "Interface": "Local/agent4@agents/n"}
                )
                # Answered after QueueAdd's reply on the same socket:
                await manager.send_action({"Action": "CoreStatus"})

            assert not added.done()  # "Added interface to queue" was taken for a list start
            added.cancel()


@pytest.mark.asyncio
async def test_g_panoramisk_close_does_not_stop_reconnecting() -> None:
    async with FakeAsterisk() as fake:
        logins: list[asyncio.Event] = [asyncio.Event(), asyncio.Event()]

        def on_login(manager: Any) -> None:
            next(e for e in logins if not e.is_set()).set()

        def close_on_disconnect(manager: Any, _exc: object) -> None:
            manager.close()  # the owner shuts down as soon as the connection drops

        async with panoramisk_manager(
            fake, on_login=on_login, on_disconnect=close_on_disconnect
        ) as manager:
            async with asyncio.timeout(SAFETY):
                await logins[0].wait()
                fake.drop()
                await logins[1].wait()  # logged in again after close()

            assert fake.connections == 2
            assert manager.authenticated is True
