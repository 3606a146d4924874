"""``Settings``: everything from the config dir in one frozen value, loaded once at start.

Other packages read plain values from here (``settings.queues``, ``settings.agents`` are tuples of
frozen models) and map them onto their own types; nothing here knows about the engine.
"""

from __future__ import annotations

from pathlib import Path

from acd.settings.common import FrozenModel
from acd.settings.schema_callbacks import CallbackSettings
from acd.settings.schema_ivr import IvrFile, Menu
from acd.settings.schema_phones import PhoneQuality, PhonesSettings
from acd.settings.schema_recording import RecordingFile
from acd.settings.schema_routing import (
    AgentSettings,
    PauseReason,
    QueueSettings,
    SupervisorSettings,
)
from acd.settings.schema_service import Calendar, TargetsFile
from acd.settings.schema_system import (
    AmiSettings,
    DatabaseSettings,
    FastAgiSettings,
    HttpSettings,
    LoggingSettings,
    MqttSettings,
    SystemSettings,
)


class Settings(FrozenModel):
    config_dir: Path
    system: SystemSettings  # hotline.yaml
    skills: tuple[str, ...]  # queues.yaml
    default_queue: str  # queues.yaml
    queues: tuple[QueueSettings, ...]  # queues.yaml
    agents: tuple[AgentSettings, ...]  # agents.yaml
    ivr: IvrFile  # ivr.yaml
    calendars: tuple[Calendar, ...]  # hours.yaml
    recording: RecordingFile  # recording.yaml (with qa)
    targets: TargetsFile  # targets.yaml
    callbacks: CallbackSettings = CallbackSettings()  # queues.yaml
    phones: PhonesSettings = PhonesSettings()  # agents.yaml phones:
    supervisors: tuple[SupervisorSettings, ...] = ()  # agents.yaml
    pause_reasons: tuple[PauseReason, ...] = ()  # agents.yaml

    # hotline.yaml sections, for brevity at call sites
    @property
    def ami(self) -> AmiSettings:
        return self.system.ami

    @property
    def fastagi(self) -> FastAgiSettings:
        return self.system.fastagi

    @property
    def mqtt(self) -> MqttSettings:
        return self.system.mqtt

    @property
    def database(self) -> DatabaseSettings:
        return self.system.database

    @property
    def http(self) -> HttpSettings:
        return self.system.http

    @property
    def logging(self) -> LoggingSettings:
        return self.system.logging

    @property
    def timezone(self) -> str:
        return self.system.timezone

    def queue(self, name: str) -> QueueSettings:
        """The queue called ``name``; KeyError if there is none."""
        for queue in self.queues:
            if queue.name == name:
                return queue
        raise KeyError(name)

    def supervisor(self, supervisor_id: str) -> SupervisorSettings | None:
        return next((s for s in self.supervisors if s.id == supervisor_id), None)

    def agent(self, agent_id: str) -> AgentSettings:
        for agent in self.agents:
            if agent.id == agent_id:
                return agent
        raise KeyError(agent_id)

    def pause_reason(self, given: str) -> str | None:
        """The configured pause reason named or coded by ``given`` (its ``name``); with no
        ``pause_reasons`` configured, ``given`` itself; None when it is not one of them."""
        if not self.pause_reasons:
            return given
        for reason in self.pause_reasons:
            if given in (reason.name, reason.code):
                return reason.name
        return None

    def phone_quality(self, agent: AgentSettings) -> PhoneQuality:
        """The agent's qualify settings and RTT limit: their location's, with their overrides."""
        return self.phones.quality(agent.location, agent.quality)

    def menu(self, menu_id: str) -> Menu:
        for menu in self.ivr.menus:
            if menu.id == menu_id:
                return menu
        raise KeyError(menu_id)

    def calendar(self, name: str) -> Calendar:
        for calendar in self.calendars:
            if calendar.name == name:
                return calendar
        raise KeyError(name)

    def members(self, queue_name: str) -> tuple[AgentSettings, ...]:
        """Agents holding the queue's skill at any level (relax rules may go down to 1)."""
        skill = self.queue(queue_name).skill
        return tuple(a for a in self.agents if skill in a.skills)

    def retention_days(self, queue_name: str) -> int:
        """How long a queue's recordings are kept: the queue's own value, else recording.yaml's."""
        days = self.queue(queue_name).recording_retention_days
        return days if days is not None else self.recording.retention_days
