"""The Asterisk device behind an agent's dial string, as device states and app_queue name it.

``PJSIP/1001`` is its own device. A Local endpoint ``Local/1001@agent-phones/n`` is the device
``Local/1001@agent-phones``: the ``/n`` option is not part of the device name. Recorded on a real
Asterisk (shared/asterisk README, gotcha "DeviceStateChange for a Local endpoint names the device
without the /n option"); main/core_local.c ``local_devicestate`` strips the options the same way
before looking the extension up.
"""

from __future__ import annotations


def device_of(endpoint: str) -> str:
    """``Local/<exten>@<context>[/<options>]`` -> ``Local/<exten>@<context>``; others unchanged.

    Only a ``/`` after the ``@`` starts the options: an extension may itself contain ``/``
    (core_local.c looks for the options in the context part only).
    """
    if not endpoint.startswith("Local/"):
        return endpoint
    exten, at, context = endpoint.partition("@")
    if not at:
        return endpoint
    return f"{exten}@{context.split('/', 1)[0]}"


def channel_device(channel: str) -> str:
    """The device a channel is on: ``PJSIP/1001-0000001a`` -> ``PJSIP/1001``,
    ``Local/agent2@agents-000001ac;1`` -> ``Local/agent2@agents`` (both halves of a Local
    channel). Names as recorded (shared/asterisk transcripts, ami_events_full_call.txt): the
    channel technology's ``-<sequence>`` suffix, and ``;1``/``;2`` for Local."""
    name = channel.rsplit(";", 1)[0] if channel.startswith("Local/") else channel
    device, dash, _sequence = name.rpartition("-")
    return device if dash else name
