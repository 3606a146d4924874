"""The menu state machine, table-driven over the shipped ivr.yaml and small purpose-made menus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from acd.settings.loader import load_settings
from acd.settings.schema_ivr import IvrFile
from ivr.menu import (
    MAX_MENU_VISITS,
    MAX_REPEATS,
    Collect,
    Done,
    MenuCommand,
    MenuMachine,
    MenuStateError,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"
SHIPPED = load_settings(CONFIG, require_secrets=False).ivr

WELCOME = ("hotline/zh/welcome", "hotline/zh/main-menu")
INVALID = ("hotline/zh/invalid-choice",)
NO_CHOICE = ("hotline/zh/no-choice",)

Step = tuple[str, str] | str  # ("key", digits) | "timeout" | "hangup"


def walk(
    ivr: IvrFile, steps: list[Step], *, language: str = "zh"
) -> tuple[MenuMachine, list[MenuCommand]]:
    machine = MenuMachine(ivr, language=language, default_queue="enquiries")
    commands: list[MenuCommand] = [machine.start(0.0)]
    for i, step in enumerate(steps, start=1):
        now = float(i)
        if step == "timeout":
            commands.append(machine.timeout(now))
        elif step == "hangup":
            commands.append(machine.hangup(now))
        else:
            commands.append(machine.key(step[1], now))
    return machine, commands


def k(digits: str) -> Step:
    return ("key", digits)


# --- the shipped hotline menu: every action type -------------------------------------------------

SHIPPED_CASES: list[tuple[str, list[Step], Done]] = [
    ("orders -> status self-service", [k("1"), k("1")],
     Done("self_service", service="order_status")),
    ("orders -> agent", [k("1"), k("2")], Done("queue", "orders", None, "order_enquiry")),
    ("orders -> 0 agent in orders", [k("1"), k("0")], Done("queue", "orders")),
    ("after-sales reason", [k("2"), k("2")], Done("queue", "after_sales", None, "refund_status")),
    ("after-sales quality", [k("2"), k("6")],
     Done("queue", "after_sales", None, "quality_problem")),
    ("complaint at priority 7", [k("3"), k("4")], Done("queue", "complaints", 7, "logistics")),
    ("0 -> agent, default queue", [k("0")], Done("queue", "enquiries")),
    ("repeat then choose", [k("*"), k("*"), k("3"), k("1")],
     Done("queue", "complaints", 7, "product_quality")),
    ("garbage keys then default", [k("9"), k("x"), k("12"), k("#")], Done("queue", "enquiries")),
    ("silence then default", ["timeout"] * 4, Done("queue", "enquiries")),
    ("mixed failures in submenu: default", [k("2"), "timeout", k("7"), "timeout", k("")],
     Done("queue", "after_sales", None, "other")),
    ("failures then a valid key", [k("9"), "timeout", k("9"), k("2"), k("3")],
     Done("queue", "after_sales", None, "item_missing")),
    ("hang-up in the main menu", [k("5"), "hangup"], Done("hangup")),
    ("hang-up in a submenu", [k("2"), "hangup"], Done("hangup")),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "expected"), [c[1:] for c in SHIPPED_CASES],
                         ids=[c[0] for c in SHIPPED_CASES])  # fmt: skip
def test_shipped_menu_outcomes(steps: list[Step], expected: Done) -> None:
    machine, commands = walk(SHIPPED, steps)
    assert commands[-1] == expected
    assert all(isinstance(c, Collect) for c in commands[:-1])
    assert machine.result == expected


PROMPT_CASES: list[tuple[str, list[Step], tuple[str, ...]]] = [
    ("start", [], WELCOME),
    ("invalid key", [k("9")], INVALID + WELCOME),
    ("silence", ["timeout"], NO_CHOICE + WELCOME),
    ("repeat key", [k("*")], WELCOME),
    ("submenu", [k("1")], ("hotline/zh/orders-menu",)),
    ("invalid in submenu", [k("1"), k("5")], (*INVALID, "hotline/zh/orders-menu")),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "prompts"), [c[1:] for c in PROMPT_CASES],
                         ids=[c[0] for c in PROMPT_CASES])  # fmt: skip
def test_prompts_asked(steps: list[Step], prompts: tuple[str, ...]) -> None:
    _, commands = walk(SHIPPED, steps)
    assert commands[-1] == Collect(prompts, 5.0, 1)


def test_english_caller_hears_english() -> None:
    _, commands = walk(SHIPPED, [k("9")], language="en")
    assert commands[-1] == Collect(
        ("hotline/en/invalid-choice", "hotline/en/welcome", "hotline/en/main-menu"), 5.0, 1
    )


def test_retries_are_counted_per_menu() -> None:
    # three failures in main, then a submenu: its own three failures do not trip the default
    _, commands = walk(SHIPPED, [k("9"), k("9"), k("9"), k("2"), k("9"), k("9"), k("9")])
    assert isinstance(commands[-1], Collect)


def test_repeat_key_is_bounded() -> None:
    _, commands = walk(SHIPPED, [k("*")] * (MAX_REPEATS + 1))
    assert commands[-2] == Collect(WELCOME, 5.0, 1)
    assert commands[-1] == Done("queue", "enquiries")


# --- purpose-made menus: callback, depth limit, zero retries, missing translations ---------------


def ivr(**overrides: Any) -> IvrFile:
    data: dict[str, Any] = {
        "languages": ["zh", "en"],
        "default_language": "zh",
        "start_menu": "a",
        "max_depth": 2,
        "invalid_prompt": {"zh": "p/invalid"},
        "timeout_prompt": {"zh": "p/timeout"},
        "menus": [
            {"id": "a", "prompt": {"zh": "p/a", "en": "p/a-en"},
             "options": {"1": {"type": "submenu", "menu": "b"},
                         "2": {"type": "callback", "queue": "orders"},
                         "3": {"type": "callback"},
                         "4": {"type": "self_service", "service": "order_status"}},
             "max_retries": 0, "default_action": {"type": "callback"}},
            {"id": "b", "prompt": {"zh": "p/b"},
             "options": {"1": {"type": "submenu", "menu": "c"},
                         "2": {"type": "submenu", "menu": "a"}},
             "invalid_prompt": {"zh": "p/b-invalid"}, "max_retries": 1,
             "default_action": {"type": "submenu", "menu": "c"}},
            {"id": "c", "prompt": {"zh": "p/c"}, "options": {"1": {"type": "agent"}}},
        ],
    }  # fmt: skip
    data.update(overrides)
    return IvrFile.model_validate(data)


SMALL_CASES: list[tuple[str, list[Step], MenuCommand]] = [
    ("callback to a named queue", [k("2")], Done("callback", "orders")),
    ("callback to the default queue", [k("3")], Done("callback", "enquiries")),
    ("self-service", [k("4")], Done("self_service", service="order_status")),
    ("zero retries: first failure takes the default", [k("9")], Done("callback", "enquiries")),
    ("zero retries: silence too", ["timeout"], Done("callback", "enquiries")),
    ("menu's own invalid prompt", [k("1"), k("9")], Collect(("p/b-invalid", "p/b"), 5.0, 1)),
    ("global timeout prompt", [k("1"), "timeout"], Collect(("p/timeout", "p/b"), 5.0, 1)),
    ("depth limit: third level goes to an agent", [k("1"), k("1")], Done("queue", "enquiries")),
    ("default opening a too-deep menu: agent", [k("1"), k("9"), k("9")],
     Done("queue", "enquiries")),
    ("back up to the start menu is within depth", [k("1"), k("2")],
     Collect(("p/a",), 5.0, 1)),
    ("up and down again", [k("1"), k("2"), k("1"), k("9")],
     Collect(("p/b-invalid", "p/b"), 5.0, 1)),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "expected"), [c[1:] for c in SMALL_CASES],
                         ids=[c[0] for c in SMALL_CASES])  # fmt: skip
def test_small_menu(steps: list[Step], expected: MenuCommand) -> None:
    _, commands = walk(ivr(), steps)
    assert commands[-1] == expected


def test_menus_defaulting_to_each_other_end_with_an_agent() -> None:
    looping = ivr(
        max_depth=3,
        menus=[
            {"id": "a", "prompt": {"zh": "p/a"}, "options": {"1": {"type": "agent"}},
             "max_retries": 0, "default_action": {"type": "submenu", "menu": "b"}},
            {"id": "b", "prompt": {"zh": "p/b"}, "options": {"1": {"type": "agent"}},
             "max_retries": 0, "default_action": {"type": "submenu", "menu": "a"}},
        ],
    )  # fmt: skip
    machine, commands = walk(looping, ["timeout"] * MAX_MENU_VISITS)
    assert all(isinstance(c, Collect) for c in commands[:-1])
    assert commands[-1] == Done("queue", "enquiries")
    assert len(machine.path(99.0)) == MAX_MENU_VISITS


def test_missing_translation_falls_back_to_default_language() -> None:
    _, commands = walk(ivr(), [k("1")], language="en")
    assert commands[0] == Collect(("p/a-en",), 5.0, 1)
    assert commands[1] == Collect(("p/b",), 5.0, 1)  # menu b has no English prompt


# --- the path for the call row -------------------------------------------------------------------


def test_path_records_nodes_time_and_keys() -> None:
    machine = MenuMachine(SHIPPED, language="zh", default_queue="enquiries")
    machine.start(100.0)
    machine.key("9", 102.5)
    machine.timeout(108.0)
    machine.key("2", 110.0)
    done = machine.key("5", 113.25)
    assert done == Done("queue", "after_sales", None, "damaged_in_transit")
    assert machine.path(200.0) == (
        {"node": "main", "entered_at": 100.0, "seconds": 10.0, "keys": ["9", "2"],
         "result": "submenu", "depth": 1, "timeouts": 1},
        {"node": "after_sales", "entered_at": 110.0, "seconds": 3.25, "keys": ["5"],
         "result": "queue", "depth": 2, "timeouts": 0},
    )  # fmt: skip


def test_path_of_a_hang_up_keeps_the_walk_so_far() -> None:
    machine, _ = walk(SHIPPED, [k("3"), k("8"), "hangup"])
    nodes = machine.path(99.0)
    assert [n["node"] for n in nodes] == ["main", "complaints"]
    assert nodes[-1]["keys"] == ["8"]
    assert nodes[-1]["result"] == "hangup"
    assert nodes[-1]["seconds"] == 2.0  # entered at 1, hung up at 3; later `now` changes nothing


@pytest.mark.parametrize("step", ["key", "timeout", "hangup"])
def test_inputs_after_done_are_refused(step: str) -> None:
    machine, _ = walk(SHIPPED, [k("0")])
    inputs: dict[str, Callable[[], MenuCommand]] = {
        "key": lambda: machine.key("1", 5.0),
        "timeout": lambda: machine.timeout(5.0),
        "hangup": lambda: machine.hangup(5.0),
    }
    with pytest.raises(MenuStateError):
        inputs[step]()


def test_inputs_before_start_and_double_start_are_refused() -> None:
    machine = MenuMachine(SHIPPED, language="zh", default_queue="enquiries")
    with pytest.raises(MenuStateError):
        machine.key("1", 0.0)
    machine.start(0.0)
    with pytest.raises(MenuStateError):
        machine.start(1.0)
