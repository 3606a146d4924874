"""Pausing the recording while the caller gives sensitive data (card number, codes).

The pause is a mute of the running MixMonitor (AMI ``MixMonitorMute``), so the file keeps its
timeline and the silence shows where the pause was. A pause the agent forgets to end would
leave the rest of the call unrecorded, so the policy resumes automatically after a limit.
Pure: the daemon sends the headers, asks ``resume_due(now)`` on its timer, and stores each
finished ``PauseRecord`` (``recordings.repository.save_pause``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_MAX_PAUSE_S = 120.0


def mixmonitor_mute_headers(channel: str, *, muted: bool) -> list[tuple[str, str]]:
    """Headers of AMI ``MixMonitorMute`` (the action name goes separately).

    apps/app_mixmonitor.c ``manager_mute_mixmonitor``: Direction is required (read, write or
    both; ``both`` mutes what the channel says and what it hears); State is required and any
    false value per ``ast_false`` ("0") clears the mute, "1" sets it.
    """
    return [("Channel", channel), ("Direction", "both"), ("State", "1" if muted else "0")]


@dataclass(frozen=True)
class PauseRecord:
    """One finished pause, for the ``recording_pauses`` table."""

    call_id: str
    channel: str
    paused_at: datetime
    resumed_at: datetime
    reason: str | None
    requested_by: str | None
    auto_resumed: bool


class RecordingPause:
    """Pause state of one call's recording. Time is always passed in."""

    def __init__(self, call_id: str, channel: str, *, max_pause_s: float = DEFAULT_MAX_PAUSE_S):
        if max_pause_s <= 0:
            raise ValueError("max_pause_s must be positive")
        self.call_id = call_id
        self.channel = channel
        self.max_pause = timedelta(seconds=max_pause_s)
        self._since: datetime | None = None
        self._reason: str | None = None
        self._by: str | None = None

    @property
    def paused(self) -> bool:
        return self._since is not None

    @property
    def resume_at(self) -> datetime | None:
        """When the policy will resume on its own; None while recording."""
        return None if self._since is None else self._since + self.max_pause

    def pause(
        self, now: datetime, *, reason: str | None = None, by: str | None = None
    ) -> list[tuple[str, str]] | None:
        """Mute headers to send, or None when already paused (the limit is not extended:
        pressing pause again must not keep a call unrecorded indefinitely)."""
        if self._since is not None:
            return None
        self._since, self._reason, self._by = now, reason, by
        return mixmonitor_mute_headers(self.channel, muted=True)

    def resume(self, now: datetime) -> tuple[list[tuple[str, str]], PauseRecord] | None:
        """Unmute headers and the finished pause, or None when not paused."""
        return self._finish(now, auto=False)

    def resume_due(self, now: datetime) -> tuple[list[tuple[str, str]], PauseRecord] | None:
        """Resume automatically if the limit has passed at ``now``; else None."""
        at = self.resume_at
        if at is None or now < at:
            return None
        # Stamped with ``now``: the recording really stayed muted until the timer fired.
        return self._finish(now, auto=True)

    def call_ended(self, now: datetime) -> PauseRecord | None:
        """The call ended while paused: close the pause without an action (no channel left)."""
        finished = self._finish(now, auto=False)
        return None if finished is None else finished[1]

    def _finish(
        self, at: datetime, *, auto: bool
    ) -> tuple[list[tuple[str, str]], PauseRecord] | None:
        if self._since is None:
            return None
        record = PauseRecord(
            call_id=self.call_id,
            channel=self.channel,
            paused_at=self._since,
            resumed_at=at,
            reason=self._reason,
            requested_by=self._by,
            auto_resumed=auto,
        )
        self._since = self._reason = self._by = None
        return mixmonitor_mute_headers(self.channel, muted=False), record
