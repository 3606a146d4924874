"""The caller's place in the Dial's pre-dial handler and the recording in its Gosub at the answer
(``CallRecording.order``, ``acd.daemon.predial``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from acd.daemon.call_state import CallState, Leg
from acd.daemon.call_steps import Arrival
from acd.daemon.predial import Place, answer_option, predial_option
from acd.daemon.recording import CallRecording, RecordingSettings
from acd.daemon.resume_data import Resume
from acd.sim.app_dial import dial_options
from acd.storage.commands import InsertRecording, WriteCommand
from recordings import catalogue
from tests.recordings.conftest import write_wav

AT = 1_796_400_000.0  # 2026-12-04 UTC


def _call(call_id: str, queue: str) -> CallState:
    arrival = Arrival(call_id, call_id, "Local/x", "5550100", None, AT)
    return replace(CallState(arrival), queue=queue)


def _recording(root: Path, *, dual: bool = True) -> CallRecording:
    return CallRecording(catalogue, lambda _w: None, RecordingSettings(root, dual_channel=dual))


def test_the_order_names_the_file_and_mixmonitors_options(tmp_path: Path) -> None:
    order = _recording(tmp_path).order(_call("1796400000.7", "orders"), AT)
    assert order is not None
    wav = tmp_path / "2026/12/04/orders/1796400000.7.wav"
    assert order.path == str(wav)
    stem = str(wav)[: -len(".wav")]
    # on the agent's channel: read (r) is the agent's voice, write (t) the caller's
    assert order.options == f"br({stem}-out.wav)t({stem}-in.wav)"
    assert CallRecording.confirmed(order, str(wav))
    assert not CallRecording.confirmed(order, "")
    one = _recording(tmp_path, dual=False).order(_call("c1", "orders"), AT)
    assert one is not None
    assert one.options == "b"


def test_each_answered_leg_is_ordered_its_own_file(tmp_path: Path) -> None:
    """After a transfer the next agent's conversation goes to a file of its own (the first
    leg's MixMonitor ended with that agent's channel)."""
    call = _call("c7", "orders")
    first = _recording(tmp_path).order(call, AT)
    answered = replace(call, legs=(Leg("1001", "orders", AT, AT + 60, recording="x"),))
    second = _recording(tmp_path).order(answered, AT)
    assert first is not None
    assert second is not None
    assert first.path == str(tmp_path / "2026/12/04/orders/c7.wav")
    assert second.path == str(tmp_path / "2026/12/04/orders/c7-2.wav")
    assert not CallRecording.confirmed(second, first.path)  # a GOSUB_RETVAL left by leg 1


def test_the_dial_options_carry_the_place_and_the_recording(tmp_path: Path) -> None:
    order = _recording(tmp_path).order(_call("c1", "orders"), AT)
    assert order is not None
    place = Place("orders", 5, 1_796_400_001.25)
    assert predial_option(None) == ""
    assert answer_option(None) == ""
    assert predial_option(place) == "B(hotline-predial^place^1(orders^5^1796400001.250))"
    answer = answer_option(order)
    assert answer == f"U(hotline-answer^{order.path}^{order.options})"
    # what app_dial's option parser (parentheses nest) hands to each Gosub, ^ standing for ,
    both = dial_options(predial_option(place) + answer)
    assert both["B"] == "hotline-predial^place^1(orders^5^1796400001.250)"
    assert both["U"] == f"hotline-answer^{order.path}^{order.options}"


def test_values_the_option_cannot_carry_stay_out_of_it(tmp_path: Path) -> None:
    """A queue named with a comma (or ^, parentheses, a quote): Gosub would split the file
    name, so the call is not recorded rather than recorded somewhere else; such a place, or
    one MSet cannot carry (=, a space), goes on the channel with its own command."""
    for queue in ("sales,north", "a^b", "x(1)", 'say"hi'):
        assert _recording(tmp_path).order(_call("c2", queue), AT) is None
        assert not Place(queue, 5, AT).travels()
    assert _recording(tmp_path / "my recordings").order(_call("c3", "orders"), AT) is not None
    assert not Place("a=b", 5, AT).travels()
    assert not Place("two words", 5, AT).travels()
    assert Place("after-sales", 7, AT).travels()


def test_a_resumed_call_numbers_its_legs_past_any_an_earlier_daemon_had(tmp_path: Path) -> None:
    """A transferred caller whose daemon died while they waited is resumed by another, which
    cannot know how many legs the first answered: it numbers from past them (attempt x 100),
    so its recording never truncates theirs; the catalogue gives the same number."""
    resume = Resume("c8", "orders", 5, AT, AT, attempt=1)
    call = replace(_call("c8", "orders"), leg_base=resume.leg_base)
    order = _recording(tmp_path).order(call, AT)
    assert order is not None
    assert order.path == str(tmp_path / "2026/12/04/orders/c8-101.wav")
    assert order.path != str(tmp_path / "2026/12/04/orders/c8.wav")  # the first daemon's leg 1
    written: list[WriteCommand] = []
    recording = CallRecording(catalogue, written.append, RecordingSettings(tmp_path))
    Path(order.path).parent.mkdir(parents=True)
    write_wav(Path(order.path), [("tone", 1.0)])
    answered = replace(call, legs=(Leg("1001", "orders", AT, AT + 9, recording=order.path),))
    assert asyncio.run(recording.catalogue(answered)) == "c8-101"
    (stored,) = written
    assert isinstance(stored, InsertRecording)
    assert (stored.recording_id, stored.path) == ("c8-101", order.path)
