"""AMI PlayDTMF into a FastAGI session: the simulator against q1_playdtmf_results.json and
q1_playdtmf.txt of Asterisk 22.10.1 (the replies each command gave for each digit, the idle
race, two digits back to back, and Receive: no)."""

from __future__ import annotations

import pytest

from acd.asterisk.ami.message import Message
from acd.sim.dtmf import RECEIVE_LATENCY
from tests.dev_captures import capture_json
from tests.sim.capture_support import dev_plan, dialplan_channel, originate
from tests.sim.pbx_driver import Driver

RESULTS = capture_json("q1_playdtmf_results.json")


def _session() -> tuple[Driver, str]:
    """A t-agi call whose FastAGI server stays connected; the test sends its commands."""
    driver = Driver(dev_plan(), script=lambda _sid, _open: [])
    driver.keep_open = {1}
    originate(
        driver,
        "t-agi",
        data="3600",
        caller_id="q1 <5550001>",
        variables=[("TSCRIPT", "q1"), ("TCASE", "q1")],
    )
    driver.run_until(1.0)
    return driver, dialplan_channel(driver.run.messages, "t-agi")


def _press(driver: Driver, channel: str, command: str, digit: str, *, after: float = 0.3) -> str:
    """Send ``command``, PlayDTMF(Receive: yes) ``after`` s later; the reply (or "" if none
    came within 2 s)."""
    before = len(driver.run.replies(1))
    driver.send(1, [command])
    start = driver.now
    driver.at(start + after, lambda now: driver.pbx.play_dtmf(now, channel, digit, 0, True))
    driver.run_until(start + after + 2.0)
    replies = driver.run.replies(1)[before:]
    return replies[0].rstrip("\n") if replies else ""


def _recorded(case: str) -> list[tuple[str, str, str]]:
    """(command, digit, reply) of each recorded try, without repeats."""
    runs = RESULTS["runs"][case]
    return sorted({(entry["cmd"], entry["digit"], entry["reply"]) for entry in runs})


@pytest.mark.parametrize(
    "case",
    [
        "a_wait_for_digit",
        "c_say_number",
        "c2_say_number_non_escape",
        "d_get_data_during_prompt",
        "d2_get_data_after_prompt",
        "e_moh_app_then_wait",
    ],
)
def test_a_digit_wait_gets_the_played_digit(case: str) -> None:
    # c2: a digit that is not one of SAY NUMBER's escape digits does not interrupt it: it
    # finishes with 0; d: GET DATA returns the digit, and "#" ends it empty
    for command, digit, reply in _recorded(case):
        driver, channel = _session()
        if case.startswith("e_"):
            driver.send(1, ["EXEC StartMusicOnHold default"])
        after = 1.0 if case.startswith("d2") else 0.3  # d2: after the 0.43 s prompt
        assert _press(driver, channel, command, digit, after=after) == reply, (command, digit)


@pytest.mark.parametrize("case", ["b_stream_file_all_escapes", "b2_stream_file_escape_hash_only"])
def test_stream_file_is_interrupted_only_by_its_escape_digits(case: str) -> None:
    for command, digit, reply in _recorded(case):
        driver, channel = _session()
        got = _press(driver, channel, command, digit)
        if reply.startswith("<no reply"):
            assert got == "", digit  # still playing: not one of its escape digits
        else:
            assert got.split(" endpos=")[0] == reply.split(" endpos=")[0], digit
            # 0.3 s into the prompt in 8 kHz samples (recorded 2240-2560: 20 ms frames)
            assert int(got.split("endpos=")[1]) == pytest.approx(2400, abs=320)


def test_the_digit_reaches_the_running_wait_about_a_millisecond_later() -> None:
    driver, channel = _session()
    driver.send(1, ["WAIT FOR DIGIT -1"])
    sent = driver.now + 0.3
    driver.at(sent, lambda now: driver.pbx.play_dtmf(now, channel, "7", 0, True))
    driver.run_until(sent + 1.0)
    ((dtmf_at, dtmf),) = [(t, m) for t, m in driver.run.events if m.name == "DTMFEnd"]
    assert (dtmf_at, dtmf["Digit"], dtmf["DurationMs"], dtmf["Direction"]) == (
        sent,
        "7",
        "0",
        "Received",
    )  # recorded: only DTMFEnd, at once, DurationMs = the Duration header (absent: 0)
    ends = [t for t, m in driver.run.events if m.name == "AGIExecEnd" and "WAIT" in m["Command"]]
    assert ends == [pytest.approx(sent + RECEIVE_LATENCY)]
    stats = RESULTS["latency_stats_ms"]["a_wait_for_digit"]
    assert stats["min"] <= RECEIVE_LATENCY * 1000 <= stats["max"]


@pytest.mark.parametrize("entry", RESULTS["runs"]["g_idle_then_wait"])
def test_a_digit_played_while_no_command_waits_is_kept_for_100_ms(entry: dict[str, str]) -> None:
    driver, channel = _session()
    driver.pbx.play_dtmf(driver.now, channel, "3", 0, True)
    driver.pump()
    delay = float(entry["delay_after_playdtmf_s"])
    driver.at(driver.now + delay, lambda _now: driver.send(1, ["WAIT FOR DIGIT 1500"]))
    driver.run_until(driver.now + 3.0)
    assert driver.run.replies(1)[-1].rstrip("\n") == entry["reply"]


def test_two_digits_back_to_back_reach_two_waits_in_order() -> None:
    recorded = RESULTS["runs"]["h_two_digits_back_to_back"][0]
    driver, channel = _session()
    driver.send(1, ["WAIT FOR DIGIT -1"])

    def next_wait(_now: float, sid: int, text: str) -> None:
        if sid == 1 and text == recorded["first_reply"] + "\n":
            driver.queue_commands(1, ["WAIT FOR DIGIT 2000"], close_after=False)

    driver.on_reply = next_wait
    pressed = driver.now + 0.2
    driver.at(pressed, lambda now: driver.pbx.play_dtmf(now, channel, "8", 0, True))
    driver.at(pressed, lambda now: driver.pbx.play_dtmf(now, channel, "9", 0, True))
    driver.run_until(pressed + 3.0)
    assert [r.rstrip("\n") for r in driver.run.replies(1)[-2:]] == [
        recorded["first_reply"],
        recorded["next_wait_reply"],
    ]


def test_without_receive_the_digit_goes_to_the_far_end_and_interrupts_nothing() -> None:
    recorded = RESULTS["runs"]["no_receive"][0]
    driver, channel = _session()
    before = len(driver.run.events)
    assert _press_out(driver, channel) == recorded["reply"]
    dtmf: list[Message] = [m for _, m in driver.run.events[before:] if m.name.startswith("DTMF")]
    far_end = channel[:-1] + "1"
    assert [(m.name, m["Channel"] == far_end, m.get("DurationMs")) for m in dtmf] == [
        ("DTMFBegin", True, None),
        ("DTMFEnd", True, "100"),
    ]


def _press_out(driver: Driver, channel: str) -> str:
    before = len(driver.run.replies(1))
    driver.send(1, ["WAIT FOR DIGIT 3000"])
    start = driver.now
    driver.at(start + 0.3, lambda now: driver.pbx.play_dtmf(now, channel, "5", 70, False))
    driver.run_until(start + 4.0)
    return driver.run.replies(1)[before].rstrip("\n")


def test_play_dtmf_on_an_unknown_channel_is_refused() -> None:
    driver, _ = _session()
    assert not driver.pbx.play_dtmf(driver.now, "Local/nosuch-00000000;2", "1", 0, True)
