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
# a caller whose daemon session ended before the daemon finished with them (the daemon died):
# ?key=...,<call id>,<queue>,<priority>,<place since>,<arrived>,<attempt> (see VAR_DONE)
ROUTE_RESUME: Final = "resume"
ROUTES: Final = (ROUTE_IVR, ROUTE_AGENT, ROUTE_CALLBACK, ROUTE_RESUME)
# ?answered=1: the rendered dialplan: it answered the channel before AGI(), so the daemon sends
# no ANSWER, and its [hotline-resume] ends a caller on DIALSTATUS=ANSWER, so the daemon sets no
# HOTLINE_DONE after an answered last Dial. Without it (a dialplan of one's own) it does both.
QUERY_ANSWERED: Final = "answered=1"

# Channel variables the daemon sets on the caller's channel.
# HOTLINE_DONE=1 is set only when the call flow has finished with the caller (self-served,
# call-back booked, closed; a conversation over only without ?answered=1). Asterisk ends AGI()
# with AGISTATUS=SUCCESS and keeps every variable when the FastAGI server dies (RECORDED q2_*),
# and also reports a connection the kernel dropped as SUCCESS (shared/asterisk README): without
# HOTLINE_DONE (or DIALSTATUS=ANSWER), the dialplan resumes the caller at a daemon
# ([hotline-resume]) and then falls back to the plain Queue().
VAR_DONE: Final = "HOTLINE_DONE"
VAR_CALL_ID: Final = "HOTLINE_CALL_ID"  # our call id, for the CDR and recordings
VAR_QUEUE: Final = "HOTLINE_QUEUE"  # queue chosen in the IVR; the fallback Queue() uses it
VAR_AGENT: Final = "HOTLINE_AGENT"  # agent id on the agent's leg (screen pop, recording)
# Set by the daemon's Originate (Variable header) on a call-back leg: the callbacks row id.
VAR_CALLBACK_ID: Final = "HOTLINE_CALLBACK_ID"
# What a resuming daemon needs, set when the caller is queued: the caller's priority (also the
# fallback Queue()'s QUEUE_PRIO), the time their place in the queue dates from and when they
# arrived (epoch seconds).
VAR_PRIORITY: Final = "HOTLINE_PRIORITY"
VAR_SINCE: Final = "HOTLINE_SINCE"
VAR_ARRIVED: Final = "HOTLINE_ARRIVED"
VAR_RESUMES: Final = "HOTLINE_RESUMES"  # set by the dialplan: resume attempts so far
# Set by the daemon over AMI (Setvar) on the caller's channel just before it hangs up the agent's
# leg of a transfer: that leg's channel. The Dial then returns DIALSTATUS=ANSWER with
# DIALEDPEERNAME equal to it, which [hotline-resume] reads as "transferred, not finished" should
# the daemon die before it queues the caller again; a later answered Dial names another peer.
VAR_TRANSFERRED: Final = "HOTLINE_TRANSFERRED"
# A dialplan function, written like a variable (main/pbx_variables.c pbx_builtin_setvar_helper
# hands a name ending in ")" to ast_func_write, for SET VARIABLE and MSet alike): the caller's
# language, which SAY DIGITS and sounds played by plain name follow (funcs/func_channel.c).
CHANNEL_LANGUAGE: Final = "CHANNEL(language)"
CHANNEL_VARIABLES: Final = (
    VAR_DONE,
    VAR_CALL_ID,
    VAR_QUEUE,
    VAR_AGENT,
    VAR_CALLBACK_ID,
    VAR_PRIORITY,
    VAR_SINCE,
    VAR_ARRIVED,
    VAR_RESUMES,
    VAR_TRANSFERRED,
)

# Dialplan contexts rendered into extensions.conf.
CONTEXT_HOTLINE: Final = "hotline"  # inbound customer calls
CONTEXT_AGENTS: Final = "hotline-agents"  # agent softphones: feature codes and agent endpoints
CONTEXT_FALLBACK: Final = "hotline-fallback"  # plain Queue() when the daemon did not take the call
CONTEXT_CALLBACK: Final = "hotline-callback"  # the answered customer leg of a call-back
CONTEXT_RESUME: Final = "hotline-resume"  # after every daemon AGI(): done, resume or fallback
# Dial's B() pre-dial handler on the caller's channel: the caller's place, with no FastAGI round
# trip of its own (acd.daemon.predial)
CONTEXT_PREDIAL: Final = "hotline-predial"
# Dial's U() Gosub on the agent's leg once it answers, before the bridge: the call's recording
# (acd.daemon.predial). It sets GOSUB_RESULT to this word, which app_dial acts on as on no other
# (it bridges the call) but copies the Gosub's Return() value to the caller as GOSUB_RETVAL.
CONTEXT_ANSWER: Final = "hotline-answer"
GOSUB_RESULT_RECORDING: Final = "RECORDING"
# How many times a caller the daemon did not finish is offered to a daemon again (the other
# address first) before the fallback Queue(); a refused connection waits this long before the
# next attempt (a standby takes over, a daemon restarts), with music rather than silence. Six
# attempts 2 s apart give a daemon restarted in place ~10 s (measured on a real Asterisk: a
# SIGKILLed daemon restarted at once took longer than the 2 s three 1 s attempts gave it).
RESUME_ATTEMPTS: Final = 6
RESUME_RETRY_WAIT_S: Final = 2

# Asterisk's own variables read by the dialplan / daemon.
ASTERISK_AGISTATUS: Final = "AGISTATUS"  # SUCCESS | FAILURE | NOTFOUND | HANGUP
ASTERISK_DIALSTATUS: Final = "DIALSTATUS"  # ANSWER | NOANSWER | BUSY | CANCEL | CHANUNAVAIL | ...
# the answered peer's channel, set by app_dial at the answer (RECORDED q11_dial_answer_gosub)
ASTERISK_DIALEDPEERNAME: Final = "DIALEDPEERNAME"
ASTERISK_QUEUESTATUS: Final = "QUEUESTATUS"  # TIMEOUT | FULL | JOINEMPTY | LEAVEEMPTY | ...
ASTERISK_QUEUE_PRIO: Final = "QUEUE_PRIO"  # read by Queue(): higher goes first (RECORDED q6)
