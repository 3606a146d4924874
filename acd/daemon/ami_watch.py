"""AMI observation: turns Asterisk's events into facts for the ACD, and resynchronises.

What we listen for (names and headers as recorded from Asterisk 22, shared/asterisk):
- ``DialEnd`` with ``DialStatus: ANSWER`` on the caller's channel (``Uniqueid`` is the caller,
  ``DestChannel`` the agent's leg): the agent answered. The FastAGI ``EXEC Dial`` only returns
  when the conversation is over, so this is how the answer time is known.
- ``DeviceStateChange`` for the agents' devices, passed on as Asterisk names the state (the
  agent state machine decides: in use or ringing is not offered, unavailable pauses). A Local
  endpoint's device has no ``/n``: ``Local/1003@agent-phones`` (``acd.asterisk.devices.device_of``).
- ``ContactStatus`` (res_pjsip qualify results, read class ``system``) of the agents' softphones:
  ``acd.daemon.phone_quality`` judges them; when an agent's phone becomes unreachable or too
  slow the floor pauses the agent with that reason, and unpauses when it is fit again only an
  agent still paused for it (``PhoneFitness``). When the link drops those verdicts are
  forgotten (a missed ``Reachable`` would otherwise keep the agent paused until the phone's next
  registration refresh); the resync's device states pause an unreachable phone's agent again.

When the link drops, no device state is known any more (``link_lost``): nobody stays blocked on
an INUSE whose NOT_INUSE the daemon could not hear.

The watcher never changes a call: the answer resolves the call's answer future
(``CallRegistry.answer_seen``), and the call flow acts on it.

After every (re)connect ``resync`` asks Asterisk for the device states (``DeviceStateList``) and
the live channels (``CoreShowChannels``): a call we think is alive whose channel is gone is told
so (``ChannelGone`` on its signals); its flow ends it and releases it on the floor, so no agent
stays reserved and no caller stays queued for a call that no longer exists. A ringing caller
the list shows bridged was answered while the link was down: its answer is caught up. An agent
restored talking (``acd.daemon.sessions``) whose phone has no channel any more is freed.
``synced`` is set once a resync has applied the device states, cleared when the link drops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence

from acd.asterisk.aio.ami_client import AmiClient, AmiError
from acd.asterisk.ami.contact_status import EVENT as CONTACT_STATUS
from acd.asterisk.ami.contact_status import parse_contact_status
from acd.asterisk.ami.message import Message
from acd.asterisk.devices import channel_device, device_of
from acd.asterisk.errors import RemoteProtocolError
from acd.daemon.calls import Call, CallRegistry, ChannelGone
from acd.daemon.phone_quality import PhoneTarget, PhoneWatch
from acd.daemon.service import AcdService
from acd.engine.agent import DeviceState
from acd.engine.floor import Floor
from acd.engine.floor_inputs import OutsideCallEnded
from acd.logging import get_logger

log = get_logger(__name__)


class AmiWatcher:
    def __init__(
        self,
        acd: AcdService,
        registry: CallRegistry,
        *,
        endpoints: Collection[str],
        clock: Callable[[], float],
        on_link: Callable[[bool], None] | None = None,
        phones: Mapping[str, PhoneTarget] | None = None,
    ) -> None:
        self._acd = acd
        self._registry = registry
        self._devices = frozenset(device_of(e) for e in endpoints)
        self._clock = clock
        self._on_link = on_link
        self.phones = PhoneWatch(phones or {})  # PJSIP endpoint -> the agent whose phone it is
        self.resyncs = 0
        self.released = 0
        self.answers_caught_up = 0  # answers the link missed, learnt from a resync
        self.synced = asyncio.Event()  # a resync has applied Asterisk's device states

    def on_event(self, event: Message) -> None:
        """Event callback (subscribed to the AMI client): cheap, never blocks."""
        name = event.name
        if name == "DialEnd":
            if event.get("DialStatus") == "ANSWER":
                uniqueid = event.get("Uniqueid")
                if uniqueid:
                    self._registry.answer_seen(uniqueid, self._clock(), event.get("DestChannel"))
        elif name == "DeviceStateChange":
            self._device(event)
        elif name == CONTACT_STATUS:
            self._contact(event)

    def _contact(self, event: Message) -> None:
        try:
            status = parse_contact_status(event)
        except RemoteProtocolError as exc:
            log.warning("contact_status_unreadable", error=str(exc))
            return
        change = self.phones.observe(status)
        if change is None:
            return
        log.info(
            "agent_phone_changed",
            agent_id=change.agent_id,
            endpoint=change.endpoint,
            verdict=change.verdict.value,
            previous=change.previous.value,
            rtt_ms=change.rtt_ms,
            rtt_limit_ms=change.rtt_limit_ms,
        )
        self._acd.phone_fitness(change.agent_id, change.pause_reason)

    def _device(self, event: Message) -> None:
        device = event.get("Device") or ""
        if device in self._devices:
            self._acd.device_state(device, DeviceState.parse(event.get("State") or ""))

    def link_lost(self) -> None:
        """The AMI client's ``on_disconnect``: device states are unknown until the resync."""
        self.synced.clear()
        self._acd.devices_unknown()
        for change in self.phones.forget():  # a missed "Reachable" must not pause for good
            log.info("agent_phone_unknown", agent_id=change.agent_id, why="AMI link lost")
            self._acd.phone_fitness(change.agent_id, None)
        if self._on_link is not None:
            self._on_link(False)

    async def resync(self, ami: AmiClient, reconnected: bool) -> None:
        """Called by the AMI client after each login: rebuild our view from Asterisk's."""
        self.resyncs += 1
        if self._on_link is not None:
            self._on_link(True)
        try:
            devices = await ami.action("DeviceStateList", timeout=10)
            for item in devices.events:
                self._device(item)
            # Only calls known before the list was asked for can be judged by it: a call that
            # arrives while the list is on its way is missing from it, yet alive.
            known = list(self._registry)
            channels = await ami.action("CoreShowChannels", timeout=10)
        except AmiError as exc:
            log.warning("ami_resync_incomplete", error=str(exc))
            return
        self.synced.set()
        live = {item.get("Uniqueid") for item in channels.events}
        live |= {item.get("Linkedid") for item in channels.events}
        self._answers_missed(known, channels.events)
        await self._outside_calls(channels.events)
        for call in known:
            if self._registry.get(call.call_id) is None:
                continue  # ended meanwhile
            if call.facts.uniqueid not in live:
                log.warning("call_channel_gone", call_id=call.call_id, channel=call.facts.channel)
                call.signals.requests.put_nowait(ChannelGone(self._clock()))
                self.released += 1
        # A reservation no live call stands behind cannot come from the call flow (it releases
        # every call once, at its end); this guards the floor against anything else that
        # engaged an agent (a bug, state restored from elsewhere).
        engaged = await self._acd.read(lambda f, _now: f.engaged_calls())
        for call_id in engaged:
            if self._registry.get(call_id) is None:
                log.warning("reserved_agent_released", call_id=call_id, why="no live call")
                self._acd.caller_left(call_id)
                self.released += 1
        log.info(
            "ami_resynchronised",
            answers_caught_up=self.answers_caught_up,
            reconnected=reconnected,
            devices=len(devices.events),
            channels=len(channels.events),
        )

    def _answers_missed(self, known: list[Call], channels: Sequence[Message]) -> None:
        """A caller whose ring was answered while the link was down is bridged now, with no
        ``DialEnd`` ever heard: resolve its answer, so the agent is shown talking (the
        conversation's start is the resync's time; the recording runs already, started over
        FastAGI before the Dial)."""
        bridges: dict[str, list[Message]] = {}
        for item in channels:
            bridge = item.get("BridgeId") or ""
            if bridge:
                bridges.setdefault(bridge, []).append(item)
        for item in channels:
            uniqueid, bridge = item.get("Uniqueid") or "", item.get("BridgeId") or ""
            call = self._registry.by_uniqueid(uniqueid)
            if not bridge or call is None or call not in known:
                continue
            peers = [p.get("Channel") for p in bridges[bridge] if p is not item]
            if self._registry.answer_seen(uniqueid, self._clock(), peers[0] if peers else None):
                log.warning("answer_caught_up", call_id=call.call_id, why="AMI was down")
                self.answers_caught_up += 1

    async def _outside_calls(self, channels: Sequence[Message]) -> None:
        """Agents restored talking (``acd.engine.sessions``) whose phone has no channel any
        more: their conversation ended while the link was down."""

        def outside(f: Floor, _now: float) -> list[tuple[str, str]]:
            return [
                (a.agent_id, f.specs[a.agent_id].device)
                for a in f.agents.values()
                if a.outside_call is not None
            ]

        busy = {channel_device(item.get("Channel") or "") for item in channels}
        for agent_id, device in await self._acd.read(outside):
            if device not in busy:
                log.info("outside_call_over", agent_id=agent_id, why="no channel on the phone")
                self._acd.post(OutsideCallEnded(agent_id))
