"""``hotline demo``: the daemon and the PBX simulator over real loopback sockets.

The simulator plays Asterisk (AMI server, FastAGI client, channels, Dial, app_queue, MixMonitor),
callers (menu keys, patience) and agents' softphones (ring, answer, talk); the daemon is the real
one from ``acd.app.daemon``, with SQLite in a temporary directory unless a database is given.
Everything that makes the demo different from production is in this module: the demo's queues
are always open, its agents are logged in at start, and its traffic is seeded.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from acd.asterisk.ami.event_filters import user_filters
from acd.asterisk.devices import device_of
from acd.daemon.waiting import SOUNDS as WAITING_SOUNDS
from acd.settings import names
from acd.settings.dialplan_render import install_placeholders, render_extensions_conf
from acd.settings.pbx_conf_render import render_manager_conf
from acd.settings.schema_routing import AgentSettings
from acd.settings.settings import Settings
from acd.sim.plan import (
    AgentBehaviour,
    CallerBehaviour,
    DialplanPlan,
    QueueMember,
    QueuePlan,
    SimPlan,
)
from acd.sim.traffic import arrival_times

PROMPT_SECONDS = 1.5  # length of every demo prompt in the simulator
# The simulator models these app_queue strategies; the others ring like rrmemory there.
_SIM_STRATEGY: dict[str, Literal["linear", "ringall", "rrmemory"]] = {
    "linear": "linear",
    "ringall": "ringall",
    "rrmemory": "rrmemory",
}


@dataclass(frozen=True, slots=True)
class DemoParams:
    agents: int | None = None  # None: the agents of config/agents.yaml
    calls_per_hour: float = 600.0
    duration_s: float = 60.0
    seed: int = 1
    talk_mean_s: float = 20.0
    ring_mean_s: float = 2.0
    answer_probability: float = 0.92
    patience_mean_s: float = 60.0
    impatient_share: float = 0.3
    returning_share: float = 0.3  # callers who called before (the demo's known customers)
    time_scale: float = 1.0  # simulated seconds per real second (tests run the PBX faster)
    back_from_auto_pause_s: float = 30.0  # an agent paused for missed rings unpauses after it


# (keys typed at successive prompts, weight): a realistic mix of the shipped hotline menu
MENU_PATHS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("1", "2"), 0.30),  # orders -> an agent
    (("2", "1"), 0.10),  # after-sales -> return or exchange
    (("2", "3"), 0.08),  # after-sales -> item missing
    (("2", "4"), 0.08),  # after-sales -> late delivery
    (("2", "6"), 0.06),  # after-sales -> quality problem
    (("3", "1"), 0.06),  # complaint -> product quality
    (("3", "2"), 0.04),  # complaint -> service attitude
    (("0",), 0.18),  # straight to an agent
    (("9", "0"), 0.05),  # a wrong key, then an agent
    ((), 0.05),  # types nothing: the menu's default after the retries
)


def demo_settings(settings: Settings, params: DemoParams) -> Settings:
    """Always-open queues (a demo runs at any hour), with ``agents`` a generated floor, and a
    throw-away FastAGI key that the simulated dialplan sends like an installed one would."""
    queues = tuple(q.model_copy(update={"hours": None}) for q in settings.queues)
    agents = settings.agents
    if params.agents is not None:
        agents = tuple(_generated_agents(settings, params.agents))
    fastagi = settings.system.fastagi
    if fastagi.key is None:
        fastagi = fastagi.model_copy(update={"key": SecretStr(secrets.token_urlsafe(24))})
    system = settings.system.model_copy(update={"fastagi": fastagi})
    return settings.model_copy(update={"queues": queues, "agents": agents, "system": system})


def _generated_agents(settings: Settings, count: int) -> Iterator[AgentSettings]:
    """Agents 2001..: each expert (5) in one skill, good (3) in the next, and able (2) to take
    the default queue, so every queue is staffed whatever the count."""
    skills = list(settings.skills)
    general = settings.queue(settings.default_queue).skill
    for i in range(count):
        levels = {general: 2, skills[(i + 1) % len(skills)]: 3, skills[i % len(skills)]: 5}
        yield AgentSettings(
            id=f"{2001 + i}",
            name=f"Agent {2001 + i}",
            endpoint=f"PJSIP/{2001 + i}",
            skills=levels,
        )


def sim_plan(
    settings: Settings,
    params: DemoParams,
    *,
    agi_port: int,
    recordings_dir: str,
    extra_sounds: Iterable[str] = (),
) -> SimPlan:
    """The simulated Asterisk for this configuration: the shipped dialplan (rendered for
    ``agi_port``), the fallback queues of queues.conf, every IVR prompt as a playable sound,
    the agents' phones."""
    rng = random.Random(params.seed)
    behaviours: dict[str, AgentBehaviour] = {}
    for agent in settings.agents:
        behaviours[agent.endpoint] = AgentBehaviour(
            answer_after=round(min(12.0, 0.5 + rng.expovariate(1.0 / params.ring_mean_s)), 3),
            answer_probability=params.answer_probability,
            talk_time=round(max(5.0, rng.expovariate(1.0 / params.talk_mean_s)), 3),
            hangs_up="agent",
        )
    queues = tuple(
        QueuePlan(
            q.name,
            _SIM_STRATEGY.get(q.fallback.strategy, "rrmemory"),
            float(q.fallback.member_timeout_s),
            1.0,
            tuple(
                QueueMember(a.endpoint, a.name, device_of(a.endpoint))
                for a in settings.members(q.name)
            ),
            monitor_format="wav",
        )
        for q in settings.queues
    )
    key = settings.system.fastagi.key
    dialplan = DialplanPlan(
        # the shipped dialplan itself, rendered for this FastAGI port and installed with the
        # FastAGI key (envsubst of the named placeholder), run by the simulator's dialplan
        # interpreter: the simulator cannot drift from what Asterisk would run
        text=install_placeholders(
            render_extensions_conf(_with_agi_port(settings, agi_port)),
            {settings.system.fastagi.key_env: key.get_secret_value() if key is not None else ""},
        ),
        source="dialplan/extensions.conf (rendered for this run)",
        context=names.CONTEXT_HOTLINE,
        agi_host=settings.system.fastagi.host,
        agi_port=agi_port,
    )
    # every sound the daemon and the features may play, so the demo plays no "missing file"
    names_ = [*prompt_names(settings), *extra_sounds, *WAITING_SOUNDS.values()]
    sounds = dict.fromkeys(names_, PROMPT_SECONDS)
    sounds.update({"beep": 0.4255, "beeperr": 0.36})  # core sounds: the feature-code tones
    # the AMI user's eventfilter lines from the manager.conf hotline ships: the simulated
    # Asterisk sends the daemon only what the installed one would
    manager_conf = render_manager_conf(settings)
    username = settings.system.ami.username
    return SimPlan(
        queues=queues,
        agents=behaviours,
        dialplan=dialplan,
        sounds=sounds,
        recordings_dir=recordings_dir,
        ami_event_filters={username: user_filters(manager_conf, username)},
    )


