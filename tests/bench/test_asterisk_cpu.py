"""The pure parts of bench/asterisk_cpu.py (no Asterisk): reading /proc, the CPU-per-call and
percentile maths, and splitting the key -> ring time into AGI commands."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from acd.asterisk.ami.message import Message

BENCH = Path(__file__).resolve().parents[2] / "bench" / "asterisk_cpu.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_asterisk_cpu", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cpu = _load()

# /proc/<pid>/stat of an asterisk process, trimmed after field 17; utime 8123, stime 2041
PID_STAT = (
    "13930 (asterisk) S 1 13929 13929 0 -1 4194560 59622 0 3 0 8123 2041 0 0 20 0 71 0 "
    "21541 3117420544 31542 18446744073709551615"
)


def test_cpu_ticks_are_utime_plus_stime() -> None:
    assert cpu.proc_cpu_ticks(PID_STAT) == 8123 + 2041


def test_a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() -> None:
    odd = PID_STAT.replace("(asterisk)", "(ast (x) 1)")
    assert cpu.proc_cpu_ticks(odd) == 8123 + 2041


def test_machine_ticks_and_the_steal_share() -> None:
    before = cpu.machine_ticks("cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 50 0 25 400 5 0 2 18 0 0\n")
    after = cpu.machine_ticks("cpu  200 0 100 1500 10 0 10 85 0 0\n")
    assert before["steal"] == 35
    assert before["total"] == 1000
    assert after["total"] == 1905
    assert cpu.steal_share(before, after) == pytest.approx(50 / 905)
    assert cpu.steal_share(after, after) == 0.0


def test_an_old_kernel_without_a_steal_column() -> None:
    assert cpu.machine_ticks("cpu  1 2 3 4\n")["steal"] == 0
    with pytest.raises(ValueError, match="no cpu line"):
        cpu.machine_ticks("intr 1 2 3\n")


def test_cpu_per_call_takes_the_idle_rate_off() -> None:
    # idle 20 ticks in 10 s = 2 ticks/s; the run 300 s used 2,600 ticks, 600 of them idle:
    # 2,000 ticks = 20 s of CPU at 100 Hz over 100 calls = 200 ms a call
    per_call = cpu.cpu_ms_per_call(
        run_ticks=2600, run_s=300.0, idle_ticks=20, idle_s=10.0, calls=100, hz=100
    )
    assert per_call == pytest.approx(200.0)
    assert cpu.cpu_ms_per_call(
        run_ticks=50, run_s=5.0, idle_ticks=0, idle_s=0.0, calls=5, hz=100
    ) == pytest.approx(100.0)


def test_summary_is_nearest_rank_and_median() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    got = cpu.summary(reversed(values))
    assert got["n"] == 100
    assert got["p50"] == 50.5
    assert got["p90"] == 90.0  # index round(0.9 * 99) = 89
    assert got["p99"] == 99.0
    assert (got["min"], got["max"]) == (1.0, 100.0)
    assert cpu.summary([]) == {}
    assert cpu.summary([3.0])["p99"] == 3.0


def test_event_time_prefers_asterisks_timestamp() -> None:
    stamped = Message.build(Event="DialBegin", Timestamp="1764918000.123456")
    assert cpu.event_time(stamped, 5.0) == pytest.approx(1764918000.123456)
    assert cpu.event_time(Message.build(Event="DialBegin"), 5.0) == 5.0
    assert cpu.event_time(Message.build(Event="DialBegin", Timestamp="soon"), 5.0) == 5.0


@pytest.mark.parametrize(
    ("command", "label"),
    [
        ('EXEC MSet "HOTLINE_QUEUE=enquiries,HOTLINE_PRIORITY=0"', "EXEC MSet"),
        ('STREAM FILE hotline/zh/welcome "0123456789*#"', "STREAM FILE"),
        ("EXEC Dial Local/2001@bench-phones/n,9", "EXEC Dial"),
        ("ANSWER", "ANSWER"),
        ("", ""),
    ],
)
def test_command_labels(command: str, label: str) -> None:
    assert cpu.command_label(command) == label


def _agi(
    t: float, name: str, command_id: str, command: str, uid: str = "c1"
) -> tuple[float, Message]:
    return t, Message.build(Event=name, Uniqueid=uid, CommandId=command_id, Command=command)


def test_steps_between_the_key_and_the_ring() -> None:
    events = [
        _agi(0.000, "AGIExecStart", "1", "STREAM FILE hotline/zh/welcome 0123"),
        _agi(0.500, "AGIExecStart", "9", "ANSWER", uid="other"),  # another caller
        _agi(1.0008, "AGIExecEnd", "1", "STREAM FILE hotline/zh/welcome 0123"),
        _agi(1.0020, "AGIExecStart", "2", 'EXEC MSet "HOTLINE_QUEUE=enquiries"'),
        _agi(1.0025, "AGIExecEnd", "2", 'EXEC MSet "HOTLINE_QUEUE=enquiries"'),
        _agi(1.0030, "AGIExecStart", "3", "EXEC Dial Local/2001@bench-phones/n,9"),
    ]
    steps = cpu.steps_between(events, "c1", key=1.0, ring=1.0034)
    assert [label for label, _ in steps] == [
        "STREAM FILE (from the key)",
        "(daemon)",
        "EXEC MSet",
        "(daemon)",
        "EXEC Dial -> DialBegin",
    ]
    assert [round(ms, 1) for _, ms in steps] == [0.8, 1.2, 0.5, 0.5, 0.4]
    assert sum(ms for _, ms in steps) == pytest.approx(3.4)


def test_queue_entry_without_the_place_command_is_the_end_of_the_command_before_the_dial() -> None:
    events = [
        _agi(0.000, "AGIExecStart", "1", "STREAM FILE hotline/zh/welcome 0123"),
        _agi(1.0008, "AGIExecEnd", "1", "STREAM FILE hotline/zh/welcome 0123"),
        _agi(1.0009, "AGIExecEnd", "8", "ANSWER", uid="other"),  # another caller
        _agi(1.0020, "AGIExecStart", "3", "EXEC Dial Local/2001@bench-phones/n,9,B(x)"),
        _agi(1.0030, "AGIExecEnd", "3", "EXEC Dial Local/2001@bench-phones/n,9,B(x)"),
    ]
    assert cpu.queue_entry_without_place(events, "c1") == 1.0008
    assert cpu.queue_entry_without_place(events[:3], "c1") is None  # no Dial


def test_the_step_table_takes_the_commonest_sequence() -> None:
    a = [("STREAM FILE (from the key)", 1.0), ("EXEC Dial -> DialBegin", 2.0)]
    b = [("STREAM FILE (from the key)", 3.0), ("EXEC Dial -> DialBegin", 4.0)]
    odd = [("(the key) -> DialBegin", 9.0)]
    table = cpu.step_table([{"steps": a}, {"steps": b}, {"steps": odd}, {}])
    assert (table["samples"], table["of"]) == (2, 3)
    assert [s["step"] for s in table["steps"]] == [
        "STREAM FILE (from the key)",
        "EXEC Dial -> DialBegin",
    ]
    assert table["steps"][0]["p50"] == 2.0
    assert table["steps"][1]["max"] == 4.0
    assert cpu.step_table([{}]) == {}
