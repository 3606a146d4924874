"""Every sound the kernel itself plays, in one place: what a waiting caller hears and the tones
of the agents' feature codes. The ``ivr`` package reads it (public to feature packages) to check
and build the prompts a configuration needs; the daemon plays them."""

from __future__ import annotations

from collections.abc import Mapping

# Asterisk's core queue sounds, as app_queue.c plays them for its own announcements, plus the
# hotline's own prompts.
WAITING_SOUNDS: Mapping[str, str] = {
    "you_are": "queue-youarenext",
    "there_are": "queue-thereare",
    "calls_waiting": "queue-callswaiting",
    "hold_time": "queue-holdtime",
    "minutes": "queue-minutes",
    "thank_you": "queue-thankyou",
    "callback_offer": "hotline-callback-offer",  # "press 1 to be called back, keeping your place"
    "callback_booked": "hotline-callback-booked",
}
FEATURE_CODE_CONFIRM = "beep"  # core sounds shipped with Asterisk
# "an-error-has-occurred" is not in Debian's core sounds (shared README): beeperr is
FEATURE_CODE_ERROR = "beeperr"
