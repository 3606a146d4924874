"""Strings shared between the code and the dialplan: AGI route names and channel variables.

The dialplan in ``dialplan/`` (rendered by ``hotline dialplan render``) must use exactly these;
``hotline check-config`` verifies it. Keep every such string here and nowhere else.
"""

from __future__ import annotations

from typing import Final

# FastAGI script paths (the part after agi://host:port/), i.e. the route table's keys.
ROUTE_IVR: Final = "ivr"  # a customer call: menu, identification, queue, Dial to the agent
# softphone feature codes: ?action=login|logout|pause|unpause|wrapup-end|record-pause|record-resume
ROUTE_AGENT: Final = "agent"
ROUTE_CALLBACK: Final = "callback"  # an outbound call-back leg placed by the daemon
ROUTES: Final = (ROUTE_IVR, ROUTE_AGENT, ROUTE_CALLBACK)

# Channel variables the daemon sets on the caller's channel.
# HOTLINE_HANDLED=1 is set as soon as the daemon takes the call. Asterisk reports an AGI whose
# connection the kernel dropped (small backlog) as AGISTATUS=SUCCESS with no variables set
# (shared/asterisk README), so the dialplan must test this variable, not AGISTATUS alone.
VAR_HANDLED: Final = "HOTLINE_HANDLED"
VAR_CALL_ID: Final = "HOTLINE_CALL_ID"  # our call id, for the CDR and recordings
VAR_QUEUE: Final = "HOTLINE_QUEUE"  # queue chosen in the IVR; the fallback Queue() uses it
VAR_AGENT: Final = "HOTLINE_AGENT"  # agent id on the agent's leg (screen pop, recording)
VAR_RECORDING: Final = "HOTLINE_RECORDING"  # recording file path set when MixMonitor starts
# Set by the daemon's Originate (Variable header) on a call-back leg: the callbacks row id.
VAR_CALLBACK_ID: Final = "HOTLINE_CALLBACK_ID"
CHANNEL_VARIABLES: Final = (
    VAR_HANDLED,
    VAR_CALL_ID,
    VAR_QUEUE,
    VAR_AGENT,
    VAR_RECORDING,
    VAR_CALLBACK_ID,
)

# Dialplan contexts rendered into extensions.conf.
CONTEXT_HOTLINE: Final = "hotline"  # inbound customer calls
CONTEXT_AGENTS: Final = "hotline-agents"  # agent softphones: feature codes and agent endpoints
CONTEXT_FALLBACK: Final = "hotline-fallback"  # plain Queue() when the daemon did not take the call
CONTEXT_CALLBACK: Final = "hotline-callback"  # the answered customer leg of a call-back

# Asterisk's own variables read by the dialplan / daemon.
ASTERISK_AGISTATUS: Final = "AGISTATUS"  # SUCCESS | FAILURE | NOTFOUND | HANGUP
ASTERISK_DIALSTATUS: Final = "DIALSTATUS"  # ANSWER | NOANSWER | BUSY | CANCEL | CHANUNAVAIL | ...
ASTERISK_QUEUESTATUS: Final = "QUEUESTATUS"  # TIMEOUT | FULL | JOINEMPTY | LEAVEEMPTY | ...
