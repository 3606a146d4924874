"""MQTT publisher: one task owns the broker connection, reconnects, and drains a bounded buffer.

``publish()`` never blocks the caller (the ACD owner task must not wait on a broker); the
publication is buffered and sent by ``run()``. ``deliver()`` is for the one message a caller must
wait for (the agent's screen pop before the phone rings): it returns once the broker has it.
A publication is removed from the buffer only after
the client accepted it, so a broker outage loses nothing until the buffer bound is hit.

Screen pops carry customers' names, numbers and VIP flags: the broker connection can use a
username and password (the password from the environment, ``mqtt.password_env``) and TLS with
the broker's CA and a client certificate (``mqtt.tls``); docs/security.md has a broker ACL.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from dataclasses import dataclass

import aiomqtt

from acd.events.buffer import PublishBuffer
from acd.events.topics import Publication
from acd.logging import get_logger
from acd.settings.schema_system import MqttSettings

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class MqttAuth:
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None  # TLS when set: the CA that signed the broker's certificate
    cert_file: str | None = None  # client certificate (and its key) when the broker asks
    key_file: str | None = None

    def tls_params(self) -> aiomqtt.TLSParameters | None:
        if self.ca_file is None:
            return None
        return aiomqtt.TLSParameters(
            ca_certs=self.ca_file,
            certfile=self.cert_file,
            keyfile=self.key_file,
            cert_reqs=ssl.CERT_REQUIRED,  # the broker must prove who it is
        )


class MqttPublisher:
    def __init__(
        self,
        host: str,
        port: int = 1883,
        *,
        client_id: str = "hotline",
        buffer_size: int = 10_000,
        backoff: tuple[float, float] = (0.2, 10.0),
        rng: random.Random | None = None,
        auth: MqttAuth | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self._auth = auth or MqttAuth()
        self.buffer = PublishBuffer(buffer_size)
        self.connected = asyncio.Event()
        self.connects = 0
        self.published = 0
        self._wake = asyncio.Event()
        self._delivered: dict[int, tuple[Publication, asyncio.Future[None]]] = {}
        self._closing = False
        self._abandoned = False
        self._backoff = backoff
        self._rng = rng or random.Random()

    @classmethod
    def from_settings(cls, mqtt: MqttSettings) -> MqttPublisher:
        tls = mqtt.tls
        auth = MqttAuth(
            username=mqtt.username,
            password=mqtt.password.get_secret_value() if mqtt.password is not None else None,
            ca_file=tls.ca_file if tls is not None else None,
            cert_file=tls.cert_file if tls is not None else None,
            key_file=tls.key_file if tls is not None else None,
        )
        return cls(
            mqtt.host,
            mqtt.port,
            client_id=mqtt.client_id,
            buffer_size=mqtt.buffer_size,
            auth=auth,
        )

    def publish(self, pub: Publication) -> None:
        if self._abandoned:
            return
        self.buffer.push(pub)
        self._wake.set()

    async def deliver(self, pub: Publication, timeout_s: float) -> bool:
        """Publish ahead of anything buffered and wait until the client handed ``pub`` to the
        broker (QoS 1: its PUBACK). False at once while the broker is away, or after
        ``timeout_s``; either way ``pub`` stays queued and goes out later."""
        if not self.connected.is_set() or self._abandoned:
            self.publish(pub)
            return False
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._delivered[id(pub)] = (pub, done)
        self.buffer.push(pub, first=True)
        self._wake.set()
        try:
            async with asyncio.timeout(timeout_s):
                await done
        except TimeoutError:
            return False
        finally:
            self._delivered.pop(id(pub), None)
        return True

    async def run(self) -> None:
        """Connect, drain, reconnect on failure; returns after ``close()`` once drained."""
        delay = self._backoff[0]
        while not self._closing or len(self.buffer):
            try:
                auth = self._auth
                async with aiomqtt.Client(
                    self.host,
                    self.port,
                    identifier=self.client_id,
                    timeout=5,
                    username=auth.username,
                    password=auth.password,
                    tls_params=auth.tls_params(),
                ) as client:
                    self.connects += 1
                    self.connected.set()
                    delay = self._backoff[0]
                    log.info("mqtt_connected", host=self.host, port=self.port)
                    await self._drain(client)
                    return
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                if self._closing:
                    log.warning("mqtt_unavailable_at_close", unsent=len(self.buffer))
                    return
                log.warning("mqtt_link_down", error=str(exc), retry_in_s=round(delay, 1))
                await asyncio.sleep(delay * (0.5 + self._rng.random()))
                delay = min(delay * 2, self._backoff[1])

    async def _drain(self, client: aiomqtt.Client) -> None:
        while True:
            pub = self.buffer.peek()
            if pub is None:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await client.publish(pub.topic, pub.payload, qos=pub.qos, retain=pub.retain)
            # Only now is it the client's: an exception above leaves it buffered for a retry.
            if self.buffer.peek() is pub:
                self.buffer.pop()
            self.published += 1
            waiting = self._delivered.get(id(pub))
            if waiting is not None and waiting[0] is pub and not waiting[1].done():
                waiting[1].set_result(None)

    def close(self) -> None:
        """Ask ``run()`` to flush what is buffered and return."""
        self._closing = True
        self._wake.set()

    def abandon(self) -> int:
        """Stop publishing at once: drop what is buffered, ignore what comes later, and let
        ``run()`` return (a daemon that lost its leadership must not overwrite the retained
        states the new active daemon publishes). How many messages were dropped."""
        self._abandoned = True
        self._closing = True
        dropped = self.buffer.clear()
        self._wake.set()
        return dropped
