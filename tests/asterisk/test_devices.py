"""The device behind an agent's dial string and behind a channel, as Asterisk names them."""

from __future__ import annotations

import pytest

from acd.asterisk.devices import channel_device, device_of


@pytest.mark.parametrize(
    ("channel", "device"),
    [
        ("PJSIP/1001-0000001a", "PJSIP/1001"),
        # recorded (ami_events_full_call.txt): both halves of a Local channel
        ("Local/agent2@agents-000001ac;1", "Local/agent2@agents"),
        ("Local/agent2@agents-000001ac;2", "Local/agent2@agents"),
        ("Local/5550200@caller-sim-000001aa;2", "Local/5550200@caller-sim"),
        ("PJSIP/trunk-a-00000002", "PJSIP/trunk-a"),
        ("Message/ast_msg_queue", "Message/ast_msg_queue"),
    ],
)
def test_channel_device(channel: str, device: str) -> None:
    assert channel_device(channel) == device


def test_an_agents_channel_is_on_its_endpoints_device() -> None:
    assert channel_device("Local/1003@agent-phones-000001b7;1") == device_of(
        "Local/1003@agent-phones/n"
    )
