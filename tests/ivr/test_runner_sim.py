"""One IVR call through the PBX simulator: a simulated caller dials the hotline, Asterisk's side
connects to our FastAGI server, and the caller keys its menu choices in reply to the prompts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd.asterisk.agi.router import Router
from acd.asterisk.aio.agi_server import AgiHandler, FastAgiServer
from acd.asterisk.aio.agi_session import AgiSession
from acd.daemon.ivr_port import IvrOutcome
from acd.settings.loader import load_settings
from acd.settings.names import CHANNEL_LANGUAGE
from acd.sim.plan import CallerBehaviour, DialplanPlan, SimPlan
from acd.sim.reference_dialplan import reference_extensions
from acd.sim.runtime import Simulator
from ivr.runner import MenuRunner
from tests.ivr.scripted_call import OPEN_TIME, ticking_clock

SETTINGS = load_settings(Path(__file__).resolve().parents[2] / "config", require_secrets=False)
SOUNDS = {
    f"hotline/zh/{name}": 0.5
    for name in ("welcome", "main-menu", "complaints-menu", "invalid-choice", "no-choice")
}


@pytest.mark.asyncio
async def test_complaint_call_through_the_simulator(tmp_path: Path) -> None:
    runner = MenuRunner.from_settings(
        SETTINGS, orders=None, clock=ticking_clock(), wall_clock=lambda: OPEN_TIME
    )
    outcome: asyncio.Future[IvrOutcome] = asyncio.get_running_loop().create_future()
    seen: list[tuple[str, ...]] = []

    async def ivr(session: AgiSession) -> None:
        seen.append(session.args)
        language = runner.language(session)
        await session.set_variable(CHANNEL_LANGUAGE, language)
        outcome.set_result(
            await runner(session, caller_number=session.args[-1], vip=False, language=language)
        )

    route: AgiHandler = ivr
    async with FastAgiServer(Router({"ivr": route}), port=0) as server:
        plan = SimPlan(dialplan=DialplanPlan(agi_port=server.port), sounds=SOUNDS)
        async with Simulator(plan, seed=3, recordings_dir=tmp_path, time_scale=10.0) as sim:
            # "9" is no option: the invalid prompt, then the menu again; then 3 and 1
            caller = CallerBehaviour(number="5550300", prompt_answers=("9", "3", "1"),
                                     answer_delay=0.2, hangup_after=60.0)  # fmt: skip
            await sim.place_call(caller)
            async with asyncio.timeout(15):
                result = await outcome
    assert seen == [("hotline", "5550300")]
    assert (result.kind, result.queue, result.priority) == ("queue", "complaints", 7)
    assert result.reason == "product_quality"
    assert [(n["node"], n["keys"]) for n in result.path] == [
        ("main", ["9", "3"]),
        ("complaints", ["1"]),
    ]


async def _ivr_then_play(
    tmp_path: Path, agi_script: str, sound: str
) -> tuple[IvrOutcome, str | None, int | None]:
    """One call through the simulator: the language the runner chose set with ``MSet`` (a
    function among variables), the IVR, then in the same session the channel's language
    and the end position of ``sound`` played by plain name (0: no file in that language)."""
    runner = MenuRunner.from_settings(
        SETTINGS, orders=None, clock=ticking_clock(), wall_clock=lambda: OPEN_TIME
    )
    done: asyncio.Future[tuple[IvrOutcome, str | None, int | None]] = (
        asyncio.get_running_loop().create_future()
    )

    async def ivr(session: AgiSession) -> None:
        # as the call flow does: the runner's choice with the call's variables, in one MSet
        chosen = runner.language(session)
        await session.set_variables(("HOTLINE_CALL_ID", "x"), (CHANNEL_LANGUAGE, chosen))
        outcome = await runner(session, caller_number=session.args[-1], vip=False, language=chosen)
        language = await session.get_variable(CHANNEL_LANGUAGE)
        reply = await session.stream_file(sound)
        done.set_result((outcome, language, reply.endpos))

    # the announcement exists in Chinese only, as `hotline prompts build` installs it
    sounds = {**{f"hotline/{lang}/{n}": 0.5 for n in ("welcome", "main-menu", "complaints-menu")
                 for lang in ("zh", "en")}, f"zh/{sound}": 1.0}  # fmt: skip
    route: AgiHandler = ivr
    async with FastAgiServer(Router({"ivr": route}), port=0) as server:
        # the reference [hotline] with its AGI script fixed (``ivr?lang=en``: an English line)
        text = reference_extensions("127.0.0.1", server.port).replace(
            '${IF($["${AGI_SCRIPT}"=""]?ivr:${AGI_SCRIPT})}', agi_script
        )
        assert agi_script in text
        dialplan = DialplanPlan(text=text, agi_port=server.port)
        plan = SimPlan(dialplan=dialplan, sounds=sounds)
        async with Simulator(plan, seed=3, recordings_dir=tmp_path, time_scale=10.0) as sim:
            caller = CallerBehaviour(number="5550301", prompt_answers=("3", "1"),
                                     answer_delay=0.2, hangup_after=60.0)  # fmt: skip
            await sim.place_call(caller)
            async with asyncio.timeout(15):
                return await done


@pytest.mark.asyncio
async def test_the_callers_language_is_set_on_the_channel(tmp_path: Path) -> None:
    zh, zh_language, zh_endpos = await _ivr_then_play(tmp_path, "ivr", "queue-thereare")
    assert (zh.language, zh.queue) == ("zh", "complaints")
    assert zh_language == "zh"
    assert zh_endpos == 8000  # zh/queue-thereare, found through the channel's language
    en, en_language, en_endpos = await _ivr_then_play(tmp_path, "ivr?lang=en", "queue-thereare")
    assert (en.language, en.queue) == ("en", "complaints")
    assert en_language == "en"
    assert en_endpos == 0  # no English file in this plan: Asterisk's "does not exist" reply