def _with_agi_port(settings: Settings, agi_port: int) -> Settings:
    fastagi = settings.system.fastagi.model_copy(update={"port": agi_port})
    return settings.model_copy(
        update={"system": settings.system.model_copy(update={"fastagi": fastagi})}
    )


def prompt_names(settings: Settings) -> set[str]:
    ivr = settings.ivr
    found: set[str] = set()

    def add(prompts: object) -> None:
        if isinstance(prompts, dict):
            for value in prompts.values():
                add(value)
        elif isinstance(prompts, list | tuple):
            found.update(str(p) for p in prompts)
        elif isinstance(prompts, str):
            found.add(prompts)

    add(dict(ivr.invalid_prompt))
    add(dict(ivr.timeout_prompt))
    for menu in ivr.menus:
        for prompts in (menu.prompt, menu.invalid_prompt, menu.timeout_prompt):
            if prompts is not None:
                add(dict(prompts))
    for calendar in settings.calendars:
        add(dict(calendar.closed_message))
    return found


@dataclass(frozen=True, slots=True)
class DemoCall:
    at: float
    caller: CallerBehaviour


def demo_calls(params: DemoParams, returning: Sequence[str] = ()) -> list[DemoCall]:
    """The seeded call sequence: Poisson arrivals, menu paths from MENU_PATHS, patience; a
    share of the callers are ``returning`` numbers (known customers, whose screen pops then
    show a name, VIP and their earlier calls)."""
    rng = random.Random(params.seed * 7919 + 1)
    calls: list[DemoCall] = []
    paths: Sequence[tuple[str, ...]] = [p for p, _ in MENU_PATHS]
    weights = [w for _, w in MENU_PATHS]
    for t in arrival_times(rng, params.calls_per_hour, params.duration_s):
        keys = rng.choices(paths, weights=weights)[0]
        patience = None
        if rng.random() < params.impatient_share:
            patience = round(20.0 + rng.expovariate(1.0 / params.patience_mean_s), 3)
        number = f"138{rng.randrange(10**8):08d}"
        if returning and rng.random() < params.returning_share:
            number = returning[rng.randrange(len(returning))]
        caller = CallerBehaviour(
            number=number,
            prompt_answers=keys,
            answer_delay=round(max(0.3, rng.expovariate(1 / 1.2)), 3),
            hangup_after=patience,
        )
        calls.append(DemoCall(round(t, 3), caller))
    return calls
