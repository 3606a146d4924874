"""The recording as the first Dial's pre-dial handler (``CallRecording.order``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from acd.daemon.call_state import CallState
from acd.daemon.call_steps import Arrival
from acd.daemon.recording import CallRecording, RecordingSettings
from acd.sim.app_dial import dial_options
from recordings import catalogue

AT = 1_796_400_000.0  # 2026-12-04 UTC


def _call(call_id: str, queue: str) -> CallState:
    return replace(
        CallState(Arrival(call_id, call_id, "Local/x", "5550100", None, AT)), queue=queue
    )


def _recording(root: Path, *, dual: bool = True) -> CallRecording:
    return CallRecording(catalogue, lambda _w: None, RecordingSettings(root, dual_channel=dual))


def test_the_order_names_the_file_and_the_dials_b_option(tmp_path: Path) -> None:
    order = _recording(tmp_path).order(_call("1796400000.7", "orders"), AT)
    assert order is not None
    wav = tmp_path / "2026/12/04/orders/1796400000.7.wav"
    assert order.path == str(wav)
    stem = str(wav)[: -len(".wav")]
    options = f"br({stem}-in.wav)t({stem}-out.wav)"
    assert order.dial_option == f"B(hotline-record^s^1({wav}^{options}))"
    # what app_dial's option parser (parentheses nest) hands to Gosub, ^ standing for ,
    handler = dial_options(order.dial_option)["B"]
    assert handler == f"hotline-record^s^1({wav}^{options})"
    assert CallRecording.confirmed(order, str(wav))
    assert not CallRecording.confirmed(order, "")


def test_one_channel_recording_passes_option_b_alone(tmp_path: Path) -> None:
    order = _recording(tmp_path, dual=False).order(_call("c1", "orders"), AT)
    assert order is not None
    assert order.dial_option.endswith(f"({order.path}^b))")


def test_a_file_name_the_option_cannot_carry_leaves_the_call_unrecorded(tmp_path: Path) -> None:
    """A queue named with a comma (or ^, parentheses, a quote): Gosub would split the file
    name, so the call is not recorded rather than recorded somewhere else."""
    for queue in ("sales,north", "a^b", "x(1)", 'say"hi'):
        assert _recording(tmp_path).order(_call("c2", queue), AT) is None
    assert _recording(tmp_path / "my recordings").order(_call("c3", "orders"), AT) is not None
